/**
 * The five conditions, each tested on one scope at one instant, with the numbers behind it. Each
 * check runs at two strengths: `open` (the configured bands) and `hold` (halfway back to the
 * baseline, half the sigmas): an anomaly opens on the first and stays open while the second holds,
 * so a value hovering at the band does not flap.
 *
 * Windows: spend, loops by rate and prompt size are read on the trailing 15, 30 and 60 minutes
 * (a large jump shows in 15 minutes, a modest one needs the hour to stand out of the noise); cost
 * per token on 30, 60 and 120 (a 30% price shift is small against the hour-to-hour mix).
 */
import type { Baseline } from './baseline.ts';
import * as baseline from './baseline.ts';
import type { Comparison, Signal } from './contract.ts';
import type { RecentHitter } from './heavy-hitters.ts';
import type { DetectorOptions, TierBands } from './options.ts';
import type { ScopeState, WindowFigures, WindowMinutes } from './scope-state.ts';
import * as measures from './measures.ts';
import * as scopeState from './scope-state.ts';

const { COST, TOKENS, CALLS, HOUR_MS } = measures;
const { lowerEdge, upperEdge } = baseline;
const { FIVE_MS, FIVE_SLOTS, WINDOWS } = scopeState;

export type Strength = 'open' | 'hold';

/** A condition that holds, with its evidence (the detector adds the scope, models and traces). */
export interface Candidate {
  signal: Signal;
  since: number;
  comparisons: Comparison[];
  atRiskNanoPerHour: number;
  /** How far past the band (current ÷ band), to pick the strongest window. */
  excess: number;
  /** Traces listed by calls (a loop) or by spend. */
  traceOrder: 'calls' | 'costNano';
  /** What happened, in numbers, for the summary. */
  detail: string;
  /** The trace or prompt that shows a loop, when one does. */
  loopTrace?: RecentHitter;
  loopPrompt?: RecentHitter;
}

/** Quiet hours are held against at least this share of the scope's average hour: a few calls at 3 am are not a spike. */
const QUIET_FLOOR = 0.1;
const SPEND_WINDOWS: readonly WindowMinutes[] = [15, 30, 60];
const PRICE_WINDOWS: readonly WindowMinutes[] = [30, 60, 120];
const LOOP_WINDOWS: readonly WindowMinutes[] = [15, 30];

/** The scope's trailing windows at one instant, as `ScopeState.measure` filled them. */
export type Windows = readonly WindowFigures[];

function win(ws: Windows, minutes: WindowMinutes): WindowFigures {
  return ws[WINDOWS.indexOf(minutes)]!;
}

/** The thresholds at a strength: `hold` is halfway back to the baseline. */
interface Bands {
  open: boolean;
  sigmas: number;
  minAtRisk: number;
  /** Share of the evidence thresholds (trace calls, repeats). */
  scale: number;
}

function bandsFor(bands: TierBands, strength: Strength): Bands {
  const open = strength === 'open';
  return { open, sigmas: open ? bands.sigmas : bands.sigmas / 2, minAtRisk: open ? bands.minAtRiskNanoPerHour : bands.minAtRiskNanoPerHour / 2, scale: open ? 1 : 0.5 };
}

function ratioAt(k: Bands, ratio: number): number {
  return k.open ? ratio : 1 + (ratio - 1) / 2;
}

/** The expectation of a window, raised to the quiet-hour floor. */
function floored(b: Baseline, expected: number, m: number, hours: number): number {
  return Math.max(expected, QUIET_FLOOR * b.meanPerHour[m]! * hours);
}

/** Upper edge of the band of an additive measure: `ratio` × expected, and `sigmas` (widened by the baseline's own uncertainty) above it. */
export function upperBand(b: Baseline, m: number, expected: number, hours: number, ratio: number, sigmas: number): number {
  const z = sigmas * Math.sqrt(1 + Math.min(hours, 1) / Math.max(b.weeks, 1));
  return Math.max(ratio * expected, upperEdge(expected, b.phi[m]! * b.unit[m]!, z));
}

