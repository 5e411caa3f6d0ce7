/**
 * A scenario's price-table changes (`multiply`, `prices`) compiled into an ordinary Pricer, so a
 * repriced call is priced by the very arithmetic the ledger uses: long-context tiers per call, one
 * rounding per call from one unrounded numerator, negotiated discounts from the same config.
 *
 * It wraps the catalog: a model some change touches is handed to the pricer with a derived, dated
 * price list; untouched models resolve exactly as before. Configured custom models and the
 * fallback price a touched model through that same derived list (custom prices win over the
 * catalog from their `from` on, as in the pricer).
 *
 * At an instant t a touched model's list price is:
 *   the latest scenario `prices` table whose `from` ≤ t, times every `multiply` dated on or after
 *   that table's `from` (and ≤ t); else the base price at t (catalog, custom or fallback, with its
 *   own dated changes) times every `multiply` whose `from` ≤ t.
 * A multiplied unit price is rounded half away from zero to the nano-USD per million tokens (the
 * pricer's own unit: 1e-15 USD a token), so 2.5 × $3.00 stays exact.
 */
import type { ConditionalPrice, ModelInfo, ModelPrice } from '@pydantic/genai-prices';
import { TollgateError } from '../../domain/errors.ts';
import { nanoToDecimalString, perMTok } from '../../domain/money.ts';
import { bundledCatalog, createPricer } from '../../pricing/index.ts';
import type { Catalog, Pricer, PricingConfig } from '../../pricing/index.ts';
import { toPerMTok } from '../../pricing/price-sheet.ts';
import { productOf, scaleBy } from './scenario-schema.ts';
import type { Factor, PriceTableChange } from './scenario-schema.ts';

/** A price list in force from `fromMs` (inclusive) until the next segment's. */
interface Segment {
  readonly fromMs: number;
  readonly prices: ModelPrice;
}

type CustomModel = PricingConfig['custom_models'][number];

/** The changes that apply to calls made through `provider` of a model known by `names` (as asked, catalog id), in file order. */
export function changesFor<T extends { provider: string; matches: (names: readonly string[]) => boolean }>(changes: readonly T[], provider: string, names: readonly string[]): T[] {
  const p = provider.trim().toLowerCase();
  return changes.filter((c) => c.provider === p && c.matches(names));
}

/**
 * A pricer with `changes` applied on top of `config` (the `pricing:` section the ledger was priced
 * with). Throws `invalid_request` when a change with a `from` date touches a model whose catalog
 * price depends on the time of day (a dated change cannot be combined with those).
 */
export function scenarioPricer(config: PricingConfig | undefined, changes: readonly PriceTableChange[], catalog: Catalog = bundledCatalog): Pricer {
  const namesOf = (provider: string, model: string) => {
    const found = catalog.find(provider, model);
    return found ? [model, found.model.id] : [model];
  };
  // Custom models a change touches are priced through the derived catalog instead (custom wins in the pricer).
  const moved = new Map<string, CustomModel[]>();
  const kept: CustomModel[] = [];
  for (const e of config?.custom_models ?? []) {
    if (changesFor(changes, e.provider, namesOf(e.provider, e.model)).length === 0) kept.push(e);
    else moved.set(key(e.provider, e.model), [...(moved.get(key(e.provider, e.model)) ?? []), e]);
  }
  const fallback = config?.fallback ? recordOf(config.fallback) : null;

  const derived: Catalog = {
    find(provider, model) {
      const found = catalog.find(provider, model);
      const hits = changesFor(changes, provider, found ? [model, found.model.id] : [model]);
      if (hits.length === 0) return found;
      const custom = moved.get(key(provider, model)) ?? [];
      const prices = derivePrices(found?.model ?? null, fallback, custom, hits);
      const id = found?.model.id ?? model.trim().toLowerCase();
      const info: ModelInfo = { ...(found?.model ?? {}), id, match: { equals: model.trim().toLowerCase() }, prices };
      return { providerId: found?.providerId ?? provider.trim().toLowerCase(), model: info };
    },
  };
  return createPricer({ discounts: config?.discounts ?? [], custom_models: kept, ...(config?.fallback ? { fallback: config.fallback } : {}) }, { catalog: derived });
}

