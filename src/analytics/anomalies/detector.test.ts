import { describe, expect, it } from 'vitest';
import { TollgateError } from '../../domain/errors.ts';
import { seededRandom } from '../../domain/seeded-random.ts';
import type { ScopeChain } from '../../domain/scope.ts';
import type { Finding, HourlySeed, Observation, Signal } from './contract.ts';
import { Detector } from './detector.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** Monday 5 January 2026, 00:00 UTC: live traffic starts here; history is the two weeks before. */
const T0 = Date.UTC(2026, 0, 5);
const PATH = 'acme/support/helpdesk/triage-bot';
const CHAIN: ScopeChain = {
  orgId: 'o1',
  orgName: 'acme',
  teamId: 't1',
  teamName: 'support',
  projectId: 'p1',
  projectName: 'helpdesk',
  agentId: 'a1',
  agentName: 'triage-bot',
};
const TOKENS = 2000;
/** nano-USD per token: $3 per million. */
const PRICE = 3000;

/** Calls per hour: 240 in the working day, 80 at night (UTC). */
function office(at: number): number {
  const h = new Date(at).getUTCHours();
  return h >= 8 && h < 20 ? 240 : 80;
}

type Rate = (at: number) => number;
type Shape = (at: number, i: number) => Partial<Observation>;

function poisson(rand: () => number, mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * (rand() + rand() + rand() - 1.5) * 2));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rand(); p > limit; p *= rand()) k += 1;
  return k;
}

/** Hourly rollup rows for the agent, its project and team, as the ledger would give at start-up. */
function history(rate: Rate, from: number, to: number, seed = 1): HourlySeed[] {
  const rand = seededRandom(seed);
  const rows: HourlySeed[] = [];
  for (let hour = from; hour < to; hour += HOUR) {
    const calls = poisson(rand, rate(hour + HOUR / 2));
    const tokens = calls * TOKENS;
    const costNano = tokens * PRICE;
    rows.push({ hour, tier: 'agent', scopeId: 'a1', path: PATH, costNano, tokens, calls });
    rows.push({ hour, tier: 'project', scopeId: 'p1', path: 'acme/support/helpdesk', costNano, tokens, calls });
    rows.push({ hour, tier: 'team', scopeId: 't1', path: 'acme/support', costNano, tokens, calls });
  }
  return rows;
}

interface Opened {
  at: number;
  finding: Finding;
}

/** Streams calls minute by minute and evaluates every minute, as the gateway's timer would. */
class Feed {
  readonly opened: Opened[] = [];
  readonly resolved: { at: number; signal: Signal; path: string }[] = [];
  private readonly rand: () => number;
  private n = 0;

  constructor(
    readonly detector: Detector,
    seed = 7,
  ) {
    this.rand = seededRandom(seed);
  }

  run(from: number, to: number, rate: Rate, shape?: Shape): this {
    for (let t = from; t < to; t += MINUTE) {
      const calls = poisson(this.rand, rate(t) / 60);
      for (let k = 0; k < calls; k++) {
        const i = this.n++;
        const at = t + this.rand() * MINUTE;
        // Tasks of three calls share a trace id; every prompt is different.
        this.detector.observe({ at, chain: CHAIN, model: 'claude-sonnet-4-5', costNano: TOKENS * PRICE, tokens: TOKENS, traceId: `task-${Math.floor(i / 3)}`, fingerprint: `p-${i}`, ...shape?.(at, i) });
      }
      const e = this.detector.evaluate(t + MINUTE);
      for (const f of e.opened) this.opened.push({ at: t + MINUTE, finding: f });
      for (const r of e.resolved) this.resolved.push({ at: r.at, signal: r.signal, path: r.path });
    }
    return this;
  }

  of(signal: Signal, path = PATH): Opened[] {
    return this.opened.filter((o) => o.finding.signal === signal && o.finding.path === path);
  }
}

/** A detector primed with two weeks of `rate` and one live day of it (Monday). */
function primed(rate: Rate = office, seed = 1): Feed {
  const d = new Detector();
  d.seed(history(rate, T0 - 2 * WEEK, T0, seed));
  return new Feed(d, seed + 100).run(T0, T0 + DAY, rate);
}

