/**
 * Units of time and the measures kept per bucket, shared by the baseline, the scope state and the
 * signals. Modules that read these in per-bucket loops copy them into local constants once
 * (`const { COST } = measures`): under a loader that turns ES modules into CommonJS (tsx, vitest),
 * every read of an imported binding is a getter call.
 */
export const HOUR_MS = 3_600_000;
export const WEEK_HOURS = 168;

/** Measures kept per bucket, in this order. */
export const COST = 0;
export const TOKENS = 1;
export const CALLS = 2;
export const MEASURES = 3;
