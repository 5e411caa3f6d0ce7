// Pricing hot path: ns per `price()` call, median of several rounds; and the cost of a first call
// (cold resolution of a (provider, model) pair). Run: npx tsx bench/pricing.ts  (about 10 s)
import { createPricer, pricingConfigSchema } from '../src/pricing/index.ts';
import type { Pricer } from '../src/pricing/index.ts';
import { usage } from '../src/domain/usage.ts';
import type { Usage } from '../src/domain/usage.ts';

const ROUNDS = 7;
const OPS_PER_ROUND = 200_000;
const COLD_SAMPLES = 300;
const AT = Date.UTC(2026, 1, 1); // before claude-opus-4-6's 2026-03-13 change: dated and tiered

const config = pricingConfigSchema.parse({
  discounts: [
    { provider: 'anthropic', percent: 20, from: '2026-01-01' },
    { provider: 'openai', model: 'gpt-4o*', percent: 12.5, from: '2027-01-01' },
  ],
});

// A few usages so no call is a repeat of the last; the tiered case stays above its 200k cliff.
const small: Usage[] = [0, 1, 2, 3].map((i) => usage({ inputTokens: 1200 + i, cacheReadTokens: 3400, outputTokens: 900 + i, reasoningTokens: 100 }));
const large: Usage[] = [0, 1, 2, 3].map((i) => usage({ inputTokens: 250_000 + i, cacheReadTokens: 20_000, cacheWrite1hTokens: 1000, outputTokens: 4000 + i }));

let sink = 0n; // keeps results alive

function hot(pricer: Pricer, provider: string, model: string, usages: Usage[]): number {
  for (let i = 0; i < 1000; i++) sink += pricer.price(provider, model, usages[i & 3] ?? small[0]!, AT).listNano; // warm up + resolve
  const perOp: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < OPS_PER_ROUND; i++) sink += pricer.price(provider, model, usages[i & 3]!, AT + i).effectiveNano;
    perOp.push(Number(process.hrtime.bigint() - t0) / OPS_PER_ROUND);
  }
  return median(perOp);
}

/** First call on a fresh pricer: memo empty, compiled sheets (module-level caches) already warm. */
function cold(provider: string, model: string): number {
  const samples: number[] = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    const pricer = createPricer(config);
    const t0 = process.hrtime.bigint();
    sink += pricer.price(provider, model, small[0]!, AT).listNano;
    samples.push(Number(process.hrtime.bigint() - t0));
  }
  return median(samples);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const veryFirst = (() => {
  const t0 = process.hrtime.bigint();
  sink += createPricer(config).price('anthropic', 'claude-sonnet-4-5', small[0]!, AT).listNano;
  return Number(process.hrtime.bigint() - t0);
})();

const pricer = createPricer(config);
const rows: [string, string, number][] = [
  ['(a) catalog hit, flat price', 'openai / gpt-4o', hot(pricer, 'openai', 'gpt-4o', small)],
  ['(b) dated + long-context tier', 'anthropic / claude-opus-4-6 @ >200k', hot(pricer, 'anthropic', 'claude-opus-4-6', large)],
  ['(b) time-of-day window', 'deepseek / deepseek-v4-flash', hot(pricer, 'deepseek', 'deepseek-v4-flash', small)],
  ['(c) with a 20% discount', 'anthropic / claude-haiku-4-5', hot(pricer, 'anthropic', 'claude-haiku-4-5', small)],
  ['(d) unknown model (unpriced)', 'acme / mystery-model', hot(pricer, 'acme', 'mystery-model', small)],
  ['cold: catalog model', 'anthropic / claude-haiku-4-5', cold('anthropic', 'claude-haiku-4-5')],
  ['cold: via fallback provider', 'azure / gpt-4o', cold('azure', 'gpt-4o')],
  ['cold: unknown in a big provider', 'openrouter / no-such-model', cold('openrouter', 'no-such-model')],
  ['cold: unknown provider and model', 'acme / mystery-model', cold('acme', 'mystery-model')],
  ['very first call in the process', 'anthropic / claude-sonnet-4-5', veryFirst],
];

const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))] as const;
console.log(`node ${process.version}; hot: median of ${ROUNDS} rounds × ${OPS_PER_ROUND} calls; cold: median of ${COLD_SAMPLES} fresh pricers\n`);
console.log(`${'case'.padEnd(w[0])}  ${'provider / model'.padEnd(w[1])}  ${'ns/op'.padStart(10)}`);
console.log(`${'-'.repeat(w[0])}  ${'-'.repeat(w[1])}  ${'-'.repeat(10)}`);
for (const [name, target, ns] of rows) console.log(`${name.padEnd(w[0])}  ${target.padEnd(w[1])}  ${Math.round(ns).toLocaleString('en-US').padStart(10)}`);
if (sink < 0n) console.log(sink); // never true; stops the calls being optimised away