const comparison = (f: Finding, measure: string) => f.comparisons.find((c) => c.measure === measure)!;

describe('Detector signals', () => {
  it('steady office traffic raises nothing', () => {
    const feed = primed();
    feed.run(T0 + DAY, T0 + 3 * DAY, office);
    expect(feed.opened.map((o) => o.finding.summary)).toEqual([]);
  });

  it('spend spike: five times the calls for two hours opens on the agent within the hour, with its evidence', () => {
    const feed = primed();
    const start = T0 + DAY + 10 * HOUR;
    feed.run(T0 + DAY, start, office).run(start, start + 2 * HOUR, (at) => 5 * office(at));
    const [hit, ...more] = feed.of('spend_spike');
    expect(more).toEqual([]);
    expect(hit!.at - start).toBeLessThanOrEqual(HOUR);
    const f = hit!.finding;
    expect(f.tier).toBe('agent');
    const spend = comparison(f, 'spend_per_hour');
    expect(spend.current).toBeGreaterThan(spend.band);
    expect(spend.band).toBeGreaterThan(spend.baseline);
    // Opened as soon as a window cleared the band: at least the configured 2x.
    expect(spend.current / spend.baseline).toBeGreaterThanOrEqual(2);
    expect(f.atRiskNanoPerHour).toBeGreaterThan(0);
    expect(f.topModels[0]!.model).toBe('claude-sonnet-4-5');
    expect(f.summary).toContain(PATH);
    expect(f.summary).toMatch(/Spend spike/);
    // The agent explains it: its project and team do not raise the same alert, and it is not called a loop.
    expect(feed.opened.filter((o) => o.finding.path !== PATH)).toEqual([]);
    expect(feed.of('runaway_loop')).toEqual([]);
  });

  it('price/mix shift: the same tokens on a model twice the price', () => {
    const feed = primed();
    const start = T0 + DAY + 9 * HOUR;
    feed.run(T0 + DAY, start, office).run(start, start + 4 * HOUR, office, () => ({ model: 'claude-opus-4-1', costNano: TOKENS * PRICE * 2 }));
    const [hit] = feed.of('price_mix_shift');
    expect(hit!.at - start).toBeLessThanOrEqual(HOUR);
    const f = hit!.finding;
    const spend = comparison(f, 'spend_per_hour');
    // What these tokens cost against what they usually cost: past the 1.3x band, at most the 2x shift.
    expect(spend.current / spend.baseline).toBeGreaterThanOrEqual(1.3);
    expect(spend.current / spend.baseline).toBeLessThanOrEqual(2.05);
    const tokens = comparison(f, 'tokens_per_hour');
    expect(tokens.current).toBeLessThan(tokens.band);
    expect(f.topModels.map((m) => m.model)).toContain('claude-opus-4-1');
    expect(f.summary).toMatch(/Price\/mix shift on agent acme\/support\/helpdesk\/triage-bot: \$\d+\.\d+\/MTok against a usual \$3\.00/);
  });

  it('prompt bloat: four times the tokens per request', () => {
    const feed = primed();
    const start = T0 + DAY + 14 * HOUR;
    feed.run(T0 + DAY, start, office).run(start, start + 3 * HOUR, office, () => ({ tokens: 4 * TOKENS, costNano: 4 * TOKENS * PRICE }));
    const [hit] = feed.of('prompt_bloat');
    expect(hit!.at - start).toBeLessThanOrEqual(30 * MINUTE);
    const tpr = comparison(hit!.finding, 'tokens_per_request');
    expect(tpr.baseline).toBeCloseTo(TOKENS, -1);
    expect(tpr.band).toBeCloseTo(3 * TOKENS, -1);
    expect(tpr.current).toBeGreaterThanOrEqual(tpr.band);
    expect(tpr.current).toBeLessThanOrEqual(4.1 * TOKENS);
    // Bloat explains the spend: no separate spend spike.
    expect(feed.of('spend_spike')).toEqual([]);
  });

  it('runaway loop: one trace calling every 2 seconds with the same prompt, within 15 minutes', () => {
    const feed = primed();
    const start = T0 + DAY + 3 * HOUR;
    feed.run(T0 + DAY, start, office);
    const loop: Rate = (at) => office(at) + 1800;
    feed.run(start, start + HOUR, loop, (at, i) => (i % 9 === 0 ? {} : { traceId: 'stuck-task', fingerprint: 'same-prompt' }));
    const [hit] = feed.of('runaway_loop');
    expect(hit!.at - start).toBeLessThanOrEqual(15 * MINUTE);
    const f = hit!.finding;
    expect(f.topTraces[0]!.traceId).toBe('stuck-task');
    expect(f.topTraces[0]!.calls).toBeGreaterThan(50);
    expect(f.summary).toMatch(/same prompt was sent \d+ times since/);
  });

  it('silent stop: steady traffic dropping to zero opens, and resolves once calls come back', () => {
    const feed = primed();
    const start = T0 + DAY + 11 * HOUR;
    feed.run(T0 + DAY, start, office).run(start, start + 2 * HOUR, () => 0);
    const [hit] = feed.of('silent_stop');
    expect(hit!.at - start).toBeLessThanOrEqual(HOUR);
    expect(hit!.finding.atRiskNanoPerHour).toBe(0);
    expect(hit!.finding.summary).toMatch(/no calls for \d+ min/);
    feed.run(start + 2 * HOUR, start + 3 * HOUR, office);
    const back = feed.resolved.find((r) => r.signal === 'silent_stop' && r.path === PATH);
    expect(back!.at).toBeGreaterThan(start + 2 * HOUR);
    expect(back!.at).toBeLessThanOrEqual(start + 2 * HOUR + 20 * MINUTE);
  });

  it('a spike resolves after it ends, and only once', () => {
    const feed = primed();
    const start = T0 + DAY + 10 * HOUR;
    feed.run(T0 + DAY, start, office).run(start, start + HOUR, (at) => 6 * office(at)).run(start + HOUR, start + 4 * HOUR, office);
    expect(feed.of('spend_spike')).toHaveLength(1);
    const resolved = feed.resolved.filter((r) => r.signal === 'spend_spike' && r.path === PATH);
    expect(resolved).toHaveLength(1);
    // The 60-minute window has to empty out, then the condition must stay away for resolveAfterMinutes.
    expect(resolved[0]!.at - (start + HOUR)).toBeLessThanOrEqual(90 * MINUTE);
  });
});

