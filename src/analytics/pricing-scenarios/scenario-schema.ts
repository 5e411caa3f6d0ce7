/**
 * A pricing scenario file: a name and a list of changes to what the ledger's usage would cost.
 * Four kinds, each an object with one key:
 *
 *   - multiply:  { provider, model?, factor, from? }      list prices × factor from a date
 *   - prices:    { provider, model, from?, input_mtok, output_mtok, … }   a new price table from a date
 *   - escalator: { provider, model?, tiers: [{ above_mtok_per_month, factor }] }   unit price rises with monthly volume
 *   - commit:    { provider, monthly_usd | annual_usd, discount_pct }   committed-use discount
 *
 * Parsed with zod into exact integers: factors as rationals over 1e9, prices as nano-USD per MTok,
 * thresholds as tokens, amounts as nano-USD. Dates are UTC.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { TollgateError } from '../../domain/errors.ts';
import { divRound, parseDecimal, perMTok, usdToNano } from '../../domain/money.ts';
import { globToRegExp } from '../../pricing/discounts.ts';
import { CUSTOM_PRICE_KEYS, parseUtcInstant } from '../../pricing/index.ts';

/** An exact positive rational: `num / den`. */
export interface Factor {
  readonly num: bigint;
  readonly den: bigint;
}

/** Factors are decimals with at most nine places: `num / 1e9`. */
const FACTOR_DEN = 1_000_000_000n;

interface Target {
  /** Lower-case provider id the call was made through (`anthropic`, `openai`, …). */
  readonly provider: string;
  /** Lower-case model glob as written (`*`, `?`), or null for every model of the provider. */
  readonly model: string | null;
  /** Whether a served model name (or its catalog id) is the target's. */
  readonly matches: (names: readonly string[]) => boolean;
}

export interface MultiplyChange extends Target {
  readonly kind: 'multiply';
  /** Position in the file, from 0. */
  readonly index: number;
  readonly factor: Factor;
  /** Inclusive epoch ms; -Infinity when the file gives no `from`. */
  readonly fromMs: number;
}

export interface PricesChange extends Target {
  readonly kind: 'prices';
  readonly index: number;
  readonly fromMs: number;
  /** Price key (as in the catalog, e.g. `input_mtok`) → nano-USD per million tokens (per thousand requests for `requests_kcount`). */
  readonly prices: Readonly<Record<string, bigint>>;
}

export interface EscalatorTier {
  /** The tier's factor applies to tokens beyond this many in the calendar month. */
  readonly aboveTokens: bigint;
  readonly factor: Factor;
}

export interface EscalatorChange extends Target {
  readonly kind: 'escalator';
  readonly index: number;
  /** Ascending thresholds. */
  readonly tiers: readonly EscalatorTier[];
}

export interface CommitChange {
  readonly kind: 'commit';
  readonly index: number;
  readonly provider: string;
  /** The commitment renews every UTC calendar month or year. */
  readonly period: 'month' | 'year';
  /** What is paid per period at least, nano-USD. */
  readonly amountNano: bigint;
  /** Discount on usage the commitment covers, basis points (2000 = 20 %), below 10 000. */
  readonly discountBp: number;
}

export type PriceTableChange = MultiplyChange | PricesChange;
export type ScenarioChange = PriceTableChange | EscalatorChange | CommitChange;

export interface Scenario {
  readonly name: string;
  readonly description: string | null;
  readonly changes: readonly ScenarioChange[];
}