function watchedForVolume(b: Baseline, bands: TierBands): boolean {
  return b.weeks > 0 && b.meanPerHour[CALLS]! >= bands.minCallsPerHour;
}

/** Start of the run of 5-minute buckets, back from now, that pass `test`; `fallback` when none does. */
function sinceBy(s: ScopeState, now: number, test: (idx: number) => boolean, fallback: number): number {
  let idx = Math.floor(now / FIVE_MS);
  // The current bucket may be only seconds old: it neither starts nor breaks a run.
  if (!test(idx)) idx -= 1;
  let start = Number.NaN;
  for (let k = 0; k < FIVE_SLOTS - 1 && test(idx); k++, idx--) start = idx * FIVE_MS;
  return Number.isNaN(start) ? fallback : Math.min(start, fallback);
}

function bucketExpected(s: ScopeState, idx: number, m: number): number {
  const hour = Math.floor((idx * FIVE_MS) / HOUR_MS);
  return floored(s.baseline, s.baseline.expectedAt(hour, m) / 12, m, 1 / 12);
}

function perHour(value: number, w: WindowFigures): number {
  return w.hours > 0 ? value / w.hours : 0;
}

export function spendSpike(s: ScopeState, ws: Windows, now: number, tier: TierBands, strength: Strength): Candidate | null {
  const b = s.baseline;
  if (!watchedForVolume(b, tier)) return null;
  const k = bandsFor(tier, strength);
  const ratio = ratioAt(k, tier.spendSpikeRatio);
  let best: { w: WindowFigures; e: number; band: number } | null = null;
  for (const minutes of SPEND_WINDOWS) {
    const w = win(ws, minutes);
    const e = floored(b, w.expCost, COST, w.hours);
    const band = upperBand(b, COST, e, w.hours, ratio, k.sigmas);
    // Leave the costliest call out (one huge prompt is not a spike), and what the agents below call normal.
    const cost = w.cost - w.topCost - s.tolerated[WINDOWS.indexOf(minutes) * 2]!;
    if (cost <= band || perHour(cost - e, w) < k.minAtRisk) continue;
    if (!best || cost / band > best.w.cost / best.band) best = { w, e, band };
  }
  if (!best) return null;
  const { w, e, band } = best;
  const eCalls = floored(b, w.expCalls, CALLS, w.hours);
  const eTokens = floored(b, w.expTokens, TOKENS, w.hours);
  const mid = 1 + (ratio - 1) / 2;
  return {
    signal: 'spend_spike',
    since: sinceBy(s, now, (i) => s.bucket(i, COST) > mid * bucketExpected(s, i, COST), w.from),
    comparisons: [
      { measure: 'spend_per_hour', baseline: perHour(e, w), band: perHour(band, w), current: perHour(w.cost, w) },
      { measure: 'requests_per_hour', baseline: perHour(eCalls, w), band: perHour(upperBand(b, CALLS, eCalls, w.hours, ratio, k.sigmas), w), current: perHour(w.calls, w) },
      { measure: 'tokens_per_hour', baseline: perHour(eTokens, w), band: perHour(upperBand(b, TOKENS, eTokens, w.hours, ratio, k.sigmas), w), current: perHour(w.tokens, w) },
    ],
    atRiskNanoPerHour: perHour(w.cost - e, w),
    excess: w.cost / band,
    traceOrder: 'costNano',
    detail: `spend ${times(w.cost / e)} its usual rate over the last ${w.minutes} min (requests ${times(w.calls / eCalls)}, tokens ${times(w.tokens / eTokens)})`,
  };
}

