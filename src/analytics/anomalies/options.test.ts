import { describe, expect, it } from 'vitest';
import { TollgateError } from '../../domain/errors.ts';
import { DEFAULT_DETECTOR_OPTIONS, resolveDetectorOptions } from './options.ts';

describe('resolveDetectorOptions', () => {
  it('lays a partial set over the defaults, tier by tier, without touching the defaults', () => {
    const o = resolveDetectorOptions({ resolveAfterMinutes: 30, tiers: { team: { spendSpikeRatio: 3 } } });
    expect(o.resolveAfterMinutes).toBe(30);
    expect(o.tiers.team.spendSpikeRatio).toBe(3);
    expect(o.tiers.team.sigmas).toBe(DEFAULT_DETECTOR_OPTIONS.tiers.team.sigmas);
    expect(o.tiers.agent).toEqual(DEFAULT_DETECTOR_OPTIONS.tiers.agent);
    expect(DEFAULT_DETECTOR_OPTIONS.tiers.team.spendSpikeRatio).toBe(2);
    expect(Object.isFrozen(DEFAULT_DETECTOR_OPTIONS.tiers.agent)).toBe(true);
  });

  it('refuses unknown names and out-of-range values, naming the option', () => {
    expect(() => resolveDetectorOptions({ baselineWeeks: 3 as 2 })).toThrow(/baselineWeeks = 3 must be 1 \(7 days\) or 2 \(14 days\)/);
    expect(() => resolveDetectorOptions({ tiers: { agent: { priceShiftRatio: 0.9 } } })).toThrow(/tiers\.agent\.priceShiftRatio = 0\.9 must be a number from 1\.01/);
    expect(() => resolveDetectorOptions({ tiers: { org: {} } as never })).toThrow(/tiers\.org .* is not a watched tier/);
    expect(() => resolveDetectorOptions({ tiers: { agent: { sigma: 3 } as never } })).toThrow(/tiers\.agent\.sigma .* is not a band/);
    expect(() => resolveDetectorOptions({ loopTraceCalls: Number.NaN })).toThrow(TollgateError);
    expect(() => resolveDetectorOptions({ adaptAfter: 5 } as never)).toThrow(/adaptAfter .* is not an anomaly detector option/);
  });
});
