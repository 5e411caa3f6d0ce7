/**
 * The explore table of the dashboard: a scope's spend grouped one level down (or by model or
 * provider) over a period, each row beside the period of equal length just before, its share, its
 * tightest budget, its outcomes and cost per outcome, and tokens per request. Sums come from the
 * rollups (from the events when a customer is asked for); money stays integer nano-USD until JSON.
 */
import type { Counters } from '../counters/contract.ts';
import { divRound, nanoToDecimalString } from '../domain/money.ts';
import { TIERS } from '../domain/scope.ts';
import type { Tier } from '../domain/scope.ts';
import type { GroupBy, ScopeNode, SpendRow, Store } from '../ledger/contract.ts';
import type { BudgetStatus } from './budget-status.ts';
import { budgetStatus } from './budget-status.ts';
import { budgetUseJson, tightest } from './budget-use.ts';
import { percentOf } from './percent.ts';
import type { View } from './view-scope.ts';
import { checkGroup, underOf } from './view-scope.ts';

const HOUR_MS = 3_600_000;

export type SpendStore = Pick<Store, 'directory' | 'ledger' | 'controls' | 'outcomes'>;

/** Narrow a read to one provider, served model or customer tag. */
export interface SpendFilters {
  provider?: string;
  model?: string;
  customer?: string;
}

export interface SpendTableOptions {
  view: View;
  /** Inclusive epoch ms; rounded down to the hour (rollups are hourly). */
  from: number;
  /** Exclusive epoch ms; rounded up to the hour. */
  to: number;
  groupBy: GroupBy;
  filters: SpendFilters;
  now: number;
  /** For the budgets' reservations; null leaves them out. */
  counters: Counters | null;
}

export interface SpendLine {
  /** Scope id, provider or model. */
  key: string;
  label: string;
  /** The scope's path; null for provider and model rows. */
  path: string | null;
  tier: Tier | null;
  /** This period's sums (zero when the group spent only in the previous period). */
  current: SpendRow;
  previousNano: bigint;
  /** The row's tightest budget in its own current period; null for provider and model rows. */
  budget: BudgetStatus | null;
  /** Outcomes of the row's projects in the period; null where nothing is measured (agents, models, providers, or any filter). */
  outcomes: bigint | null;
}

export interface SpendTable {
  view: View;
  /** The period read, aligned to hours. */
  from: number;
  to: number;
  /** The previous period: [previousFrom, from). */
  previousFrom: number;
  groupBy: GroupBy;
  totalNano: bigint;
  previousTotalNano: bigint;
  /** Biggest spend first. */
  lines: SpendLine[];
}

export async function spendTable(store: SpendStore, o: SpendTableOptions): Promise<SpendTable> {
  checkGroup(o.view, o.groupBy);
  const from = Math.floor(o.from / HOUR_MS) * HOUR_MS;
  const to = Math.ceil(o.to / HOUR_MS) * HOUR_MS;
  const previousFrom = from - (to - from);
  const within = o.view.within;
  const query = { groupBy: o.groupBy, ...(within ? { within } : {}), ...o.filters };
  const isTier = (TIERS as readonly string[]).includes(o.groupBy);
  const [current, previous, nodes] = await Promise.all([
    store.ledger.spend({ from, to, ...query }),
    store.ledger.spend({ from: previousFrom, to: from, ...query }),
    isTier ? store.directory.listScopes({ ...underOf(o.view), includeArchived: true }) : Promise.resolve([]),
  ]);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const previousOf = new Map(previous.map((r) => [r.key, r.effectiveCostNano]));
  const currentOf = new Map(current.map((r) => [r.key, r]));
  // Groups that spent only in the previous period stay in the table: a drop to zero is news.
  const keys = [...currentOf.keys(), ...previous.map((r) => r.key).filter((k) => !currentOf.has(k))];

  const [budgets, outcomes] = isTier
    ? await Promise.all([rowBudgets(store, o, new Set(keys)), rowOutcomes(store, o, from, to, o.groupBy as Tier, byId)])
    : [new Map<string, BudgetStatus>(), null];

  const lines = keys.map((key): SpendLine => {
    const node = byId.get(key);
    return {
      key,
      label: isTier ? (node?.name ?? key) : key,
      path: node?.path ?? null,
      tier: isTier ? (o.groupBy as Tier) : null,
      current: currentOf.get(key) ?? zeroRow(key),
      previousNano: previousOf.get(key) ?? 0n,
      budget: budgets.get(key) ?? null,
      outcomes: outcomes === null ? null : (outcomes.get(key) ?? null),
    };
  });
  lines.sort((a, b) => cmpDesc(a.current.effectiveCostNano, b.current.effectiveCostNano) || cmpDesc(a.previousNano, b.previousNano) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    view: o.view,
    from,
    to,
    previousFrom,
    groupBy: o.groupBy,
    totalNano: current.reduce((s, r) => s + r.effectiveCostNano, 0n),
    previousTotalNano: previous.reduce((s, r) => s + r.effectiveCostNano, 0n),
    lines,
  };
}

