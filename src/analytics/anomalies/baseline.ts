/**
 * The robust seasonal baseline of one scope, kept on hourly buckets.
 *
 * Model. Each measure (spend, tokens, calls) in hour h is expected to be
 *
 *   expected(h) = L × mean over w = 1..W of ( G^w × value(h − w weeks) )
 *
 *  - **seasonality**: h is compared with the same hour of the week one and two weeks before
 *    (W = `baselineWeeks`: a 14-day or a 7-day window), so Monday 09:00 is held against past
 *    Monday 09:00s, and a Monday peak that comes every week is normal;
 *  - **trend**: G is the weekly growth, this week's total ÷ last week's (clamped to ×0.5..×2), so
 *    steady adoption of 20%/week raises the expectation with it;
 *  - **level**: L re-anchors on the last day, the ratio of what the last 24 hours actually did to
 *    what the same rule predicted for them (reaching further back until a day's worth of traffic was
 *    expected, so a quiet weekend still gives a level on Monday morning).
 *
 * Noise. Calls come in bursts (one task is several calls) and a call's cost is heavy-tailed, so the
 * variance of a window is taken as φ·u·E (quasi-Poisson: E the expectation, u the measure's mean per
 * call, φ the overdispersion). φ is estimated from (a − b)²/(u(a + b)) over the same hours of the two
 * weeks (with one week, adjacent hours), at its 90th percentile ÷ χ²₁'s: heavy-tailed bursts count,
 * and up to a tenth of anomalous hours do not.
 *
 * Robustness. Past anomalies must not poison the baseline. When an hour closes, its value is
 * clamped to its expectation if an anomaly was open during it (for at most `adaptAfterHours`; past
 * that a lasting change is learnt as the new normal), and otherwise Huber-clipped to expected ± 3σ.
 * History that arrives without a baseline to be cleaned against (rows seeded from the rollups, a
 * scope's first week) is cleaned pairwise, each hour against the same hour a week away, spikes
 * first and dips second, so neither week's anomaly is copied into the other. Growth, φ and the
 * per-call baselines are then computed from cleaned hours, with medians where one bad hour could sway.
 *
 * Why a ring of hours and not an EWMA/Holt-Winters state: it is exactly what the ledger's hourly
 * rollups hold, so a restart seeds it losslessly; a trailing window forgets by itself; and the
 * evidence ("normally 120 calls at this hour") reads straight off it. The level and expectations are
 * refreshed once per scope per closed hour (a few hundred operations), growth and noise every six.
 */

import * as measures from './measures.ts';

const { COST, TOKENS, CALLS, MEASURES, WEEK_HOURS } = measures;
const RATES = [COST, TOKENS, CALLS] as const;

/** Extra hours held beyond the weeks, so the last day can still be compared with the weeks before. */
const LEVEL_HOURS = 24;
const CLIP_SIGMAS = 3;
/**
 * φ is read at the 90th percentile of the squared residuals (÷ χ²₁'s, 2.706), not the median: bursts
 * are heavy-tailed (one long task, one huge prompt), and a median would see only the quiet hours. Up
 * to a tenth of the hours may be anomalous without moving it.
 */
const PHI_QUANTILE = 0.98;
/** Likewise the cost-per-token noise: its 95th percentile ÷ 1.96. */
const CPT_QUANTILE = 0.95;
const MAX_WEEKLY_GROWTH = 2;
/** The last day may run at most this many times the weeks before it (anything more is an anomaly, not a level). */
const MAX_LEVEL = 10;
/** Hours between recomputations of growth, noise and per-call baselines. */
const SLOW_EVERY_HOURS = 6;
/** Hours with fewer calls than this do not inform the cost-per-token noise. */
const CPT_MIN_CALLS = 5;

/** How an hour is cleaned as it closes. */
export type HourHold = 'none' | 'up' | 'down';