export function runawayLoop(s: ScopeState, ws: Windows, now: number, tier: TierBands, options: DetectorOptions, strength: Strength): Candidate | null {
  const b = s.baseline;
  const k = bandsFor(tier, strength);
  // The tables cover at most the last 30 minutes: with fewer calls than that, no key can be a loop.
  const recent = win(ws, 30).calls;
  const traceNeeds = options.loopTraceCalls * k.scale;
  const promptNeeds = options.loopRepeatCalls * k.scale;
  const byTrace = recent >= traceNeeds && s.traces.heaviestCalls(now) >= traceNeeds ? s.traces.ranked(now, 'calls')[0] : undefined;
  const byPrompt = recent >= promptNeeds && s.prompts.heaviestCalls(now) >= promptNeeds ? s.prompts.ranked(now, 'calls')[0] : undefined;
  const ratio = ratioAt(k, tier.loopRateRatio);
  let rate: { w: WindowFigures; e: number; band: number } | null = null;
  if (watchedForVolume(b, tier)) {
    for (const minutes of LOOP_WINDOWS) {
      const w = win(ws, minutes);
      const e = floored(b, w.expCalls, CALLS, w.hours);
      const band = upperBand(b, CALLS, e, w.hours, ratio, k.sigmas);
      const atRisk = perHour(w.cost - floored(b, w.expCost, COST, w.hours), w);
      const calls = w.calls - s.tolerated[WINDOWS.indexOf(minutes) * 2 + 1]!;
      // By rate alone, a loop is also many calls in absolute terms: a quiet agent's one long task is not one.
      if (calls <= band || calls < options.loopTraceCalls * k.scale || atRisk < k.minAtRisk) continue;
      if (!rate || w.calls / band > rate.w.calls / rate.band) rate = { w, e, band };
    }
  }
  if (!byTrace && !byPrompt && !rate) return null;
  const w = rate?.w ?? win(ws, 15);
  const e = rate?.e ?? floored(b, w.expCalls, CALLS, w.hours);
  const band = rate?.band ?? upperBand(b, CALLS, e, w.hours, ratio, k.sigmas);
  const eCost = floored(b, w.expCost, COST, w.hours);
  const evidence: string[] = [];
  if (byTrace) evidence.push(`trace ${byTrace.key} made ${byTrace.calls} calls since ${clock(byTrace.firstAt)}`);
  if (byPrompt) evidence.push(`the same prompt was sent ${byPrompt.calls} times since ${clock(byPrompt.firstAt)}`);
  const firstEvidence = Math.min(byTrace?.firstAt ?? Infinity, byPrompt?.firstAt ?? Infinity);
  const mid = 1 + (ratio - 1) / 2;
  const since = rate ? sinceBy(s, now, (i) => s.bucket(i, CALLS) > mid * bucketExpected(s, i, CALLS), Math.min(w.from, firstEvidence)) : firstEvidence;
  const result: Candidate = {
    signal: 'runaway_loop',
    since,
    comparisons: [
      { measure: 'requests_per_hour', baseline: perHour(e, w), band: perHour(band, w), current: perHour(w.calls, w) },
      { measure: 'spend_per_hour', baseline: perHour(eCost, w), band: perHour(upperBand(b, COST, eCost, w.hours, ratioAt(k, tier.spendSpikeRatio), k.sigmas), w), current: perHour(w.cost, w) },
    ],
    atRiskNanoPerHour: Math.max(0, perHour(w.cost - eCost, w)),
    excess: Math.max(w.calls / band, (byTrace?.calls ?? 0) / options.loopTraceCalls, (byPrompt?.calls ?? 0) / options.loopRepeatCalls),
    traceOrder: 'calls',
    detail: [`requests ${e > 0 ? times(w.calls / e) : 'far above'} the usual rate over the last ${w.minutes} min`, ...evidence].join('; '),
  };
  if (byTrace) result.loopTrace = byTrace;
  if (byPrompt) result.loopPrompt = byPrompt;
  return result;
}

