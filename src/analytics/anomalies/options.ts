/**
 * The detector's knobs: bands and minimum volumes per watched tier, and the few that apply to all.
 * The defaults were chosen on `npm run eval:anomalies` (seed 1 for tuning; the tests and the
 * report's second seed are held out). `resolveDetectorOptions` merges a partial set over the
 * defaults and refuses anything out of range with a message that names the option.
 */
import { TollgateError } from '../../domain/errors.ts';
import type { WatchedTier } from './contract.ts';
import { WATCHED_TIERS } from './contract.ts';

/** Bands and minimum volumes of one tier. Ratios are current ÷ baseline over the same window. */
export interface TierBands {
  /** spend_spike: spend at least this many times the baseline (and `sigmas` above it). */
  spendSpikeRatio: number;
  /** price_mix_shift: cost per token at least this many times the baseline (1.3 = 30% over) while tokens are not spiking. */
  priceShiftRatio: number;
  /** prompt_bloat: tokens per request at least this many times the baseline. */
  bloatRatio: number;
  /** runaway_loop by rate alone: requests at least this many times the baseline (and at least `loopTraceCalls` of them in the window). */
  loopRateRatio: number;
  /** Statistical margin: a rise must also be this many standard deviations of the scope's own noise. */
  sigmas: number;
  /** Scopes whose average hour has fewer calls than this are not watched for spikes, loops by rate or silent stops. */
  minCallsPerHour: number;
  /** A spend spike, price shift or loop by rate must put at least this much spend per hour at risk, nano-USD. */
  minAtRiskNanoPerHour: number;
  /** Calls a window needs before its tokens per request or cost per token are compared. */
  minWindowCalls: number;
  /** silent_stop: calls the baseline expected during the silence (divided by the scope's burstiness) before it is a stop. */
  silentExpectedCalls: number;
}

export interface DetectorOptions {
  tiers: Record<WatchedTier, TierBands>;
  /** Weeks of hourly history in the baseline: 2 (14 days, default) or 1 (7 days). */
  baselineWeeks: 1 | 2;
  /** runaway_loop by evidence: one trace id with at least this many calls in 15 to 30 minutes. */
  loopTraceCalls: number;
  /** runaway_loop by evidence: one prompt fingerprint repeated at least this many times in 15 to 30 minutes. */
  loopRepeatCalls: number;
  /** A condition resolves once it has stayed below its relaxed band this long. */
  resolveAfterMinutes: number;
  /**
   * Hours an anomaly is kept out of the baseline. Past this, a condition that still holds is taken as
   * the new normal and learnt (a price rise that stays, an agent retired), so alerts do not stay open forever.
   */
  adaptAfterHours: number;
  /** Trace ids (and, separately, prompt fingerprints) tracked per scope. */
  maxTracesPerScope: number;
}

/** A partial set: any option, and any band of any tier, may be left out. */
export type DetectorOptionsInput = Partial<Omit<DetectorOptions, 'tiers'>> & {
  tiers?: Partial<Record<WatchedTier, Partial<TierBands>>>;
};

const AGENT_BANDS: TierBands = {
  spendSpikeRatio: 2,
  priceShiftRatio: 1.3,
  bloatRatio: 3,
  loopRateRatio: 20,
  sigmas: 5,
  minCallsPerHour: 2,
  minAtRiskNanoPerHour: 50_000_000,
  minWindowCalls: 25,
  silentExpectedCalls: 12,
};

export const DEFAULT_DETECTOR_OPTIONS: Readonly<DetectorOptions> = Object.freeze({
  tiers: Object.freeze({
    agent: Object.freeze({ ...AGENT_BANDS }),
    project: Object.freeze({ ...AGENT_BANDS, minCallsPerHour: 10, minAtRiskNanoPerHour: 250_000_000 }),
    team: Object.freeze({ ...AGENT_BANDS, minCallsPerHour: 20, minAtRiskNanoPerHour: 1_000_000_000 }),
  }),
  baselineWeeks: 2,
  loopTraceCalls: 120,
  loopRepeatCalls: 60,
  resolveAfterMinutes: 15,
  adaptAfterHours: 48,
  maxTracesPerScope: 64,
});

/** [min, max] of each band; ratios must be above 1 to mean "above the baseline". */
const BAND_RANGES: Record<keyof TierBands, [number, number]> = {
  spendSpikeRatio: [1.01, 1000],
  priceShiftRatio: [1.01, 1000],
  bloatRatio: [1.01, 1000],
  loopRateRatio: [1.01, 1e6],
  sigmas: [0, 100],
  minCallsPerHour: [0, 1e9],
  minAtRiskNanoPerHour: [0, 1e18],
  minWindowCalls: [1, 1e9],
  silentExpectedCalls: [1, 1e9],
};

const GLOBAL_RANGES: Record<Exclude<keyof DetectorOptions, 'tiers' | 'baselineWeeks'>, [number, number]> = {
  loopTraceCalls: [2, 1e9],
  loopRepeatCalls: [2, 1e9],
  resolveAfterMinutes: [0, 7 * 24 * 60],
  adaptAfterHours: [1, 24 * 14],
  maxTracesPerScope: [1, 10_000],
};

/** The defaults with `input` laid over them, checked. Throws `invalid_request` naming the first bad option. */
export function resolveDetectorOptions(input: DetectorOptionsInput = {}): DetectorOptions {
  const out: DetectorOptions = {
    ...DEFAULT_DETECTOR_OPTIONS,
    tiers: { agent: { ...DEFAULT_DETECTOR_OPTIONS.tiers.agent }, project: { ...DEFAULT_DETECTOR_OPTIONS.tiers.project }, team: { ...DEFAULT_DETECTOR_OPTIONS.tiers.team } },
  };
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (name === 'tiers') continue;
    if (name === 'baselineWeeks') {
      if (value !== 1 && value !== 2) fail('baselineWeeks', value, 'must be 1 (7 days) or 2 (14 days)');
      out.baselineWeeks = value;
      continue;
    }
    const range = GLOBAL_RANGES[name as keyof typeof GLOBAL_RANGES] as [number, number] | undefined;
    if (!range) fail(name, value, `is not an anomaly detector option (known: ${Object.keys(DEFAULT_DETECTOR_OPTIONS).join(', ')})`);
    out[name as keyof typeof GLOBAL_RANGES] = checked(name, value, range);
  }
  const tiers = input.tiers ?? {};
  for (const [tier, bands] of Object.entries(tiers)) {
    if (!(WATCHED_TIERS as readonly string[]).includes(tier)) fail(`tiers.${tier}`, bands, `is not a watched tier (${WATCHED_TIERS.join(', ')})`);
    if (bands === undefined) continue;
    if (typeof bands !== 'object' || bands === null) fail(`tiers.${tier}`, bands, 'must be an object of bands');
    for (const [name, value] of Object.entries(bands)) {
      if (value === undefined) continue;
      const range = BAND_RANGES[name as keyof TierBands] as [number, number] | undefined;
      if (!range) fail(`tiers.${tier}.${name}`, value, `is not a band (known: ${Object.keys(BAND_RANGES).join(', ')})`);
      out.tiers[tier as WatchedTier][name as keyof TierBands] = checked(`tiers.${tier}.${name}`, value, range);
    }
  }
  return out;
}

function checked(name: string, value: unknown, [min, max]: [number, number]): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) fail(name, value, `must be a number from ${min} to ${max}`);
  return value;
}

function fail(name: string, value: unknown, why: string): never {
  throw new TollgateError('invalid_request', `anomaly detector option ${name} = ${JSON.stringify(value)} ${why}`);
}