export class Baseline {
  readonly ringHours: number;
  /** Closed hours' cleaned values: slot (hour mod ringHours) × MEASURES. */
  private readonly ring: Float32Array;
  /** The open hour (absolute hour number); NaN before the first data. */
  hour = Number.NaN;
  /** The first hour with known data (earlier hours are unknown, not zero). */
  firstHour = Number.NaN;
  /** The open hour's raw sums. */
  readonly cur = new Float64Array(MEASURES);
  /** How the open hour is to be cleaned when it closes (set by the detector while an anomaly is open). */
  hold: HourHold = 'none';

  /** Weeks of history compared against (0: not enough for seasonal comparisons yet). */
  weeks = 0;
  /** Weekly growth factor G per measure. */
  private readonly growth = new Float64Array(MEASURES).fill(1);
  private readonly level = new Float64Array(MEASURES).fill(1);
  /** Overdispersion φ per measure. */
  readonly phi = new Float64Array(MEASURES).fill(1);
  /** Mean per call of each measure (1 for calls): the u of φ·u·E. */
  readonly unit = new Float64Array(MEASURES).fill(1);
  /** Mean per hour of each measure over the baseline window. */
  readonly meanPerHour = new Float64Array(MEASURES);
  /** Tokens per request and cost per token over the window; NaN when unknown. */
  tokensPerCall = Number.NaN;
  costPerToken = Number.NaN;
  /** Robust σ of an hour's ln(cost per token), and the median calls of those hours. */
  cptSigma = Number.NaN;
  cptHourCalls = 0;
  /** Expectations per hour for the open hour and the two before it: [hours ago][measure]. */
  private readonly expected = new Float64Array(3 * MEASURES);
  private slowAt = Number.NaN;
  private historyCleaned = false;
  private readonly scratch: Float64Array;
  private readonly scratch2: Float64Array;

  constructor(readonly baselineWeeks: 1 | 2) {
    this.ringHours = WEEK_HOURS * baselineWeeks + LEVEL_HOURS;
    this.ring = new Float32Array(this.ringHours * MEASURES);
    this.scratch = new Float64Array(this.ringHours);
    this.scratch2 = new Float64Array(this.ringHours);
  }

  /** Adds live traffic to the bucket of `hour`: the open hour (closing those before), or a late call's closed hour. */
  add(hour: number, cost: number, tokens: number, calls: number): void {
    if (Number.isNaN(this.hour)) this.start(hour);
    if (hour > this.hour) this.rollTo(hour);
    this.put(hour, cost, tokens, calls);
  }

  /**
   * Adds history (a seeded rollup row) without cleaning or refreshing; `finishLoad` does both once
   * for the whole batch. Rows ahead of the open hour move it forward, the hours between left empty.
   */
  load(hour: number, cost: number, tokens: number, calls: number): void {
    if (Number.isNaN(this.hour)) this.start(hour);
    if (hour > this.hour) {
      if (hour - this.hour > this.ringHours) {
        this.reset(hour);
      } else {
        this.ring.set(this.cur, this.slot(this.hour));
        this.cur.fill(0);
        for (let h = this.hour + 1; h < hour; h++) this.clearSlot(h);
        this.hour = hour;
        if (this.hour - this.firstHour > this.ringHours) this.firstHour = this.hour - this.ringHours;
      }
    }
    this.put(hour, cost, tokens, calls);
    this.historyCleaned = false;
  }

  /** After `load`: cleans the loaded history pairwise and refreshes every parameter. */
  finishLoad(): void {
    this.slowAt = Number.NaN;
    this.refresh();
  }

  /** Closes hours up to `hour` (cleaning each), making `hour` the open one. */
  rollTo(hour: number): void {
    if (Number.isNaN(this.hour)) {
      this.start(hour);
      return;
    }
    if (hour <= this.hour) return;
    // Beyond a whole ring of silence nothing held is known any more: start afresh.
    if (hour - this.hour > this.ringHours) {
      this.reset(hour);
      return;
    }
    while (this.hour < hour) this.close();
  }