export function promptBloat(s: ScopeState, ws: Windows, now: number, tier: TierBands, strength: Strength): Candidate | null {
  const b = s.baseline;
  if (!(b.tokensPerCall > 0)) return null;
  const k = bandsFor(tier, strength);
  const ratio = ratioAt(k, tier.bloatRatio);
  let best: { w: WindowFigures; r: number } | null = null;
  for (const minutes of SPEND_WINDOWS) {
    const w = win(ws, minutes);
    if (w.calls < tier.minWindowCalls) continue;
    const r = w.tokens / w.calls / b.tokensPerCall;
    if (r < ratio) continue;
    if (!best || r > best.r) best = { w, r };
  }
  if (!best) return null;
  const { w, r } = best;
  const cpt = b.costPerToken > 0 ? b.costPerToken : 0;
  const eCost = floored(b, w.expCost, COST, w.hours);
  const mid = 1 + (ratio - 1) / 2;
  return {
    signal: 'prompt_bloat',
    since: sinceBy(s, now, (i) => s.bucket(i, CALLS) > 0 && s.bucket(i, TOKENS) / s.bucket(i, CALLS) >= mid * b.tokensPerCall, w.from),
    comparisons: [
      { measure: 'tokens_per_request', baseline: b.tokensPerCall, band: ratio * b.tokensPerCall, current: w.tokens / w.calls },
      { measure: 'spend_per_hour', baseline: perHour(eCost, w), band: perHour(upperBand(b, COST, eCost, w.hours, ratioAt(k, tier.spendSpikeRatio), k.sigmas), w), current: perHour(w.cost, w) },
    ],
    atRiskNanoPerHour: Math.max(0, perHour((w.tokens - w.calls * b.tokensPerCall) * cpt, w)),
    excess: r / ratio,
    traceOrder: 'costNano',
    detail: `${count(w.tokens / w.calls)} tokens per request against a usual ${count(b.tokensPerCall)} (${times(r)}) over ${count(w.calls)} calls in the last ${w.minutes} min`,
  };
}

export function priceMixShift(s: ScopeState, ws: Windows, now: number, tier: TierBands, strength: Strength): Candidate | null {
  const b = s.baseline;
  if (!(b.costPerToken > 0) || Number.isNaN(b.cptSigma)) return null;
  const k = bandsFor(tier, strength);
  const ratio = ratioAt(k, tier.priceShiftRatio);
  let best: { w: WindowFigures; r: number; tokenBand: number; eTokens: number } | null = null;
  for (const minutes of PRICE_WINDOWS) {
    const w = win(ws, minutes);
    // Leave the costliest call out: one huge prompt on the pricier model is not a shift.
    const cost = w.cost - w.topCost;
    const tokens = w.tokens - w.topTokens;
    if (w.calls - 1 < tier.minWindowCalls || !(tokens > 0)) continue;
    const r = cost / tokens / b.costPerToken;
    const sigma = b.cptSigma * Math.sqrt(Math.max(1, b.cptHourCalls / (w.calls - 1)));
    if (r < ratio || Math.log(r) < k.sigmas * sigma) continue;
    if (perHour(w.cost - w.tokens * b.costPerToken, w) < k.minAtRisk) continue;
    // Volume must be flat: a surge of tokens is a spike or a loop, not a price.
    const eTokens = b.weeks > 0 ? floored(b, w.expTokens, TOKENS, w.hours) : Number.NaN;
    const tokenBand = b.weeks > 0 ? upperBand(b, TOKENS, eTokens, w.hours, tier.spendSpikeRatio, tier.sigmas) : Number.POSITIVE_INFINITY;
    if (w.tokens > tokenBand) continue;
    if (!best || r > best.r) best = { w, r, tokenBand, eTokens };
  }
  if (!best) return null;
  const { w, r, tokenBand, eTokens } = best;
  const usual = w.tokens * b.costPerToken;
  const mid = 1 + (ratio - 1) / 2;
  const comparisons: Comparison[] = [{ measure: 'spend_per_hour', baseline: perHour(usual, w), band: perHour(ratio * usual, w), current: perHour(w.cost, w) }];
  if (b.weeks > 0) comparisons.push({ measure: 'tokens_per_hour', baseline: perHour(eTokens, w), band: perHour(tokenBand, w), current: perHour(w.tokens, w) });
  return {
    signal: 'price_mix_shift',
    since: sinceBy(s, now, (i) => s.bucket(i, TOKENS) > 0 && s.bucket(i, COST) / s.bucket(i, TOKENS) >= mid * b.costPerToken, w.from),
    comparisons,
    atRiskNanoPerHour: perHour(w.cost - usual, w),
    excess: r / ratio,
    traceOrder: 'costNano',
    detail: `${usdPerMTok(w.cost / w.tokens)}/MTok against a usual ${usdPerMTok(b.costPerToken)} (${times(r)}) over the last ${w.minutes} min${b.weeks > 0 ? ` at ${times(w.tokens / eTokens)} the usual token volume` : ''}`,
  };
}

