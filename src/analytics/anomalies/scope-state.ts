/**
 * What the detector holds for one watched scope: its hourly baseline, the last three hours in
 * 5-minute buckets (what "now" is measured on), bounded tables of its recent models, trace ids and
 * prompt fingerprints (the evidence), and the anomalies open on it. Fixed size whatever the traffic:
 * about 7 KB with a 14-day baseline, plus 4 × `maxTracesPerScope` table slots and up to 64 model
 * names.
 */
import { Baseline } from './baseline.ts';
import type { Finding, Signal, WatchedTier } from './contract.ts';
import { RecentHitters, RecentTotals } from './heavy-hitters.ts';
import * as measures from './measures.ts';
import type { DetectorOptions } from './options.ts';

const { COST, TOKENS, CALLS, MEASURES, HOUR_MS } = measures;

export const FIVE_MS = 300_000;
/** Three hours of 5-minute buckets: the longest window, and room to look back for when it began. */
export const FIVE_SLOTS = 36;
/** Trailing windows measured at each evaluation, minutes. */
export const WINDOWS = [15, 30, 60, 120] as const;
export type WindowMinutes = (typeof WINDOWS)[number];
/** Trace and prompt tables turn over every 15 minutes, so they cover the last 15 to 30. */
export const EVIDENCE_PERIOD_MS = 15 * 60_000;
const MODELS_HELD = 32;
/** Per 5-minute bucket: the four measures, then the costliest call's cost and tokens. */
const MAX_COST = MEASURES;
const MAX_TOKENS = MEASURES + 1;
const BUCKET = MEASURES + 2;

/** Sums over a trailing window and what the baseline expected for the same span. */
export interface WindowFigures {
  minutes: WindowMinutes;
  from: number;
  /** Length actually covered (the current bucket is partial), hours. */
  hours: number;
  cost: number;
  tokens: number;
  calls: number;
  /** The costliest single call in the window, so a comparison can leave it out. */
  topCost: number;
  topTokens: number;
  expCost: number;
  expTokens: number;
  expCalls: number;
}

/** An anomaly open on a scope, with the hysteresis it needs. */
export interface OpenAnomaly {
  since: number;
  openedAt: number;
  /** The last evaluation at which the (relaxed) condition still held. */
  heldAt: number;
  /** When `finding`'s evidence was last rebuilt. */
  builtAt: number;
  finding: Finding;
}

export class ScopeState {
  readonly baseline: Baseline;
  private readonly five = new Float64Array(FIVE_SLOTS * BUCKET);
  /** The newest 5-minute bucket (absolute index); NaN before the first call. */
  private fiveIdx = Number.NaN;
  lastSeen = Number.NEGATIVE_INFINITY;
  /** The first live call (not seeded), epoch ms. */
  liveSince = Number.POSITIVE_INFINITY;
  readonly models: RecentTotals;
  readonly traces: RecentHitters;
  readonly prompts: RecentHitters;
  readonly open = new Map<Signal, OpenAnomaly>();
  /** When the spend-spike condition was first seen holding (NaN while it does not). */
  spikeSeenAt = Number.NaN;
  /** Paths of the watched scopes above (agent: project and team; project: team). */
  readonly ancestors: string[];
  /** The trailing windows, refilled by `measure` (reused: evaluation allocates nothing for a quiet scope). */
  readonly windows: WindowFigures[] = WINDOWS.map((minutes) => ({
    minutes,
    from: 0,
    hours: 0,
    cost: 0,
    tokens: 0,
    calls: 0,
    topCost: 0,
    topTokens: 0,
    expCost: 0,
    expTokens: 0,
    expCalls: 0,
  }));
  /** An agent's project and team, once seen live: its tolerance is added to theirs. */
  readonly parents: ScopeState[] = [];
  /**
   * Of a project's or team's rise in each window, the part its agents' own baselines call normal
   * (each agent's rise up to its own band): [window × 2] spend, [window × 2 + 1] calls. Its agents
   * add to it as they are tested; the scope's own test reads it, then clears it.
   */
  readonly tolerated = new Float64Array(WINDOWS.length * 2);

  constructor(
    readonly tier: WatchedTier,
    readonly id: string,
    readonly path: string,
    options: DetectorOptions,
  ) {
    this.baseline = new Baseline(options.baselineWeeks);
    this.models = new RecentTotals(MODELS_HELD, HOUR_MS);
    this.traces = new RecentHitters(options.maxTracesPerScope, EVIDENCE_PERIOD_MS);
    this.prompts = new RecentHitters(options.maxTracesPerScope, EVIDENCE_PERIOD_MS);
    const segments = path.split('/');
    const depth = tier === 'agent' ? 4 : tier === 'project' ? 3 : 2;
    this.ancestors = [];
    for (let d = depth - 1; d >= 2; d--) this.ancestors.push(segments.slice(0, d).join('/'));
  }