  /** The cleaned value of a closed hour, or NaN when unknown (before the first data or out of the ring). */
  value(hour: number, m: number): number {
    if (hour < this.firstHour || hour >= this.hour || hour < this.hour - this.ringHours) return Number.NaN;
    return this.ring[this.slot(hour) + m]!;
  }

  /** Expected value of measure m (COST, TOKENS or CALLS) in `hour`, per hour; 0 without history. */
  expectedAt(hour: number, m: number): number {
    const ago = this.hour - hour;
    if (ago >= 0 && ago <= 2) return this.expected[ago * MEASURES + m]!;
    return this.predict(hour, m) * this.level[m]!;
  }

  /** Known closed hours held. */
  get historyHours(): number {
    if (Number.isNaN(this.firstHour)) return 0;
    return Math.min(this.hour - this.firstHour, this.ringHours);
  }

  private start(hour: number): void {
    this.hour = hour;
    this.firstHour = hour;
    this.historyCleaned = false;
    this.slowAt = Number.NaN;
  }

  private reset(hour: number): void {
    this.ring.fill(0);
    this.cur.fill(0);
    this.hold = 'none';
    this.start(hour);
    this.refresh();
  }

  private put(hour: number, cost: number, tokens: number, calls: number): void {
    if (hour === this.hour) {
      this.cur[COST]! += cost;
      this.cur[TOKENS]! += tokens;
      this.cur[CALLS]! += calls;
      return;
    }
    if (hour < this.hour - this.ringHours) return;
    if (hour < this.firstHour) {
      // Older than anything known: the hours between become known (as empty).
      for (let h = hour; h < this.firstHour; h++) this.clearSlot(h);
      this.firstHour = hour;
    }
    const base = this.slot(hour);
    this.ring[base + COST]! += cost;
    this.ring[base + TOKENS]! += tokens;
    this.ring[base + CALLS]! += calls;
  }

  private slot(hour: number): number {
    return (((hour % this.ringHours) + this.ringHours) % this.ringHours) * MEASURES;
  }

  private clearSlot(hour: number): void {
    const base = this.slot(hour);
    this.ring.fill(0, base, base + MEASURES);
  }

  /** Closes the open hour into the ring, cleaned, and refreshes the parameters for the next. */
  private close(): void {
    const cur = this.cur;
    if (this.weeks > 0) {
      for (const m of RATES) {
        const e = this.expected[m]!;
        if (this.hold === 'up') cur[m] = Math.min(cur[m]!, e);
        else if (this.hold === 'down') cur[m] = Math.max(cur[m]!, e);
        else {
          const burst = this.phi[m]! * this.unit[m]!;
          const z = CLIP_SIGMAS * Math.sqrt(1 + 1 / this.weeks);
          cur[m] = Math.min(Math.max(cur[m]!, lowerEdge(e, burst, z)), upperEdge(e, burst, z));
        }
      }
    }
    this.ring.set(cur, this.slot(this.hour));
    cur.fill(0);
    this.hold = 'none';
    this.hour += 1;
    if (this.hour - this.firstHour > this.ringHours) this.firstHour = this.hour - this.ringHours;
    this.refresh();
  }

  /** Recomputes the level and the expectations (hourly), and growth and noise (every few hours). */
  private refresh(): void {
    const weeks = Math.min(Math.floor(this.historyHours / WEEK_HOURS), this.baselineWeeks);
    if (weeks !== this.weeks || !(this.hour - this.slowAt < SLOW_EVERY_HOURS)) {
      this.weeks = weeks;
      this.slowAt = this.hour;
      if (weeks === this.baselineWeeks && !this.historyCleaned) this.cleanHistory();
      this.slowStats();
    }
    if (this.weeks === 0) {
      this.expected.fill(0);
      return;
    }
    for (const m of RATES) {
      this.level[m] = this.recentLevel(m);
      for (let ago = 0; ago < 3; ago++) this.expected[ago * MEASURES + m] = this.level[m] * this.predict(this.hour - ago, m);
    }
  }