describe('Detector baselines', () => {
  it('a Monday-morning peak that comes every week is not an alert', () => {
    const mondayPeak: Rate = (at) => {
      const d = new Date(at);
      return d.getUTCDay() === 1 && d.getUTCHours() === 9 ? 6 * office(at) : office(at);
    };
    const feed = primed(mondayPeak);
    // The first live day is a Monday: its 09:00 peak (six times the hour's usual rate) passed unremarked.
    expect(feed.opened).toEqual([]);
    // The same peak on a Tuesday is a spike.
    const tuesday = T0 + DAY + 9 * HOUR;
    feed.run(T0 + DAY, tuesday, office).run(tuesday, tuesday + HOUR, (at) => 6 * office(at));
    expect(feed.of('spend_spike')).toHaveLength(1);
  });

  it('steady adoption of 20% a week is not an alert', () => {
    const growing: Rate = (at) => office(at) * Math.pow(1.2, (at - T0) / WEEK);
    const feed = primed(growing);
    feed.run(T0 + DAY, T0 + 3 * WEEK, growing);
    expect(feed.opened.map((o) => o.finding.summary)).toEqual([]);
    // Three weeks on, traffic is 1.73x what the history started at, and the baseline followed it.
    const b = comparisonAfterSpike(feed, growing);
    expect(b).toBeGreaterThan(1.5);
  });

  it('a past anomaly does not poison the baseline: a smaller incident a week later still fires', () => {
    const feed = primed();
    const big = T0 + DAY + 10 * HOUR;
    feed.run(T0 + DAY, big, office).run(big, big + 3 * HOUR, (at) => 12 * office(at));
    expect(feed.of('spend_spike')).toHaveLength(1);
    // A week later, the same hours, a quarter of the size: the first must not have raised the bar.
    const small = big + WEEK;
    feed.run(big + 3 * HOUR, small, office).run(small, small + 2 * HOUR, (at) => 3.5 * office(at));
    const second = feed.of('spend_spike').filter((o) => o.at >= small);
    expect(second).toHaveLength(1);
    const spend = comparison(second[0]!.finding, 'spend_per_hour');
    // The baseline at those hours is the usual daytime spend, not inflated by the 12x week.
    expect(spend.baseline).toBeLessThan(1.4 * 240 * TOKENS * PRICE);
  });

  it('seed() from hourly rollups makes detection work right after a restart', () => {
    const restarted = new Detector();
    restarted.seed(history(office, T0 - 2 * WEEK, T0));
    const cold = new Detector();
    const start = T0 + 10 * HOUR;
    const spike: Rate = (at) => (at >= start ? 5 * office(at) : office(at));
    const warm = new Feed(restarted).run(T0, start + HOUR, spike);
    const fresh = new Feed(cold).run(T0, start + HOUR, spike);
    expect(warm.of('spend_spike')).toHaveLength(1);
    expect(warm.of('spend_spike')[0]!.at - start).toBeLessThanOrEqual(HOUR);
    // Without the seed there is no baseline yet, so nothing can be compared.
    expect(fresh.opened).toEqual([]);
  });
});

