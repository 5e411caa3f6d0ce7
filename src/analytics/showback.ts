/**
 * Showback: per team of an org (or per project of a team), a month's spend next to last month's,
 * its share of the whole, its month budget and how much of it is used, its top projects, agents and
 * models, its cost per outcome, and its rank among its peers. Spend is effective cost (after
 * negotiated discounts) read from the daily rollups (months are whole UTC days); outcomes are the
 * outcomes store's counts for the month. Money stays integer nano-USD; percentages are integer basis points.
 */
import { TollgateError } from '../domain/errors.ts';
import { divRound, nanoToDecimalString } from '../domain/money.ts';
import { formatScope, parseScope } from '../domain/scope.ts';
import type { Tier } from '../domain/scope.ts';
import type { BudgetAction, BudgetPolicy, GroupBy, ScopeNode, SpendRow, Store } from '../ledger/contract.ts';

export type ShowbackLevel = 'team' | 'project';

export interface MonthRange {
  /** `YYYY-MM` */
  label: string;
  /** Inclusive epoch ms, UTC midnight of the 1st. */
  from: number;
  /** Exclusive epoch ms. */
  to: number;
}

export interface TopItem {
  /** Scope id, or the model name. */
  key: string;
  /** Relative to the line: `helpdesk`, `helpdesk/triage-bot`, `claude-sonnet-4-5`. */
  name: string;
  spendNano: bigint;
  /** Of the line's spend; null when the line spent nothing. */
  shareBp: number | null;
}

export interface LineBudget {
  amountNano: bigint;
  action: BudgetAction;
  /** The zone the budget's own month is aligned in (the report's months are UTC). */
  timeZone: string;
  /** Spend of the report's month over the amount, in basis points (10000 = 100 %). */
  usedBp: number;
}

export interface LineOutcomes {
  /** Σ count over every outcome type recorded in the month. */
  count: bigint;
  /** Spend ÷ count, rounded half away from zero to the nano-USD; null when count is 0. */
  costPerOutcomeNano: bigint | null;
  byType: { type: string; count: bigint }[];
}

export interface ShowbackLine {
  id: string;
  path: string;
  /** The last path segment. */
  name: string;
  archived: boolean;
  /** 1 for the biggest spender; equal spend shares a rank (1, 2, 2, 4). */
  rank: number;
  calls: number;
  spendNano: bigint;
  listCostNano: bigint;
  previousNano: bigint;
  changeNano: bigint;
  /** Change over last month's spend, in basis points; null when last month was $0. */
  changeBp: number | null;
  /** Of the parent's spend, in basis points; null when the parent spent nothing. */
  shareBp: number | null;
  budget: LineBudget | null;
  top: { projects: TopItem[] | null; agents: TopItem[]; models: TopItem[] };
  outcomes: LineOutcomes | null;
  unpricedCalls: number;
}

export interface ShowbackReport {
  month: MonthRange;
  previousMonth: MonthRange;
  /** What the lines are: teams of an org, or projects of a team. */
  level: ShowbackLevel;
  scope: { id: string; path: string; tier: Tier };
  /** The scope's own month budget, if it has one. */
  scopeBudget: LineBudget | null;
  totalNano: bigint;
  totalListNano: bigint;
  previousTotalNano: bigint;
  changeNano: bigint;
  changeBp: number | null;
  calls: number;
  outcomes: LineOutcomes | null;
  unpricedCalls: number;
  lines: ShowbackLine[];
}

const TOP_N = 3;

/** `2026-10` → its UTC month. */
export function parseMonthLabel(text: string): MonthRange {
  const m = /^(\d{4})-(\d{2})$/.exec(text.trim());
  const month = m ? Number(m[2]) : 0;
  if (!m || month < 1 || month > 12 || Number(m[1]) < 1970) {
    throw new TollgateError('invalid_request', `cannot read month "${text}": use YYYY-MM, e.g. 2026-10`);
  }
  return monthOf(Number(m[1]), month);
}

