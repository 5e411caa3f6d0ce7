/**
 * The Monte Carlo's random numbers: sfc32 (a small chaotic counter generator, 128-bit state, passes
 * PractRand; a few integer operations per draw), seeded per trial so runs replay exactly and any
 * trial can be computed alone. Normals come from one 32-bit draw through an inverse-CDF table:
 * the top 14 bits pick one of 16,384 equal-probability cells, the low 18 bits place the draw
 * linearly inside it; the 8 outermost cells on each side (|z| > 3.3, where linear interpolation
 * would be off by more than 5e-4) use the exact quantile instead.
 */
import { normQuantile } from './normal.ts';

const CELL_BITS = 14;
const CELLS = 1 << CELL_BITS;
const FRAC_BITS = 32 - CELL_BITS;
const FRAC_SCALE = 1 / (1 << FRAC_BITS);
const EXACT_CELLS = 8;
const U32 = 2 ** -32;

/** Φ⁻¹ at the cell edges i / CELLS (the two infinite ends are never read). */
const EDGES = (() => {
  const t = new Float64Array(CELLS + 1);
  for (let i = 1; i < CELLS; i++) t[i] = normQuantile(i / CELLS);
  return t;
})();

/** A 32-bit seed for trial `n` of a run seeded `seed` (splitmix32 finaliser: neighbouring trials are unrelated). */
export function streamSeed(seed: number, n: number): number {
  let z = (Math.imul(seed | 0, 0x9e3779b9) + Math.imul(n | 0, 0x85ebca6b) + 0x6d2b79f5) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

export class Rng {
  // State in a typed array: V8 would box 32-bit values that overflow a small integer in plain fields.
  readonly #s = new Int32Array(4);

  constructor(seed: number) {
    const s = this.#s;
    s[0] = 0x9e3779b9;
    s[1] = 0x243f6a88;
    s[2] = 0xb7e15162;
    s[3] = seed;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const s = this.#s;
    const a = s[0]!;
    const b = s[1]!;
    const c = s[2]!;
    const d = s[3]!;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = d + 1;
    s[0] = b ^ (b >>> 9);
    s[1] = c + (c << 3);
    s[2] = ((c << 21) | (c >>> 11)) + t;
    return t >>> 0;
  }

  /** Uniform on (0, 1): never 0 or 1, so logs and quantiles stay finite. */
  uniform(): number {
    return (this.u32() + 0.5) * U32;
  }

  /** A standard normal draw. */
  normal(): number {
    const u = this.u32();
    const cell = u >>> FRAC_BITS;
    const frac = ((u & ((1 << FRAC_BITS) - 1)) + 0.5) * FRAC_SCALE;
    if (cell < EXACT_CELLS || cell >= CELLS - EXACT_CELLS) return normQuantile((cell + frac) / CELLS);
    const lo = EDGES[cell]!;
    return lo + frac * (EDGES[cell + 1]! - lo);
  }

  /**
   * Binomial(n, p). Exact (inversion, O(n·p) steps) while the expected count of the rarer outcome
   * is under 25; above that a rounded normal approximation (error in any probability below ~1%, on
   * counts that are then themselves in the hundreds).
   */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    const mean = n * p;
    if (mean >= 25) {
      const k = Math.round(mean + Math.sqrt(mean * (1 - p)) * this.normal());
      return k < 0 ? 0 : k > n ? n : k;
    }
    // Inversion: walk the pmf up from 0 (expected mean + 1 steps).
    const ratio = p / (1 - p);
    let pmf = Math.pow(1 - p, n);
    let cdf = pmf;
    const u = this.uniform();
    let k = 0;
    while (u > cdf && k < n) {
      pmf *= (ratio * (n - k)) / (k + 1);
      k++;
      cdf += pmf;
      if (pmf < 1e-300 && k > mean) break;
    }
    return k;
  }
}
