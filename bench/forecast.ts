// Forecast Monte Carlo: time for 10,000 units × 10,000 trials × 12 months (aim: under 5 s), the fit
// that feeds it, the full forecast (three simulations for the inputs' contributions), a pilot rolled
// out to 10,000, and the same population simulated one unit-month at a time for comparison.
// Run: npx tsx bench/forecast.ts  (about a minute)
import { cpus } from 'node:os';
import { buildModel, simParams } from '../src/analytics/forecast/forecast-model.ts';
import { runForecast } from '../src/analytics/forecast/forecast.ts';
import { simulate } from '../src/analytics/forecast/monte-carlo.ts';
import { normQuantile } from '../src/analytics/forecast/normal.ts';
import { Rng } from '../src/analytics/forecast/random.ts';
import { monthOf, monthsAfter } from '../src/analytics/forecast/unit-series.ts';
import type { UnitSeries } from '../src/analytics/forecast/unit-series.ts';

const UNITS = 10_000;
const TRIALS = 10_000;
const MONTHS = 12;
const ROUNDS = 3;

/** 3 months of 10,000 units: log-normal body, Pareto tail (α 1.3, top 10 %), 30 % month noise, 2 % light → heavy. */
function population(units: number): UnitSeries {
  const rng = new Rng(1);
  const u = 10 * Math.exp(normQuantile(0.9));
  const level = (p: number) => (p <= 0.9 ? 10 * Math.exp(normQuantile(p)) : u * Math.pow((1 - p) / 0.1, -1 / 1.3));
  const first = monthOf(Date.UTC(2026, 0, 1));
  const months = [first, ...monthsAfter(first, 2)];
  const spend = new Float64Array(units * 3);
  for (let i = 0; i < units; i++) {
    let p = rng.uniform();
    for (let m = 0; m < 3; m++) {
      if (p < 0.5 && rng.uniform() < 0.02) p = 0.95 + 0.05 * rng.uniform();
      spend[i * 3 + m] = level(p) * Math.exp(0.3 * rng.normal() - 0.045);
    }
  }
  return { units: Array.from({ length: units }, (_, i) => `u${i}`), months, spend };
}

function time<T>(f: () => T): { ms: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = f();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: (string | number)[][] = [];
const row = (what: string, units: string, trials: number, months: number, unitMonths: number, ms: number) =>
  rows.push([what, units, trials > 0 ? trials.toLocaleString('en') : '—', months, unitMonths > 0 ? unitMonths.toExponential(2) : '—', (ms / 1000).toFixed(2), unitMonths > 0 ? ((ms * 1e6) / unitMonths).toFixed(2) : '—']);

const series = population(UNITS);
const fit = time(() => buildModel(series, { seed: 1 }));
const model = fit.value;
row('fit: unit-months, levels, noise, jumps, 40 bootstrap sets', '10,000 known', 0, 3, 0, fit.ms);

const users = Array<number>(MONTHS).fill(UNITS);
const sets = simParams(model, { aggregate: true });
simulate(sets, { users, known: true, jumps: true, trials: 200, seed: 9 }); // warm up
const mc = Array.from({ length: ROUNDS }, (_, r) => time(() => simulate(sets, { users, known: true, jumps: true, trials: TRIALS, seed: r + 1 })).ms);
row(`Monte Carlo (median of ${ROUNDS})`, '10,000 known', TRIALS, MONTHS, UNITS * TRIALS * MONTHS, median(mc));

const grown = Array.from({ length: MONTHS }, (_, m) => Math.round(UNITS * 1.05 ** m));
const g = time(() => simulate(sets, { users: grown, known: true, jumps: true, trials: TRIALS, seed: 4 }));
row('Monte Carlo, +5%/month adoption', '10,000 → 17,103', TRIALS, MONTHS, grown.reduce((s, n) => s + n, 0) * TRIALS, g.ms);

const full = time(() => runForecast(model, { horizon: MONTHS, users: null, growth: 0, mix: 1, price: [], trials: TRIALS, seed: 5 }));
row('full forecast (today, adoption, tail: 3 simulations)', '10,000 known', TRIALS, MONTHS, full.value.unitMonths, full.ms);

const pilot = buildModel(population(50), { seed: 1 });
const rollout = time(() => runForecast(pilot, { horizon: MONTHS, users: UNITS, growth: 0, mix: 1, price: [], trials: TRIALS, seed: 6 }));
row('pilot of 50 rolled out (full forecast)', '50 → 10,000', TRIALS, MONTHS, rollout.value.unitMonths, rollout.ms);

const oneByOne = simParams(model, { aggregate: false });
const slowTrials = 200;
const slow = time(() => simulate(oneByOne, { users, known: true, jumps: true, trials: slowTrials, seed: 7 }));
row(`every unit-month one by one (${slowTrials} trials, ×${TRIALS / slowTrials} extrapolated)`, '10,000 known', TRIALS, MONTHS, UNITS * TRIALS * MONTHS, slow.ms * (TRIALS / slowTrials));

const head = ['what', 'units', 'trials', 'months', 'unit-months', 'seconds', 'ns/unit-month'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (r: (string | number)[]) => r.map((c, i) => (i === 0 || i === 1 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
console.log(`Forecast Monte Carlo on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, one thread`);
console.log(line(head));
console.log(widths.map((w) => '─'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log(`\n10,000 × 10,000 × 12 Monte Carlo: ${(median(mc) / 1000).toFixed(2)} s (rounds: ${mc.map((m) => (m / 1000).toFixed(2)).join(', ')} s); aim: under 5 s.`);