  /** Mean of the same hour in past weeks, each grown to now; NaN when none is known. */
  private predict(hour: number, m: number): number {
    let sum = 0;
    let n = 0;
    let g = 1;
    for (let w = 1; w <= this.baselineWeeks; w++) {
      g *= this.growth[m]!;
      const v = this.value(hour - w * WEEK_HOURS, m);
      if (Number.isNaN(v)) continue;
      sum += v * g;
      n += 1;
    }
    return n > 0 ? sum / n : Number.NaN;
  }

  /** Actual ÷ predicted over the last day (or back until a day's worth of traffic was expected). */
  private recentLevel(m: number): number {
    const dayWorth = 24 * this.meanPerHour[m]!;
    let actual = 0;
    let predicted = 0;
    for (let k = 1; k <= WEEK_HOURS; k++) {
      const h = this.hour - k;
      const v = this.value(h, m);
      const p = this.predict(h, m);
      if (Number.isNaN(v) || Number.isNaN(p)) break;
      actual += v;
      predicted += p;
      if (k >= 24 && predicted >= dayWorth) break;
    }
    return predicted > 0 ? Math.min(actual / predicted, MAX_LEVEL) : 1;
  }

  /** Growth, per-call baselines, φ and cost-per-token noise over the baseline window. */
  private slowStats(): void {
    const H = this.hour;
    const hours = Math.min(this.historyHours, WEEK_HOURS * this.baselineWeeks);
    const sums = [0, 0, 0];
    for (let h = H - hours; h < H; h++) for (let m = 0; m < MEASURES; m++) sums[m]! += this.value(h, m);
    for (let m = 0; m < MEASURES; m++) this.meanPerHour[m] = hours > 0 ? sums[m]! / hours : 0;
    const calls = sums[CALLS]!;
    // A day of history and a few dozen calls before per-call figures mean anything.
    const enough = hours >= 24 && calls >= 30;
    this.tokensPerCall = enough ? sums[TOKENS]! / calls : Number.NaN;
    this.costPerToken = enough && sums[TOKENS]! > 0 ? sums[COST]! / sums[TOKENS]! : Number.NaN;
    for (const m of [COST, TOKENS]) this.unit[m] = calls > 0 ? sums[m]! / calls : 1;
    for (const m of RATES) {
      this.growth[m] = 1;
      if (this.weeks === 2) {
        let recent = 0;
        let before = 0;
        for (let h = H - WEEK_HOURS; h < H; h++) recent += this.value(h, m);
        for (let h = H - 2 * WEEK_HOURS; h < H - WEEK_HOURS; h++) before += this.value(h, m);
        if (recent > 0 && before > 0) this.growth[m] = Math.min(MAX_WEEKLY_GROWTH, Math.max(1 / MAX_WEEKLY_GROWTH, recent / before));
      }
      this.phi[m] = this.dispersion(m);
    }
    this.cptNoise(H - hours, H);
  }

  /** Overdispersion of measure m: median of (a − b)²/(u(a + b)) ÷ χ²₁'s median, at least 1 (Poisson). */
  private dispersion(m: number): number {
    const u = this.unit[m]!;
    if (!(u > 0) || this.weeks === 0) return 1;
    const H = this.hour;
    const g = this.growth[m]!;
    let n = 0;
    for (let h = H - WEEK_HOURS; h < H; h++) {
      const a = this.value(h, m);
      // Two weeks: the same hour a week before (grown to this week); one week: the hour before.
      const b = this.weeks === 2 ? this.value(h - WEEK_HOURS, m) * g : this.value(h - 1, m);
      if (Number.isNaN(a) || Number.isNaN(b) || a + b <= 0) continue;
      this.scratch[n++] = ((a - b) * (a - b)) / (u * (a + b));
    }
    if (n < 12) return 1;
    const q = this.scratch.subarray(0, n);
    const cap = quantile(q, PHI_QUANTILE);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.min(q[i]!, cap);
    return Math.max(1, sum / n);
  }