/** The spend baseline a fresh spike is held against, as a multiple of the history's first weeks. */
function comparisonAfterSpike(feed: Feed, rate: Rate): number {
  const at = T0 + 3 * WEEK + 11 * HOUR;
  feed.run(T0 + 3 * WEEK, at, rate).run(at, at + HOUR, (t) => 5 * rate(t));
  const spend = comparison(feed.of('spend_spike').at(-1)!.finding, 'spend_per_hour');
  return spend.baseline / (240 * TOKENS * PRICE);
}

describe('Detector input and memory', () => {
  it('refuses a malformed observation or seed row with a clear error, recording nothing', () => {
    const d = new Detector();
    const ok: Observation = { at: T0, chain: CHAIN, model: 'm', costNano: 1, tokens: 1, traceId: null };
    expect(() => d.observe({ ...ok, costNano: Number.NaN })).toThrow(TollgateError);
    expect(() => d.observe({ ...ok, tokens: -1 })).toThrow(/non-negative finite cost and tokens/);
    expect(() => d.observe({ ...ok, at: Number.POSITIVE_INFINITY })).toThrow(TollgateError);
    expect(d.size()).toEqual({ agent: 0, project: 0, team: 0 });
    expect(() => d.seed([{ hour: T0, tier: 'org' as 'team', scopeId: 'x', path: 'acme', costNano: 1, tokens: 1, calls: 1 }])).toThrow(/watched tiers are team, project, agent/);
    expect(() => d.evaluate(Number.NaN)).toThrow(TollgateError);
  });

  it('drops scopes idle beyond the baseline window, resolving what was open on them', () => {
    const feed = primed();
    const start = T0 + DAY + 11 * HOUR;
    feed.run(T0 + DAY, start, office).run(start, start + 2 * HOUR, () => 0);
    expect(feed.of('silent_stop')).toHaveLength(1);
    expect(feed.detector.size()).toEqual({ agent: 1, project: 1, team: 1 });
    const e = feed.detector.evaluate(start + 15 * DAY);
    expect(feed.detector.size()).toEqual({ agent: 0, project: 0, team: 0 });
    expect(e.resolved.map((r) => r.path)).toContain(PATH);
  });

  it('keeps a fixed number of trace ids per scope however many it sees, and still finds the loop among them', () => {
    const d = new Detector({ maxTracesPerScope: 16 });
    d.seed(history(office, T0 - 2 * WEEK, T0));
    const feed = new Feed(d);
    // Every call a new trace id (100k of them), plus one stuck trace.
    feed.run(T0, T0 + 10 * HOUR, office).run(T0 + 10 * HOUR, T0 + 11 * HOUR, (at) => office(at) + 1200, (at, i) => (i % 2 ? { traceId: `t-${i}` } : { traceId: 'stuck', fingerprint: null }));
    const [hit] = feed.of('runaway_loop');
    expect(hit!.finding.topTraces[0]!.traceId).toBe('stuck');
    expect(hit!.finding.topTraces.length).toBeLessThanOrEqual(3);
  });
});
