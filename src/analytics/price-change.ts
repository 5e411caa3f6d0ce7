/**
 * Price-change detection: when what a model costs per token moves while the catalog's list price
 * for the same usage does not, say so (an expired discount, a provider's unannounced change, a stale
 * catalog).
 *
 * The measure is mix- and volume-neutral: per provider, model and day, paid ÷ catalog for the very
 * same tokens (the "paid-to-catalog index"). More volume, or more output than input, leaves it flat;
 * a price change dated in the catalog moves both sides and leaves it flat too. Each model's days
 * are walked in order; a day whose index is more than `tolerance` away from the current level opens
 * a new level once `minDays` days in a row confirm it (a lone odd day is ignored). Days whose
 * catalog cost is below `minCatalogNano` are too small to judge and are skipped.
 */
import { formatUsd } from '../domain/money.ts';
import type { Pricer } from '../pricing/index.ts';
import { unitPrices } from './cost-split.ts';
import type { DailyUsage } from './price-change-input.ts';
import { formatBp, ratioBp } from './showback.ts';
import { DAY_MS, isoDay } from './unit-period.ts';

export interface PriceChangeOptions {
  /** Band around the current level, basis points (default 200 = 2 %). */
  toleranceBp?: number;
  /** Days in a row that must confirm a new level (default 2). */
  minDays?: number;
  /** Days whose catalog cost is below this are skipped (default 10,000,000 = $0.01). */
  minCatalogNano?: bigint;
}

/** What was paid against the catalog over some days. */
export interface PriceLevel {
  from: number;
  /** Exclusive. */
  to: number;
  days: number;
  tokens: bigint;
  costNano: bigint;
  catalogNano: bigint;
  /** Paid ÷ catalog, basis points (8000 = paid 80 % of list). */
  indexBp: number;
}

export interface PriceChange {
  provider: string;
  model: string;
  /** First day at the new level, UTC midnight. */
  since: number;
  before: PriceLevel;
  after: PriceLevel;
  /** after.index ÷ before.index − 1, basis points. */
  changeBp: number;
  /** Whether the catalog's own list rates differ between the last day before and the first day after. */
  catalogMoved: boolean;
  /** Input and output list rates, nano-USD per MTok, on the last day before and the first day after. */
  catalogRates: { before: { input: bigint; output: bigint }; after: { input: bigint; output: bigint } };
  /** What the new level costs over 30 days at the after-period's average daily volume, against the old level. */
  impactNanoPer30Days: bigint;
}

/** A detection as an alert sink delivers it. */
export interface PriceChangeFinding {
  /** Stable per model and change day (the same on every run): a sink drops repeats by it. */
  key: string;
  title: string;
  summary: string;
  evidence: Record<string, string | number | boolean>;
  change: PriceChange;
}

/** Per model, every day checked: the trend behind a detection (or its absence). */
export interface PriceTrend {
  provider: string;
  model: string;
  days: { day: number; tokens: bigint; costNano: bigint; catalogNano: bigint; indexBp: number | null }[];
}

export interface PriceChangeResult {
  changes: PriceChange[];
  trends: PriceTrend[];
}

export function detectPriceChanges(rows: readonly DailyUsage[], pricer: Pricer, opts: PriceChangeOptions = {}): PriceChangeResult {
  const tol = BigInt(opts.toleranceBp ?? 200);
  const minDays = opts.minDays ?? 2;
  const floor = opts.minCatalogNano ?? 10_000_000n;
  const series = new Map<string, DailyUsage[]>();
  for (const r of rows) {
    const key = `${r.provider}\u0000${r.model}`;
    const days = series.get(key) ?? [];
    const same = days.find((d) => d.day === r.day);
    if (same) {
      same.tokens += r.tokens;
      same.costNano += r.costNano;
      same.catalogNano += r.catalogNano;
    } else days.push({ ...r });
    series.set(key, days);
  }
  const changes: PriceChange[] = [];
  const trends: PriceTrend[] = [];
  for (const days of [...series.values()].sort((a, b) => cmp(label(a[0]!), label(b[0]!)))) {
    days.sort((a, b) => a.day - b.day);
    const { provider, model } = days[0]!;
    trends.push({ provider, model, days: days.map((d) => ({ day: d.day, tokens: d.tokens, costNano: d.costNano, catalogNano: d.catalogNano, indexBp: ratioBp(d.costNano, d.catalogNano) })) });
    const judged = days.filter((d) => d.catalogNano >= floor && d.catalogNano > 0n);
    const levels = findLevels(judged, tol, minDays);
    for (let i = 1; i < levels.length; i++) {
      const before = levels[i - 1]!;
      const after = levels[i]!;
      const lastBefore = judged[before.end - 1]!.day;
      const rates = (at: number) => {
        const r = unitPrices(pricer, provider, model, at).list;
        return { input: r.input, output: r.output };
      };
      const rb = rates(lastBefore);
      const ra = rates(after.first.day);
      const b = summary(judged.slice(before.start, before.end));
      const a = summary(judged.slice(after.start, after.end));
      // What the after-days would have cost at the old level, per 30 days of their average volume.
      const oldCost = (a.catalogNano * b.costNano) / b.catalogNano;
      changes.push({
        provider,
        model,
        since: after.first.day,
        before: b,
        after: a,
        changeBp: ratioBp(a.costNano * b.catalogNano - b.costNano * a.catalogNano, b.costNano * a.catalogNano) ?? 0,
        catalogMoved: rb.input !== ra.input || rb.output !== ra.output,
        catalogRates: { before: rb, after: ra },
        impactNanoPer30Days: ((a.costNano - oldCost) * 30n) / BigInt(a.days),
      });
    }
  }
  return { changes: changes.sort((x, y) => y.since - x.since || cmp(`${x.provider}/${x.model}`, `${y.provider}/${y.model}`)), trends };
}