function derivePrices(model: ModelInfo | null, fallback: ModelPrice | null, custom: readonly CustomModel[], hits: readonly PriceTableChange[]): ModelInfo['prices'] {
  const timeOfDay = model && Array.isArray(model.prices) && model.prices.some((e) => e.constraint?.type === 'time_of_date');
  if (model && timeOfDay && Array.isArray(model.prices)) {
    const dated = hits.find((h) => Number.isFinite(h.fromMs));
    if (dated || custom.length > 0) {
      throw new TollgateError('invalid_request', `${model.id} has time-of-day prices: a scenario can change it only for all time (omit \`from\` in changes.${dated?.index ?? hits[0]?.index})`);
    }
    return model.prices.map((e) => ({ ...e, prices: apply([{ fromMs: -Infinity, prices: e.prices }], hits)[0]?.prices ?? e.prices }));
  }
  let segments: Segment[] = model ? catalogSegments(model) : [{ fromMs: -Infinity, prices: fallback ?? {} }];
  if (custom.length > 0) {
    const own = custom.map((e) => ({ fromMs: e.from?.getTime() ?? -Infinity, prices: recordOf(e.prices) })).sort((a, b) => a.fromMs - b.fromMs);
    const first = own[0]?.fromMs ?? -Infinity;
    segments = [...segments.filter((s) => s.fromMs < first), ...own];
  }
  return emit(apply(segments, hits));
}

/** A catalog model's dated prices as segments, evaluated as the library does (scan from the end, the first entry whose start has come wins; else the first). */
function catalogSegments(model: ModelInfo): Segment[] {
  if (!Array.isArray(model.prices)) return [{ fromMs: -Infinity, prices: model.prices }];
  const entries = model.prices as readonly ConditionalPrice[];
  const startOf = (e: ConditionalPrice) => (e.constraint?.type === 'start_date' ? Date.parse(e.constraint.start_date) : -Infinity);
  const inForce = (t: number) => {
    for (let i = entries.length - 1; i >= 0; i--) if (startOf(entries[i]!) <= t) return entries[i]!;
    return entries[0]!;
  };
  const starts = [...new Set([-Infinity, ...entries.map(startOf)])].sort((a, b) => a - b);
  return starts.map((fromMs) => ({ fromMs, prices: inForce(fromMs).prices }));
}

/** The rule of the file comment, evaluated at every date where the base or a change moves. */
function apply(segments: readonly Segment[], hits: readonly PriceTableChange[]): Segment[] {
  const start = segments[0]?.fromMs ?? -Infinity;
  const dates = [...new Set([...segments.map((s) => s.fromMs), ...hits.map((h) => h.fromMs)])].filter((d) => d >= start).sort((a, b) => a - b);
  return dates.map((at) => {
    let base: ModelPrice = {};
    for (const s of segments) if (s.fromMs <= at) base = s.prices;
    let table: { fromMs: number; prices: ModelPrice } | null = null;
    for (const h of hits) if (h.kind === 'prices' && h.fromMs <= at && (table === null || h.fromMs >= table.fromMs)) table = { fromMs: h.fromMs, prices: tableOf(h.prices) };
    const factors = hits.flatMap((h) => (h.kind === 'multiply' && h.fromMs <= at && (table === null || h.fromMs >= table.fromMs) ? [h.factor] : []));
    return { fromMs: at, prices: scaled(table?.prices ?? base, productOf(factors)) };
  });
}

function emit(segments: readonly Segment[]): ModelInfo['prices'] {
  const [first, ...rest] = segments;
  if (!first) return {};
  if (rest.length === 0) return first.prices;
  return [{ prices: first.prices }, ...rest.map((s) => ({ constraint: { type: 'start_date' as const, start_date: new Date(s.fromMs).toISOString() }, prices: s.prices }))];
}

/** A config price sheet (numbers or decimal strings) as catalog numbers, exactly. */
function recordOf(sheet: Readonly<Record<string, number | string | undefined>>): ModelPrice {
  return Object.fromEntries(Object.entries(sheet).flatMap(([k, v]) => (v === undefined ? [] : [[k, catalogNumber(toPerMTok(v))]])));
}

function tableOf(prices: Readonly<Record<string, bigint>>): ModelPrice {
  return Object.fromEntries(Object.entries(prices).map(([k, nano]) => [k, catalogNumber(nano)]));
}

function scaled(prices: ModelPrice, f: Factor): ModelPrice {
  if (f.num === f.den) return prices;
  const one = (v: number) => catalogNumber(scaleBy(toPerMTok(v), f));
  const out: ModelPrice = {};
  for (const [k, v] of Object.entries(prices)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'number' ? one(v) : { base: one(v.base), tiers: v.tiers.map((t) => ({ start: t.start, price: one(t.price) })) };
  }
  return out;
}

/** Nano-USD per MTok as the number the catalog holds; it must read back to the same integer. */
function catalogNumber(nano: bigint): number {
  const n = Number(nanoToDecimalString(nano));
  if (perMTok(n) !== nano) throw new TollgateError('invalid_request', `a scenario price of ${nanoToDecimalString(nano)} $/MTok is too large to price exactly`);
  return n;
}

function key(provider: string, model: string): string {
  return `${provider.trim().toLowerCase()}\u0000${model.trim().toLowerCase()}`;
}