  /** Robust σ of an hour's ln(cost per token) around the window's, and the calls of a typical such hour. */
  private cptNoise(from: number, to: number): void {
    this.cptSigma = Number.NaN;
    if (!(this.costPerToken > 0)) return;
    const logBase = Math.log(this.costPerToken);
    let n = 0;
    for (let h = from; h < to; h++) {
      const c = this.value(h, CALLS);
      const cost = this.value(h, COST);
      const tokens = this.value(h, TOKENS);
      if (!(c >= CPT_MIN_CALLS) || !(cost > 0) || !(tokens > 0)) continue;
      this.scratch[n] = Math.log(cost / tokens) - logBase;
      this.scratch2[n] = c;
      n += 1;
    }
    if (n < 24) return;
    const d = this.scratch.subarray(0, n);
    const mid = median(d);
    for (let i = 0; i < n; i++) d[i] = Math.abs(d[i]! - mid);
    this.cptSigma = quantile(d, CPT_QUANTILE) / 1.96;
    this.cptHourCalls = median(this.scratch2.subarray(0, n));
  }

  /**
   * Cleans held hours pairwise, each against the same hour a week later (brought back by the
   * growth): spikes clipped first, dips raised second, so an anomaly in one week is never copied
   * into the other. For history that had no baseline to be cleaned against as it closed.
   */
  private cleanHistory(): void {
    this.historyCleaned = true;
    this.weeks = Math.min(Math.floor(this.historyHours / WEEK_HOURS), this.baselineWeeks);
    this.slowStats();
    const H = this.hour;
    const from = Math.max(this.firstHour, H - this.ringHours);
    const z = CLIP_SIGMAS * Math.SQRT2;
    for (const m of RATES) {
      const g = this.growth[m]!;
      const burst = this.phi[m]! * this.unit[m]!;
      for (const direction of [1, -1]) {
        for (let h = from; h + WEEK_HOURS < H; h++) {
          const older = this.slot(h) + m;
          const newer = this.slot(h + WEEK_HOURS) + m;
          // Each of the pair against the other, as it now stands.
          const a = this.ring[older]!;
          const a2 = direction > 0 ? Math.min(a, upperEdge(this.ring[newer]! / g, burst, z)) : Math.max(a, lowerEdge(this.ring[newer]! / g, burst, z));
          this.ring[older] = a2;
          const b = this.ring[newer]!;
          this.ring[newer] = direction > 0 ? Math.min(b, upperEdge(a2 * g, burst, z)) : Math.max(b, lowerEdge(a2 * g, burst, z));
        }
      }
    }
  }
}

/**
 * Edges of the band around an expectation `e` of a measure that arrives in bursts of mean size
 * `burst` (φ·u): about e/burst independent bursts, whose count's quantiles are taken on Anscombe's
 * square-root scale, (√(λ + 3/8) ± z/2)² − 3/8. Unlike e ± z·σ it stays honest at a few bursts an
 * hour (the upper edge is well above zero even where nothing is expected) and never goes negative.
 */
export function upperEdge(e: number, burst: number, z: number): number {
  if (!(burst > 0)) return e;
  const root = Math.sqrt(Math.max(e, 0) / burst + 0.375) + z / 2;
  return burst * (root * root - 0.375);
}

export function lowerEdge(e: number, burst: number, z: number): number {
  if (!(burst > 0)) return e;
  const root = Math.sqrt(Math.max(e, 0) / burst + 0.375) - z / 2;
  return root > 0 ? Math.max(0, burst * (root * root - 0.375)) : 0;
}

/** Median of a scratch array (sorted in place). */
function median(values: Float64Array): number {
  return quantile(values, 0.5);
}

/** Quantile q of a scratch array (sorted in place), interpolated. */
function quantile(values: Float64Array, q: number): number {
  values.sort();
  const n = values.length;
  if (n === 0) return Number.NaN;
  const at = q * (n - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, n - 1);
  return values[lo]! + (values[hi]! - values[lo]!) * (at - lo);
}