function monthOf(year: number, month: number): MonthRange {
  const from = Date.UTC(year, month - 1, 1);
  const d = new Date(from);
  return { label: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`, from, to: Date.UTC(year, month, 1) };
}

export function previousMonthOf(m: MonthRange): MonthRange {
  const d = new Date(m.from);
  return monthOf(d.getUTCFullYear(), d.getUTCMonth());
}

/** The UTC month containing `now`. */
export function monthContaining(now: number): MonthRange {
  const d = new Date(now);
  return monthOf(d.getUTCFullYear(), d.getUTCMonth() + 1);
}

export interface ShowbackOptions {
  /** `YYYY-MM` (UTC). */
  month: string;
  /** An org (lines are its teams) or a team (lines are its projects); omitted: the only org. */
  scope?: string;
}

export async function showback(store: Store, opts: ShowbackOptions): Promise<ShowbackReport> {
  const month = parseMonthLabel(opts.month);
  const previousMonth = previousMonthOf(month);
  const scope = await resolveScope(store, opts.scope);
  const level: ShowbackLevel = scope.tier === 'org' ? 'team' : 'project';
  const within = { tier: scope.tier, id: scope.id };
  const spend = (range: MonthRange, groupBy: GroupBy, w = within) => store.ledger.spend({ from: range.from, to: range.to, groupBy, within: w });

  const [nodes, budgets, agents, previous] = await Promise.all([
    store.directory.listScopes({ under: scope.path, includeArchived: true }),
    store.controls.listBudgets({ under: scope.path }),
    spend(month, 'agent'),
    spend(previousMonth, level),
  ]);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const ancestor = (id: string, tier: Tier): string | undefined => {
    for (let n = byId.get(id); n; n = n.parentId === null ? undefined : byId.get(n.parentId)) if (n.tier === tier) return n.id;
    return undefined;
  };
  // The month's agent rows summed up to their team (or project): one rollup read serves the lines and
  // their top lists. Should the directory lack an agent, the lines are read from the rollups directly.
  const current = agents.every((r) => ancestor(r.key, level) !== undefined) ? foldRows(agents, (k) => ancestor(k, level)) : await spend(month, level);
  const currentBy = new Map(current.map((r) => [r.key, r]));
  const previousBy = new Map(previous.map((r) => [r.key, r]));

  // Every child in the directory that is live or spent something, plus any id the ledger has that the directory lacks.
  const childIds = new Set<string>();
  for (const n of nodes) if (n.parentId === scope.id && n.tier === level && (n.archivedAt === null || currentBy.has(n.id) || previousBy.has(n.id))) childIds.add(n.id);
  for (const r of [...current, ...previous]) childIds.add(r.key);
  const ids = [...childIds];

  // Outcomes: one index-only range read per team (outcomes_team_counts), or one for the projects of a team.
  const outcomeQueries = level === 'team' ? ids.filter((id) => byId.has(id)).map((id) => ({ tier: 'team' as const, id })) : [within];
  const [models, outcomeRows] = await Promise.all([
    Promise.all(ids.map((id) => (currentBy.has(id) ? spend(month, 'model', { tier: level, id }) : Promise.resolve([])))),
    Promise.all(outcomeQueries.map((w) => store.outcomes.counts({ from: month.from, to: month.to, within: w }))),
  ]);

  const grouped = (rows: readonly SpendRow[]) => {
    const out = new Map<string, SpendRow[]>();
    for (const r of rows) {
      const line = ancestor(r.key, level);
      if (line === undefined) continue;
      const list = out.get(line);
      if (list) list.push(r);
      else out.set(line, [r]);
    }
    return out;
  };
  const agentsBy = grouped(agents);
  const projectsBy = grouped(level === 'team' ? foldRows(agents, (k) => ancestor(k, 'project')) : []);
  const outcomesBy = new Map<string, { type: string; count: bigint }[]>();
  for (const o of outcomeRows.flat()) {
    const line = ancestor(o.projectId, level) ?? (level === 'project' ? o.projectId : undefined);
    if (line === undefined) continue;
    const list = outcomesBy.get(line);
    if (list) list.push({ type: o.type, count: o.outcomes });
    else outcomesBy.set(line, [{ type: o.type, count: o.outcomes }]);
  }
  const monthBudget = (id: string, spent: bigint) => lineBudget(budgets.find((b) => b.scopeId === id && b.period === 'month'), spent);

  const totalNano = sum(current, (r) => r.effectiveCostNano);
  const previousTotalNano = sum(previous, (r) => r.effectiveCostNano);
  const lines = ids.map((id, i): ShowbackLine => {
    const node = byId.get(id);
    const path = node?.path ?? id;
    const cur = currentBy.get(id);
    const spendNano = cur?.effectiveCostNano ?? 0n;
    const previousNano = previousBy.get(id)?.effectiveCostNano ?? 0n;
    const relative = (key: string) => {
      const p = byId.get(key)?.path;
      return p !== undefined && p.startsWith(`${path}/`) ? p.slice(path.length + 1) : (p ?? key);
    };
    const top = (rows: readonly SpendRow[] | undefined, name: (key: string) => string) =>
      sortSpend(rows ?? []).slice(0, TOP_N).map((r) => ({ key: r.key, name: name(r.key), spendNano: r.effectiveCostNano, shareBp: ratioBp(r.effectiveCostNano, spendNano) }));
    return {
      id,
      path,
      name: node?.slug ?? id,
      archived: node ? node.archivedAt !== null : false,
      rank: 0,
      calls: cur?.calls ?? 0,
      spendNano,
      listCostNano: cur?.listCostNano ?? 0n,
      previousNano,
      changeNano: spendNano - previousNano,
      changeBp: ratioBp(spendNano - previousNano, previousNano),
      shareBp: ratioBp(spendNano, totalNano),
      budget: monthBudget(id, spendNano),
      top: {
        projects: level === 'team' ? top(projectsBy.get(id), relative) : null,
        agents: top(agentsBy.get(id), relative),
        models: top(models[i], (k) => k),
      },
      outcomes: lineOutcomes(outcomesBy.get(id), spendNano),
      unpricedCalls: cur?.unpricedCalls ?? 0,
    };
  });
  lines.sort((a, b) => cmpSpend(a.spendNano, b.spendNano) || cmpText(a.path, b.path));
  lines.forEach((l, i) => (l.rank = i > 0 && l.spendNano === lines[i - 1]!.spendNano ? lines[i - 1]!.rank : i + 1));

  return {
    month,
    previousMonth,
    level,
    scope: { id: scope.id, path: scope.path, tier: scope.tier },
    scopeBudget: monthBudget(scope.id, totalNano),
    totalNano,
    totalListNano: sum(current, (r) => r.listCostNano),
    previousTotalNano,
    changeNano: totalNano - previousTotalNano,
    changeBp: ratioBp(totalNano - previousTotalNano, previousTotalNano),
    calls: current.reduce((s, r) => s + r.calls, 0),
    outcomes: lineOutcomes(ids.flatMap((id) => outcomesBy.get(id) ?? []), totalNano),
    unpricedCalls: current.reduce((s, r) => s + r.unpricedCalls, 0),
    lines,
  };
}

async function resolveScope(store: Store, path: string | undefined): Promise<ScopeNode> {
  if (path === undefined) {
    const orgs = (await store.directory.listScopes()).filter((n) => n.tier === 'org');
    if (orgs.length === 1) return orgs[0]!;
    if (orgs.length === 0) throw new TollgateError('not_found', 'no org in the directory yet: create one with `tollgate scopes create <org>/<team>` or `tollgate keys create --scope …`');
    throw new TollgateError('invalid_request', `there are ${orgs.length} orgs (${orgs.map((o) => o.path).join(', ')}): choose one with --scope <org>`);
  }
  const normalised = formatScope(parseScope(path));
  const node = await store.directory.getScope(normalised);
  if (!node) throw new TollgateError('not_found', `scope "${normalised}" does not exist (see \`tollgate scopes list\`)`);
  if (node.tier !== 'org' && node.tier !== 'team') {
    throw new TollgateError('invalid_request', `showback is per team of an org or per project of a team: "${normalised}" is a ${node.tier}; pass --scope ${normalised.split('/').slice(0, 2).join('/')}`);
  }
  return node;
}

/** Rows summed by the key `keyOf` gives them (rows it gives none are left out); every sum stays an exact integer. */
function foldRows(rows: readonly SpendRow[], keyOf: (key: string) => string | undefined): SpendRow[] {
  const out = new Map<string, SpendRow>();
  for (const r of rows) {
    const key = keyOf(r.key);
    if (key === undefined) continue;
    const acc = out.get(key);
    if (!acc) {
      out.set(key, { ...r, key });
      continue;
    }
    acc.calls += r.calls;
    acc.errors += r.errors;
    acc.inputTokens += r.inputTokens;
    acc.cacheReadTokens += r.cacheReadTokens;
    acc.cacheWrite5mTokens += r.cacheWrite5mTokens;
    acc.cacheWrite1hTokens += r.cacheWrite1hTokens;
    acc.outputTokens += r.outputTokens;
    acc.reasoningTokens += r.reasoningTokens;
    acc.listCostNano += r.listCostNano;
    acc.effectiveCostNano += r.effectiveCostNano;
    acc.estimatedCalls += r.estimatedCalls;
    acc.unpricedCalls += r.unpricedCalls;
  }
  return [...out.values()];
}

function lineBudget(b: BudgetPolicy | undefined, spent: bigint): LineBudget | null {
  if (!b) return null;
  return { amountNano: b.amountNano, action: b.action, timeZone: b.timeZone, usedBp: ratioBp(spent, b.amountNano) ?? 0 };
}

function lineOutcomes(rows: readonly { type: string; count: bigint }[] | undefined, spendNano: bigint): LineOutcomes | null {
  if (!rows || rows.length === 0) return null;
  const byType = new Map<string, bigint>();
  for (const r of rows) byType.set(r.type, (byType.get(r.type) ?? 0n) + r.count);
  const count = sum([...byType.values()], (c) => c);
  return {
    count,
    costPerOutcomeNano: count > 0n ? divRound(spendNano, count) : null,
    byType: [...byType].map(([type, c]) => ({ type, count: c })).sort((a, b) => cmpSpend(a.count, b.count) || cmpText(a.type, b.type)),
  };
}

/** n / d in basis points, rounded half away from zero; null when d is not positive. */
export function ratioBp(n: bigint, d: bigint): number | null {
  return d > 0n ? Number(divRound(n * 10_000n, d)) : null;
}

function sum<T>(rows: readonly T[], f: (r: T) => bigint): bigint {
  let s = 0n;
  for (const r of rows) s += f(r);
  return s;
}

/** Biggest first. */
function cmpSpend(a: bigint, b: bigint): number {
  return a > b ? -1 : a < b ? 1 : 0;
}

/** Code-point order: the same on every backend and collation. */
function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortSpend(rows: readonly SpendRow[]): SpendRow[] {
  return rows.filter((r) => r.effectiveCostNano !== 0n || r.calls > 0).sort((a, b) => cmpSpend(a.effectiveCostNano, b.effectiveCostNano) || cmpText(a.key, b.key));
}

/** `12.3 %` style, from basis points. */
export function formatBp(bp: number | null, opts: { sign?: boolean } = {}): string {
  if (bp === null) return '—';
  const s = (Math.abs(bp) / 100).toFixed(1);
  return `${bp < 0 ? '-' : opts.sign && bp > 0 ? '+' : ''}${s}%`;
}

const usd = (nano: bigint) => nanoToDecimalString(nano);
const pct = (bp: number | null) => (bp === null ? null : bp / 100);

function budgetJson(b: LineBudget | null) {
  return b && { amount_usd: usd(b.amountNano), amount_nano: b.amountNano.toString(), action: b.action, time_zone: b.timeZone, used_pct: pct(b.usedBp) };
}

function outcomesJson(o: LineOutcomes | null) {
  return (
    o && {
      count: o.count.toString(),
      cost_per_outcome_usd: o.costPerOutcomeNano === null ? null : usd(o.costPerOutcomeNano),
      cost_per_outcome_nano: o.costPerOutcomeNano?.toString() ?? null,
      by_type: o.byType.map((t) => ({ type: t.type, count: t.count.toString() })),
    }
  );
}

function topJson(items: readonly TopItem[]) {
  return items.map((t) => ({ name: t.name, spend_usd: usd(t.spendNano), spend_nano: t.spendNano.toString(), share_pct: pct(t.shareBp) }));
}

/** The report as the CLI's --json and the admin API print it: money as decimal USD and nano strings, percentages as numbers. */
export function showbackJson(r: ShowbackReport) {
  return {
    month: r.month.label,
    previous_month: r.previousMonth.label,
    level: r.level,
    scope: r.scope.path,
    basis: 'effective cost (after discounts), UTC calendar month, from the daily rollups',
    total: {
      spend_usd: usd(r.totalNano),
      spend_nano: r.totalNano.toString(),
      list_usd: usd(r.totalListNano),
      calls: r.calls,
      previous_usd: usd(r.previousTotalNano),
      previous_nano: r.previousTotalNano.toString(),
      change_usd: usd(r.changeNano),
      change_nano: r.changeNano.toString(),
      change_pct: pct(r.changeBp),
      budget: budgetJson(r.scopeBudget),
      outcomes: outcomesJson(r.outcomes),
      unpriced_calls: r.unpricedCalls,
    },
    lines: r.lines.map((l) => ({
      rank: l.rank,
      of: r.lines.length,
      [r.level]: l.path,
      name: l.name,
      archived: l.archived,
      calls: l.calls,
      spend_usd: usd(l.spendNano),
      spend_nano: l.spendNano.toString(),
      list_usd: usd(l.listCostNano),
      previous_usd: usd(l.previousNano),
      previous_nano: l.previousNano.toString(),
      change_usd: usd(l.changeNano),
      change_nano: l.changeNano.toString(),
      change_pct: pct(l.changeBp),
      share_pct: pct(l.shareBp),
      budget: budgetJson(l.budget),
      ...(l.top.projects ? { top_projects: topJson(l.top.projects) } : {}),
      top_agents: topJson(l.top.agents),
      top_models: topJson(l.top.models),
      outcomes: outcomesJson(l.outcomes),
      unpriced_calls: l.unpricedCalls,
    })),
  };
}

/** One CSV row per line (no total row, so a spreadsheet's sum is the total); pass to `toCsv`. */
export function showbackCsv(r: ShowbackReport): { headers: string[]; rows: (string | number | null)[][] } {
  const tops = (items: readonly TopItem[] | null) => (items ?? []).map((t) => `${t.name}=${usd(t.spendNano)}`).join('; ');
  const headers = [
    'month', 'level', 'rank', 'scope', 'name', 'spend_usd', 'previous_usd', 'change_usd', 'change_pct', 'share_pct',
    'budget_usd', 'budget_action', 'budget_used_pct', 'outcomes', 'cost_per_outcome_usd', 'calls', 'list_usd',
    'top_projects', 'top_agents', 'top_models',
  ];
  const rows = r.lines.map((l) => [
    r.month.label, r.level, l.rank, l.path, l.name, usd(l.spendNano), usd(l.previousNano), usd(l.changeNano), pct(l.changeBp), pct(l.shareBp),
    l.budget ? usd(l.budget.amountNano) : null, l.budget?.action ?? null, l.budget ? pct(l.budget.usedBp) : null,
    l.outcomes ? l.outcomes.count.toString() : null,
    l.outcomes?.costPerOutcomeNano != null ? usd(l.outcomes.costPerOutcomeNano) : null,
    l.calls, usd(l.listCostNano), l.top.projects ? tops(l.top.projects) : null, tops(l.top.agents), tops(l.top.models),
  ]);
  return { headers, rows };
}
