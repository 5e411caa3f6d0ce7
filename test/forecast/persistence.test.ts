/**
 * Month noise and jumps read back from seeded synthetic ledgers whose noise and jump rates are known.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/analytics/forecast/forecast-model.ts';
import { DEFAULT_SIGMA, monthNoise } from '../../src/analytics/forecast/persistence.ts';
import { paretoTailed, syntheticSeries } from './synthetic.ts';

const law = paretoTailed(10, 1.2, 0.1, 1.5);
const read = (o: { jumpUp: number; jumpDown: number; noise: number; seed: number }) =>
  buildModel(syntheticSeries({ users: Array<number>(8).fill(2000), level: law, ...o }), { bootstrap: 1 }).sets[0]!;

describe('month noise and jumps', () => {
  it('reads σ within 0.03 of the truth without jumps, and no lower with them (level changes widen it)', () => {
    for (const noise of [0.2, 0.4, 0.8]) expect(Math.abs(read({ noise, jumpUp: 0, jumpDown: 0, seed: 1 }).noise.sigma - noise)).toBeLessThan(0.03);
    expect(read({ noise: 0.4, jumpUp: 0.05, jumpDown: 0.2, seed: 1 }).noise.sigma).toBeGreaterThan(0.4);
  });

  it('finds no jumps where there are none', () => {
    const s = read({ noise: 0.4, jumpUp: 0, jumpDown: 0, seed: 2 });
    expect(s.jumps.upAssumed).toBe(false);
    expect(s.jumps.up).toBeLessThan(0.003);
    expect(s.jumps.down).toBeLessThan(0.01);
  });

  it('reads light → heavy 5 % and heavy → light 20 % a month within a factor of two', () => {
    const s = read({ noise: 0.4, jumpUp: 0.05, jumpDown: 0.2, seed: 3 });
    expect(s.jumps.up).toBeGreaterThan(0.025);
    expect(s.jumps.up).toBeLessThan(0.1);
    expect(s.jumps.down).toBeGreaterThan(0.1);
    expect(s.jumps.down).toBeLessThan(0.4);
  });

  it('sees adoption drift (light users turning heavy, none coming back) as up-jumps that outpace the way back', () => {
    const s = read({ noise: 0.3, jumpUp: 0.1, jumpDown: 0, seed: 4 });
    expect(s.jumps.up).toBeGreaterThan(0.01);
    expect(0.5 * s.jumps.up).toBeGreaterThan(0.05 * s.jumps.down);
  });

  it('assumes σ (and says so) with too little history: a fifth of the spread, at most DEFAULT_SIGMA', () => {
    const all = Int32Array.from({ length: 300 }, (_, i) => i);
    const wide = monthNoise(syntheticSeries({ users: [300], level: law, noise: 0.4, jumpUp: 0, jumpDown: 0, seed: 5 }), all);
    expect(wide.assumed).toBe(true);
    expect(wide.sigma).toBe(DEFAULT_SIGMA);
    const narrow = monthNoise(syntheticSeries({ users: [300], level: (p) => 100 * Math.exp(0.2 * (p - 0.5)), noise: 0.05, jumpUp: 0, jumpDown: 0, seed: 5 }), all);
    expect(narrow.assumed).toBe(true);
    expect(narrow.sigma).toBeLessThan(0.05);
    expect(narrow.rho).toBeCloseTo(0.8, 6);
  });
});