interface Level {
  start: number;
  end: number;
  first: DailyUsage;
}

/** Splits a model's judged days into levels of steady paid-to-catalog index. */
function findLevels(days: readonly DailyUsage[], tol: bigint, minDays: number): Level[] {
  if (days.length === 0) return [];
  const levels: Level[] = [{ start: 0, end: 1, first: days[0]! }];
  let cost = days[0]!.costNano;
  let catalog = days[0]!.catalogNano;
  // Outside the band around cost/catalog: |c/k − cost/catalog| > tol/10000 × cost/catalog, cross-multiplied.
  const off = (d: DailyUsage, c: bigint, k: bigint) => abs(d.costNano * k - c * d.catalogNano) * 10_000n > tol * c * d.catalogNano;
  const side = (d: DailyUsage, c: bigint, k: bigint) => d.costNano * k > c * d.catalogNano;
  for (let i = 1; i < days.length; i++) {
    const d = days[i]!;
    const current = levels[levels.length - 1]!;
    if (!off(d, cost, catalog)) {
      cost += d.costNano;
      catalog += d.catalogNano;
      current.end = i + 1;
      continue;
    }
    const run = days.slice(i, i + minDays);
    const confirmed = run.length === minDays && run.every((x) => off(x, cost, catalog) && side(x, cost, catalog) === side(d, cost, catalog) && !off(x, d.costNano, d.catalogNano));
    if (!confirmed) continue; // a lone odd day (or too few days yet to tell): not a level
    levels.push({ start: i, end: i + 1, first: d });
    cost = d.costNano;
    catalog = d.catalogNano;
  }
  return levels;
}

function summary(days: readonly DailyUsage[]): PriceLevel {
  const sum = (f: (d: DailyUsage) => bigint) => days.reduce((s, d) => s + f(d), 0n);
  const costNano = sum((d) => d.costNano);
  const catalogNano = sum((d) => d.catalogNano);
  return { from: days[0]!.day, to: days[days.length - 1]!.day + DAY_MS, days: days.length, tokens: sum((d) => d.tokens), costNano, catalogNano, indexBp: ratioBp(costNano, catalogNano) ?? 0 };
}

const perMTok = (nano: bigint, tokens: bigint) => (tokens > 0n ? `${formatUsd((nano * 1_000_000n) / tokens, 4)}/MTok` : '—');
const rate = (nano: bigint) => `${formatUsd(nano, 4)}/MTok`;

/** The change as an alert sink delivers it: a title, one paragraph, and the evidence as flat fields. */
export function priceChangeFinding(c: PriceChange): PriceChangeFinding {
  const what = `${c.provider}/${c.model}`;
  const up = c.changeBp > 0;
  const title = c.catalogMoved
    ? `${what}: paid ${formatBp(c.changeBp, { sign: true })} against the catalog's own price change since ${isoDay(c.since)}`
    : `${what}: effective price ${formatBp(c.changeBp, { sign: true })} since ${isoDay(c.since)}, catalog unchanged`;
  const summaryText =
    `Paid ${formatBp(c.before.indexBp)} of the catalog list price from ${isoDay(c.before.from)} to ${isoDay(c.before.to - DAY_MS)}, ` +
    `${formatBp(c.after.indexBp)} since ${isoDay(c.since)} (${c.after.days} day${c.after.days === 1 ? '' : 's'}). ` +
    (c.catalogMoved
      ? `The catalog changed its own rates then too (input ${rate(c.catalogRates.before.input)} → ${rate(c.catalogRates.after.input)}), but what was paid did not follow it. `
      : `The catalog's list rates did not move (input ${rate(c.catalogRates.after.input)}, output ${rate(c.catalogRates.after.output)}). `) +
    `At this volume that is ${up ? '+' : ''}${formatUsd(c.impactNanoPer30Days)} per 30 days. ` +
    (up ? 'Look for an expired discount, a provider price rise, or a stale catalog.' : 'Look for a new discount or a provider price cut the catalog does not know yet.');
  return {
    key: `price_change:${what}:${isoDay(c.since)}`,
    title,
    summary: summaryText,
    evidence: {
      model: what,
      since: isoDay(c.since),
      paid_vs_catalog_before_pct: c.before.indexBp / 100,
      paid_vs_catalog_after_pct: c.after.indexBp / 100,
      change_pct: c.changeBp / 100,
      unit_price_before: perMTok(c.before.costNano, c.before.tokens),
      unit_price_after: perMTok(c.after.costNano, c.after.tokens),
      catalog_unit_price_before: perMTok(c.before.catalogNano, c.before.tokens),
      catalog_unit_price_after: perMTok(c.after.catalogNano, c.after.tokens),
      catalog_moved: c.catalogMoved,
      impact_per_30_days_usd: formatUsd(c.impactNanoPer30Days),
    },
    change: c,
  };
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function label(d: DailyUsage): string {
  return `${d.provider}/${d.model}`;
}