/** Longest silence looked at: past a day, a stop is long established. */
const SILENCE_LOOKBACK_MS = 24 * HOUR_MS;

export function silentStop(s: ScopeState, now: number, tier: TierBands, strength: Strength): Candidate | null {
  const b = s.baseline;
  if (!watchedForVolume(b, tier) || !Number.isFinite(s.lastSeen)) return null;
  const from = Math.max(s.lastSeen, now - SILENCE_LOOKBACK_MS);
  if (now - from < FIVE_MS) return null;
  let expected = 0;
  for (let h = Math.floor(from / HOUR_MS); h * HOUR_MS < now; h++) {
    const span = Math.min(now, (h + 1) * HOUR_MS) - Math.max(from, h * HOUR_MS);
    expected += (span / HOUR_MS) * b.expectedAt(h, CALLS);
  }
  // Calls come in bursts (a task's calls): silence means no burst began. E/φ counts bursts
  // conservatively (φ ≈ E[k²]/E[k] is above a burst's mean size k), which pays for a baseline
  // that is itself only two samples of each hour.
  const phi = b.phi[CALLS]!;
  const bursts = expected / phi;
  const needed = strength === 'open' ? tier.silentExpectedCalls : tier.silentExpectedCalls / 2;
  if (bursts < needed) return null;
  const hours = (now - from) / HOUR_MS;
  const lower = lowerEdge(expected, phi, tier.sigmas);
  return {
    signal: 'silent_stop',
    since: from,
    comparisons: [{ measure: 'requests_per_hour', baseline: expected / hours, band: lower / hours, current: 0 }],
    atRiskNanoPerHour: 0,
    excess: bursts / needed,
    traceOrder: 'costNano',
    detail: `no calls for ${duration(now - from)} where about ${count(expected)} were expected (normally ${count(expected / hours)}/h); last call ${Number.isFinite(s.lastSeen) && s.lastSeen >= from ? clock(s.lastSeen) : 'over a day ago'}`,
  };
}

/**
 * Adds an agent's tolerance to its project and team: in each window, the part of its rise (spend and
 * calls) that stays within its own band. A project then alerts only on what its agents' baselines
 * do not already account for: a new agent, or many agents rising together.
 */
export function shareTolerance(s: ScopeState, ws: Windows, tier: TierBands): void {
  const b = s.baseline;
  if (s.parents.length === 0 || b.weeks === 0) return;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    const eCost = floored(b, w.expCost, COST, w.hours);
    const eCalls = floored(b, w.expCalls, CALLS, w.hours);
    const cost = Math.max(0, Math.min(w.cost, upperBand(b, COST, eCost, w.hours, tier.spendSpikeRatio, tier.sigmas)) - eCost);
    const calls = Math.max(0, Math.min(w.calls, upperBand(b, CALLS, eCalls, w.hours, tier.loopRateRatio, tier.sigmas)) - eCalls);
    for (const p of s.parents) {
      p.tolerated[i * 2]! += cost;
      p.tolerated[i * 2 + 1]! += calls;
    }
  }
}

export function times(x: number): string {
  if (!Number.isFinite(x)) return 'far above';
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x`;
}

export function count(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function usdPerMTok(nanoPerToken: number): string {
  // nano-USD per token × 1e6 tokens ÷ 1e9 = USD per million tokens.
  return `$${(nanoPerToken / 1000).toFixed(2)}`;
}

function clock(at: number): string {
  return `${new Date(at).toISOString().slice(11, 16)} UTC`;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
}