  /** One settled call; the hashes are of the trace id and fingerprint (0 when absent). */
  add(at: number, cost: number, tokens: number, model: string, traceId: string | null | undefined, traceHash: number, fingerprint: string | null | undefined, fingerprintHash: number): void {
    this.baseline.add(Math.floor(at / HOUR_MS), cost, tokens, 1);
    const idx = Math.floor(at / FIVE_MS);
    if (!(idx <= this.fiveIdx)) this.advanceFive(idx);
    if (idx > this.fiveIdx - FIVE_SLOTS) {
      const base = (idx % FIVE_SLOTS) * BUCKET;
      this.five[base + COST]! += cost;
      this.five[base + TOKENS]! += tokens;
      this.five[base + CALLS]! += 1;
      if (cost > this.five[base + MAX_COST]!) {
        this.five[base + MAX_COST] = cost;
        this.five[base + MAX_TOKENS] = tokens;
      }
    }
    if (at > this.lastSeen) this.lastSeen = at;
    if (at < this.liveSince) this.liveSince = at;
    this.models.add(model, cost, at);
    if (traceId) this.traces.add(traceId, traceHash, cost, at);
    if (fingerprint) this.prompts.add(fingerprint, fingerprintHash, cost, at);
  }

  /** Brings every bucket up to `now` (closing hours into the baseline). */
  rollTo(now: number): void {
    this.baseline.rollTo(Math.floor(now / HOUR_MS));
    const idx = Math.floor(now / FIVE_MS);
    if (!(idx <= this.fiveIdx)) this.advanceFive(idx);
  }

  /** Fills `windows` for `now` in one pass over the buckets. Call after `rollTo(now)`. */
  measure(now: number): readonly WindowFigures[] {
    const last = Math.floor(now / FIVE_MS);
    let cost = 0;
    let tokens = 0;
    let calls = 0;
    let topCost = 0;
    let topTokens = 0;
    let next = 0;
    for (let k = 0; next < WINDOWS.length; k++) {
      const i = last - k;
      if (i <= this.fiveIdx && i > this.fiveIdx - FIVE_SLOTS) {
        const base = (i % FIVE_SLOTS) * BUCKET;
        cost += this.five[base + COST]!;
        tokens += this.five[base + TOKENS]!;
        calls += this.five[base + CALLS]!;
        if (this.five[base + MAX_COST]! > topCost) {
          topCost = this.five[base + MAX_COST]!;
          topTokens = this.five[base + MAX_TOKENS]!;
        }
      }
      const w = this.windows[next]!;
      if (k + 1 === w.minutes / 5) {
        w.from = i * FIVE_MS;
        w.hours = (now - w.from) / HOUR_MS;
        w.cost = cost;
        w.tokens = tokens;
        w.calls = calls;
        w.topCost = topCost;
        w.topTokens = topTokens;
        this.expect(w, now);
        next += 1;
      }
    }
    return this.windows;
  }

  /** One 5-minute bucket's value of measure m (0 when not held). */
  bucket(idx: number, m: number): number {
    if (!(idx <= this.fiveIdx && idx > this.fiveIdx - FIVE_SLOTS)) return 0;
    return this.five[(idx % FIVE_SLOTS) * BUCKET + m]!;
  }

  /** The baseline's expectation over [w.from, now], hour by hour. */
  private expect(w: WindowFigures, now: number): void {
    w.expCost = 0;
    w.expTokens = 0;
    w.expCalls = 0;
    for (let h = Math.floor(w.from / HOUR_MS); h * HOUR_MS < now; h++) {
      const span = (Math.min(now, (h + 1) * HOUR_MS) - Math.max(w.from, h * HOUR_MS)) / HOUR_MS;
      w.expCost += span * this.baseline.expectedAt(h, COST);
      w.expTokens += span * this.baseline.expectedAt(h, TOKENS);
      w.expCalls += span * this.baseline.expectedAt(h, CALLS);
    }
  }

  private advanceFive(idx: number): void {
    const from = Number.isNaN(this.fiveIdx) ? idx - FIVE_SLOTS + 1 : Math.max(this.fiveIdx + 1, idx - FIVE_SLOTS + 1);
    for (let i = from; i <= idx; i++) this.five.fill(0, (i % FIVE_SLOTS) * BUCKET, (i % FIVE_SLOTS) * BUCKET + BUCKET);
    this.fiveIdx = idx;
  }
}