const decimal = (what: string, places: number, check: (v: bigint) => string | null) =>
  z.union([z.number(), z.string()], { error: `${what} must be a number` }).transform((v, ctx) => {
    let scaled: bigint;
    try {
      scaled = parseDecimal(v, places);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${what} ${JSON.stringify(v)} must be a decimal number with at most ${places} decimal places` });
      return z.NEVER;
    }
    const problem = check(scaled);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: `${what} ${JSON.stringify(v)} ${problem}` });
      return z.NEVER;
    }
    return scaled;
  });

const factor = decimal('factor', 9, (v) => (v > 0n ? null : 'must be greater than 0')).transform((num): Factor => ({ num, den: FACTOR_DEN }));

const price = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    const nano = perMTok(v);
    if (nano >= 0n) return nano;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: `price ${JSON.stringify(v)} must be a non-negative number of USD with at most 9 decimal places` });
  return z.NEVER;
});

// YAML 1.2 (the yaml package's default) yields strings for dates; a YAML 1.1 loader yields Date objects.
const instant = z.union([z.string(), z.date()], { error: 'from must be a date such as 2026-11-01' }).transform((v, ctx) => {
  const ms = typeof v === 'string' ? parseUtcInstant(v) : v.getTime();
  if (ms === null || Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `not an ISO date or date-time (UTC): ${JSON.stringify(v)}; write e.g. 2026-11-01 or 2026-11-01T09:30:00Z` });
    return z.NEVER;
  }
  return ms;
});

const name = z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').toLowerCase();

const allowed = (what: string, keys: readonly string[]) => ({
  error: (iss: { code: string; keys?: string[] }) =>
    iss.code === 'unrecognized_keys' ? `unknown field ${iss.keys?.map((k) => JSON.stringify(k)).join(', ')} in ${what} (allowed: ${keys.join(', ')})` : undefined,
});

const PRICE_FIELDS = ['provider', 'model', 'from', ...CUSTOM_PRICE_KEYS] as const;

const multiply = z.strictObject(
  { provider: name, model: name.optional(), factor, from: instant.optional() },
  allowed('multiply', ['provider', 'model', 'factor', 'from']),
);

const prices = z.strictObject(
  {
    provider: name,
    model: name,
    from: instant.optional(),
    input_mtok: price,
    output_mtok: price,
    cache_read_mtok: price.optional(),
    cache_write_mtok: price.optional(),
    cache_write_1h_mtok: price.optional(),
    output_reasoning_mtok: price.optional(),
    requests_kcount: price.optional(),
  },
  allowed('prices', PRICE_FIELDS),
);

const tier = z.strictObject(
  {
    above_mtok_per_month: decimal('above_mtok_per_month', 6, (v) => (v >= 0n ? null : 'must not be negative')),
    factor,
  },
  allowed('an escalator tier', ['above_mtok_per_month', 'factor']),
);

const escalator = z
  .strictObject({ provider: name, model: name.optional(), tiers: z.array(tier).min(1, 'an escalator needs at least one tier') }, allowed('escalator', ['provider', 'model', 'tiers']))
  .superRefine((e, ctx) => {
    e.tiers.forEach((t, i) => {
      const prev = e.tiers[i - 1];
      if (prev && t.above_mtok_per_month <= prev.above_mtok_per_month) {
        ctx.addIssue({ code: 'custom', path: ['tiers', i], message: 'tiers must be in increasing order of above_mtok_per_month' });
      }
    });
  });

const usd = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    const nano = usdToNano(v);
    if (nano > 0n) return nano;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: `amount ${JSON.stringify(v)} must be a positive amount of USD, e.g. 5000 or "$5,000.00"` });
  return z.NEVER;
});

const commit = z
  .strictObject(
    {
      provider: name,
      monthly_usd: usd.optional(),
      annual_usd: usd.optional(),
      discount_pct: decimal('discount_pct', 2, (v) => (v >= 0n && v < 10_000n ? null : 'must be at least 0 and below 100')),
    },
    allowed('commit', ['provider', 'monthly_usd', 'annual_usd', 'discount_pct']),
  )
  .superRefine((c, ctx) => {
    if ((c.monthly_usd === undefined) === (c.annual_usd === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a commit needs exactly one of monthly_usd or annual_usd' });
    }
  });

const KINDS = ['multiply', 'prices', 'escalator', 'commit'] as const;

const change = z
  .strictObject(
    { multiply: multiply.optional(), prices: prices.optional(), escalator: escalator.optional(), commit: commit.optional() },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? `a change has exactly one key, one of ${KINDS.join(', ')}; got ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}` : `a change is an object with one key: ${KINDS.join(', ')}`) },
  )
  .superRefine((c, ctx) => {
    const keys = KINDS.filter((k) => c[k] !== undefined);
    if (keys.length !== 1) ctx.addIssue({ code: 'custom', message: `a change has exactly one key, one of ${KINDS.join(', ')}; got ${keys.map((k) => JSON.stringify(k)).join(', ') || 'none'}` });
  });

const scenarioSchema = z.strictObject(
  {
    name: z.string({ error: 'name is required: what the scenario is, e.g. "Anthropic doubles prices"' }).trim().min(1, 'name must not be empty'),
    description: z.string().trim().optional(),
    changes: z.array(change, { error: 'changes must be a list' }).min(1, 'a scenario needs at least one change'),
  },
  allowed('the scenario', ['name', 'description', 'changes']),
);

/** Reads a scenario file's text; errors name the file and every problem, on one line. */
export function parseScenario(text: string, source: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new TollgateError('invalid_request', `${source}${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const parsed = scenarioSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') + ': ' : ''}${i.message}`);
    throw new TollgateError('invalid_request', `${source}: invalid scenario: ${problems.join('; ')}`);
  }
  const changes = parsed.data.changes.map((c, index): ScenarioChange => {
    if (c.multiply) return { kind: 'multiply', index, ...target(c.multiply.provider, c.multiply.model), factor: c.multiply.factor, fromMs: c.multiply.from ?? -Infinity };
    if (c.prices) {
      const { provider, model, from, ...table } = c.prices;
      const priced = Object.fromEntries(Object.entries(table).filter((e): e is [string, bigint] => e[1] !== undefined));
      return { kind: 'prices', index, ...target(provider, model), fromMs: from ?? -Infinity, prices: priced };
    }
    if (c.escalator) {
      const tiers = c.escalator.tiers.map((t) => ({ aboveTokens: t.above_mtok_per_month, factor: t.factor }));
      return { kind: 'escalator', index, ...target(c.escalator.provider, c.escalator.model), tiers };
    }
    if (!c.commit) throw new TollgateError('internal', 'a scenario change without a kind passed validation');
    const { provider, monthly_usd, annual_usd, discount_pct } = c.commit;
    return { kind: 'commit', index, provider, period: monthly_usd === undefined ? 'year' : 'month', amountNano: monthly_usd ?? annual_usd ?? 0n, discountBp: Number(discount_pct) };
  });
  const clash = overlapping(changes);
  if (clash) throw new TollgateError('invalid_request', `${source}: invalid scenario: ${clash}`);
  return { name: parsed.data.name, description: parsed.data.description || null, changes };
}

function target(provider: string, model: string | undefined): Target {
  const glob = model ?? null;
  const re = glob === null ? null : globToRegExp(glob);
  return { provider, model: glob, matches: (names) => re === null || names.some((n) => re.test(n.toLowerCase())) };
}

/** Two terms for the same target would make their order matter: refuse, as the pricing config does for discounts. */
function overlapping(changes: readonly ScenarioChange[]): string | null {
  const seen = new Map<string, number>();
  for (const c of changes) {
    let key: string | null = null;
    if (c.kind === 'commit') key = `two commits for ${c.provider}`;
    if (c.kind === 'escalator') key = `two escalators for ${c.provider}/${c.model ?? '*'}`;
    if (c.kind === 'prices') key = `two price tables for ${c.provider}/${c.model ?? '*'} from ${Number.isFinite(c.fromMs) ? new Date(c.fromMs).toISOString() : 'the start'}`;
    if (key === null) continue;
    const first = seen.get(key);
    if (first !== undefined) return `changes.${c.index} and changes.${first} are ${key}; keep one`;
    seen.set(key, c.index);
  }
  return null;
}

/** `x × factor`, rounded half away from zero once. */
export function scaleBy(x: bigint, f: Factor): bigint {
  return divRound(x * f.num, f.den);
}

/** A factor as people write it: `×2.5`. */
export function formatFactor(f: Factor): string {
  const whole = f.num / f.den;
  const frac = (f.num % f.den).toString().padStart(f.den.toString().length - 1, '0').replace(/0+$/, '');
  return `×${whole}${frac ? '.' + frac : ''}`;
}

/** Product of factors (exact: denominators multiply). */
export function productOf(factors: readonly Factor[]): Factor {
  return factors.reduce((a, b) => ({ num: a.num * b.num, den: a.den * b.den }), { num: 1n, den: 1n });
}
