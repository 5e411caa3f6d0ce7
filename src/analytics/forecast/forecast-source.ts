/**
 * What the forecast reads from the ledger, as a small contract the ledger implements
 * (`ledger/kysely-forecast.ts`), and the loader that turns it into unit series for a scope.
 *
 * Units: `customer` (the end user, the `x-tollgate-customer` tag, read from the events: rollups
 * do not carry it), `agent` and `project` (a workload; both from the daily rollups). Spend is
 * effective cost (after discounts). The window ends at the as-of day (exclusive: the data through
 * the day before) and starts at the first day with spend, at most `history` months back.
 */
import { TollgateError } from '../../domain/errors.ts';
import { formatScope, parseScope } from '../../domain/scope.ts';
import type { Tier } from '../../domain/scope.ts';
import type { ScopeNode, Store } from '../../ledger/contract.ts';
import type { ModelSpend } from './model-mix.ts';
import type { UnitDay, UnitSeries } from './unit-series.ts';
import { DAY_MS, monthlySeries } from './unit-series.ts';

export const UNIT_KINDS = ['customer', 'agent', 'project'] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];
export const DEFAULT_HISTORY_MONTHS = 12;

export interface SpendWindow {
  /** Days since the epoch (UTC), inclusive. */
  fromDay: number;
  /** Exclusive. */
  toDay: number;
  within: { tier: Tier; id: string };
}

export interface UnitDayRow {
  /** Customer tag, agent id or project id; null for calls without a customer tag. */
  unit: string | null;
  /** Days since the epoch (UTC). */
  day: number;
  spendNano: bigint;
}

export interface ModelSpendRow {
  provider: string;
  model: string;
  spendNano: bigint;
  /** Input (cached and cache writes included) and output tokens. */
  tokens: bigint;
}

export interface ForecastReads {
  /** Effective spend per unit and UTC day in the window. */
  unitDays(unit: UnitKind, window: SpendWindow): Promise<UnitDayRow[]>;
  /** Effective spend and tokens per provider and model in the window. */
  modelSpend(window: SpendWindow): Promise<ModelSpendRow[]>;
  /** The first UTC day with spend in a scope's subtree; null when it has none. */
  firstDay(within: { tier: Tier; id: string }): Promise<number | null>;
}

export interface LedgerData {
  scope: ScopeNode;
  /** The scope's subtree, archived nodes included. */
  nodes: ScopeNode[];
  unit: UnitKind;
  series: UnitSeries;
  /** The unit-days behind the series (USD, tagged units only): per-day distributions read them. */
  days: UnitDay[];
  /** Unit id → what people read: the customer tag, or the scope path below the forecast's scope. */
  labels: Map<string, string>;
  /** Agent-months, for per-tier budget advice (the same series when the unit is the agent). */
  agents: UnitSeries | null;
  /** Customer units: spend without a customer tag in the window (USD, run-rate scaled like the series); else 0. */
  untaggedUsd: number;
  models: ModelSpendRow[];
  window: SpendWindow;
}

/** The scope (default: the only org), its subtree and its unit series up to `asOfDay`. */
export async function loadLedgerData(
  store: Store,
  reads: ForecastReads,
  opts: { scope?: string; unit: UnitKind | 'auto'; asOfDay: number; history?: number },
): Promise<LedgerData> {
  const scope = await resolveScope(store, opts.scope);
  const within = { tier: scope.tier, id: scope.id };
  const first = await reads.firstDay(within);
  if (first === null || first >= opts.asOfDay) {
    throw new TollgateError('invalid_request', `no spend recorded under ${scope.path} before ${new Date(opts.asOfDay * DAY_MS).toISOString().slice(0, 10)}: nothing to forecast from (try \`tollgate demo --days 90\`, or --pilot <file.csv>)`);
  }
  const asOf = new Date(opts.asOfDay * DAY_MS);
  const earliest = Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() - (opts.history ?? DEFAULT_HISTORY_MONTHS), 1) / DAY_MS;
  const window: SpendWindow = { fromDay: Math.max(first, earliest), toDay: opts.asOfDay, within };
  // `auto`: per customer when calls carry the tag, else per agent.
  let unit: UnitKind = opts.unit === 'auto' ? 'customer' : opts.unit;
  let rows = await reads.unitDays(unit, window);
  if (opts.unit === 'auto' && !rows.some((r) => r.unit !== null)) {
    unit = 'agent';
    rows = await reads.unitDays(unit, window);
  }
  const [agentRows, models, nodes] = await Promise.all([
    unit === 'agent' ? Promise.resolve(null) : reads.unitDays('agent', window),
    reads.modelSpend(window),
    store.directory.listScopes({ under: scope.path, includeArchived: true }),
  ]);
  const toUsd = (r: UnitDayRow) => ({ unit: r.unit ?? '', day: r.day, usd: Number(r.spendNano) / 1e9 });
  const tagged = rows.filter((r) => r.unit !== null).map(toUsd);
  if (tagged.length === 0) {
    throw new TollgateError('invalid_request', `no ${unit} under ${scope.path} has spend in the window${unit === 'customer' ? ' (calls carry no x-tollgate-customer tag): forecast by agent with --by agent' : ''}`);
  }
  const series = monthlySeries(tagged, window);
  const untagged = rows.filter((r) => r.unit === null).map((r) => ({ ...toUsd(r), unit: '(untagged)' }));
  const untaggedUsd = untagged.length > 0 ? monthlySeries(untagged, window).spend.reduce((s, v) => s + v, 0) : 0;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const relative = (path: string) => (path === scope.path ? path : path.slice(scope.path.length + 1));
  const labels = new Map(series.units.map((u) => [u, unit === 'customer' ? u : relative(byId.get(u)?.path ?? u)]));
  return {
    scope,
    nodes,
    unit,
    series,
    days: tagged,
    labels,
    agents: agentRows === null ? series : agentRows.length > 0 ? monthlySeries(agentRows.map(toUsd), window) : null,
    untaggedUsd,
    models,
    window,
  };
}

/** Model spend with frontier flags, in USD for the mix. */
export function modelSpend(rows: readonly ModelSpendRow[], isFrontier: (provider: string, model: string) => boolean): ModelSpend[] {
  return rows.map((r) => ({ provider: r.provider, model: r.model, spendUsd: Number(r.spendNano) / 1e9, tokens: Number(r.tokens), frontier: isFrontier(r.provider, r.model) }));
}

async function resolveScope(store: Store, path: string | undefined): Promise<ScopeNode> {
  if (path === undefined) {
    const orgs = (await store.directory.listScopes()).filter((n) => n.tier === 'org');
    if (orgs.length === 1) return orgs[0]!;
    if (orgs.length === 0) throw new TollgateError('not_found', 'no org in the directory yet: seed one with `tollgate demo --days 90`, or forecast a pilot CSV with --pilot <file.csv>');
    throw new TollgateError('invalid_request', `there are ${orgs.length} orgs (${orgs.map((o) => o.path).join(', ')}): choose one with --scope <org>`);
  }
  const normalised = formatScope(parseScope(path));
  const node = await store.directory.getScope(normalised);
  if (!node) throw new TollgateError('not_found', `scope "${normalised}" does not exist (see \`tollgate scopes list\`)`);
  return node;
}