/** Each row scope's tightest budget, in that budget's own current period. */
async function rowBudgets(store: SpendStore, o: SpendTableOptions, ids: Set<string>): Promise<Map<string, BudgetStatus>> {
  const policies = (await store.controls.listBudgets(underOf(o.view))).filter((p) => ids.has(p.scopeId));
  if (policies.length === 0) return new Map();
  const states = await budgetStatus(policies, { ledger: store.ledger, counters: o.counters, now: o.now });
  const out = new Map<string, BudgetStatus>();
  for (const id of new Set(policies.map((p) => p.scopeId))) {
    const t = tightest(states.filter((s) => s.policy.scopeId === id));
    if (t) out.set(id, t);
  }
  return out;
}

/**
 * Outcomes per row, summed from the row's projects (outcomes are counted per project and type).
 * Null for agent rows (an outcome belongs to the project's work, not one agent's) and under any
 * filter (a filtered cost per outcome would look cheaper than it is). Rows whose projects have no
 * outcome type are left out of the map (null), those with types and no outcomes get 0.
 */
async function rowOutcomes(store: SpendStore, o: SpendTableOptions, from: number, to: number, tier: Tier, byId: Map<string, ScopeNode>): Promise<Map<string, bigint> | null> {
  if (tier === 'agent' || o.filters.provider !== undefined || o.filters.model !== undefined || o.filters.customer !== undefined) return null;
  const [types, counts] = await Promise.all([
    store.outcomes.listTypes(underOf(o.view)),
    store.outcomes.counts({ from, to, ...(o.view.within ? { within: o.view.within } : {}) }),
  ]);
  const rowOf = (projectId: string): string | undefined => {
    let n = byId.get(projectId);
    while (n && n.tier !== tier) n = n.parentId === null ? undefined : byId.get(n.parentId);
    return n?.id;
  };
  const out = new Map<string, bigint>();
  for (const t of types) {
    const row = rowOf(t.projectId);
    if (row !== undefined && !out.has(row)) out.set(row, 0n);
  }
  for (const c of counts) {
    const row = rowOf(c.projectId);
    if (row !== undefined) out.set(row, (out.get(row) ?? 0n) + c.outcomes);
  }
  return out;
}

function zeroRow(key: string): SpendRow {
  return {
    key, calls: 0, errors: 0, inputTokens: 0n, cacheReadTokens: 0n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 0n,
    outputTokens: 0n, reasoningTokens: 0n, listCostNano: 0n, effectiveCostNano: 0n, estimatedCalls: 0, unpricedCalls: 0,
  };
}

function cmpDesc(a: bigint, b: bigint): number {
  return a > b ? -1 : a < b ? 1 : 0;
}

/** Every token a call was billed for (reasoning tokens are part of output). */
export function billedTokens(r: SpendRow): bigint {
  return r.inputTokens + r.cacheReadTokens + r.cacheWrite5mTokens + r.cacheWrite1hTokens + r.outputTokens;
}

/** The `GET /api/spend` JSON: money as exact decimal USD strings (and nano-USD where a figure is checked), tokens as decimal strings. */
export function spendTableJson(t: SpendTable) {
  return {
    scope: t.view.node?.path ?? null,
    from: t.from,
    to: t.to,
    previous: { from: t.previousFrom, to: t.from },
    groupBy: t.groupBy,
    totalUsd: nanoToDecimalString(t.totalNano),
    totalNano: t.totalNano.toString(),
    previousTotalUsd: nanoToDecimalString(t.previousTotalNano),
    rows: t.lines.map((l) => {
      const r = l.current;
      const spend = r.effectiveCostNano;
      return {
        key: l.key,
        label: l.label,
        path: l.path,
        tier: l.tier,
        spendUsd: nanoToDecimalString(spend),
        spendNano: spend.toString(),
        listUsd: nanoToDecimalString(r.listCostNano),
        previousSpendUsd: nanoToDecimalString(l.previousNano),
        changePct: percentOf(spend - l.previousNano, l.previousNano),
        sharePct: percentOf(spend, t.totalNano) ?? 0,
        calls: r.calls,
        errors: r.errors,
        inputTokens: r.inputTokens.toString(),
        outputTokens: r.outputTokens.toString(),
        cacheReadTokens: r.cacheReadTokens.toString(),
        tokensPerRequest: r.calls > 0 ? Number(divRound(billedTokens(r) * 10n, BigInt(r.calls))) / 10 : null,
        budget: l.budget ? budgetUseJson(l.budget) : null,
        outcomes: l.outcomes === null ? null : Number(l.outcomes),
        costPerOutcomeUsd: l.outcomes !== null && l.outcomes > 0n ? nanoToDecimalString(divRound(spend, l.outcomes)) : null,
        unpricedCalls: r.unpricedCalls,
      };
    }),
  };
}
