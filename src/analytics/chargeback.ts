/**
 * The monthly chargeback statement of a team in chargeback mode: its budget as the opening balance,
 * debits per project and agent with line items (model × token type), adjustments, and the closing
 * balance. Every line is one token type of one rollup row and carries that row's key (bucket, agent,
 * provider, model), so any figure traces to the ledger; the lines sum exactly to the total.
 */
import { parsePeriod, periodWindow } from '../domain/budget-period.ts';
import { TollgateError } from '../domain/errors.ts';
import { formatUsd, nanoToDecimalString, usdToNano } from '../domain/money.ts';
import type { ChargebackAdjustment, RollupRow, TeamFlags } from '../ledger/chargeback-contract.ts';
import type { BudgetPolicy, ScopeNode, Store } from '../ledger/contract.ts';
import type { Pricer } from '../pricing/index.ts';
import type { TokenType, UnitPrices } from './cost-split.ts';
import { splitCost, TOKEN_TYPES, unitPrices } from './cost-split.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** One token type of one rollup row. */
export interface ChargebackLine {
  /** Which rollup the row is in: `day` (rollup_daily) for whole UTC days, `hour` (rollup_hourly) at the period's edges. */
  grain: 'day' | 'hour';
  /** The row's bucket start, epoch ms. */
  at: number;
  projectId: string;
  projectPath: string;
  agentId: string;
  agentPath: string;
  provider: string;
  model: string;
  tokenType: TokenType;
  quantity: bigint;
  listNano: bigint;
  /** Effective cost: what the team is charged. */
  debitNano: bigint;
}

/** Lines of one agent, model and token type added up. */
export interface LineItem {
  provider: string;
  model: string;
  tokenType: TokenType;
  quantity: bigint;
  listNano: bigint;
  debitNano: bigint;
  /** How many lines (rollup rows) it adds up. */
  lines: number;
}

export interface AgentDebits {
  id: string;
  path: string;
  calls: bigint;
  debitNano: bigint;
  items: LineItem[];
}

export interface ProjectDebits {
  id: string;
  path: string;
  debitNano: bigint;
  agents: AgentDebits[];
}

export interface ChargebackStatement {
  team: { id: string; path: string };
  /** `YYYY-MM`. */
  period: string;
  /** The month in the budget's time zone: [from, to). */
  from: number;
  to: number;
  timeZone: string;
  budget: BudgetPolicy;
  /** The team's chargeback budget for the month. */
  openingNano: bigint;
  debitsNano: bigint;
  /** The same calls at list price (before negotiated discounts). */
  listNano: bigint;
  calls: bigint;
  estimatedCalls: bigint;
  /** Calls recorded at $0 because their model had no price: flagged, never silently free. */
  unpricedCalls: bigint;
  projects: ProjectDebits[];
  lines: ChargebackLine[];
  adjustments: ChargebackAdjustment[];
  /** Signed sum of the adjustments (negative lowers the charge). */
  adjustmentsNano: bigint;
  /** The same with the sign of a balance: what the adjustments give back. */
  creditsNano: bigint;
  /** opening − debits + credits. */
  closingNano: bigint;
}

/** The statement of `teamPath` for `month` (`YYYY-MM`). Throws when the team is not in chargeback mode. */
export async function chargebackStatement(store: Store, pricer: Pricer, opts: { team: string; month: string }): Promise<ChargebackStatement> {
  const month = opts.month.trim();
  const m = MONTH.exec(month);
  if (!m) throw new TollgateError('invalid_request', `"${opts.month}" is not a month: write it as YYYY-MM, e.g. 2026-10`);
  const team = await store.directory.getScope(opts.team);
  if (!team) throw new TollgateError('not_found', `team "${opts.team}" does not exist (list them with: tollgate scopes list)`);
  if (team.tier !== 'team') throw new TollgateError('invalid_request', `"${team.path}" is ${team.tier === 'org' ? 'an' : 'a'} ${team.tier}: chargeback statements are per team (org/team, e.g. acme/support)`);
  const budget = await chargebackBudget(store, team);
  // Mid-month UTC lies inside that month in every time zone.
  const w = periodWindow(parsePeriod('month'), budget.timeZone, Date.UTC(Number(m[1]), Number(m[2]) - 1, 15));
  if (w.start % HOUR !== 0 || w.end % HOUR !== 0) {
    throw new TollgateError('invalid_request', `the ${budget.timeZone} month does not start on a whole UTC hour, and the ledger's rollups are hourly: use a zone with a whole-hour offset for chargeback budgets`);
  }
  const [scopes, adjustments] = await Promise.all([store.directory.listScopes({ under: team.path, includeArchived: true }), store.chargeback.listAdjustments({ teamPath: team.path, period: month })]);
  const paths = new Map(scopes.map((s) => [s.id, s.path]));
  const within = { tier: 'team' as const, id: team.id };

  const lines: ChargebackLine[] = [];
  let calls = 0n;
  let estimatedCalls = 0n;
  let unpricedCalls = 0n;
  const prices = new Map<string, UnitPrices>();
  const agentCalls = new Map<string, bigint>();
  for (const range of ranges(w.start, w.end)) {
    let cursor: string | undefined;
    do {
      const page = await store.chargeback.rollups({ ...range, within, ...(cursor === undefined ? {} : { cursor }) });
      for (const row of page.rows) {
        calls += row.calls;
        agentCalls.set(row.agentId, (agentCalls.get(row.agentId) ?? 0n) + row.calls);
        estimatedCalls += row.estimatedCalls;
        unpricedCalls += row.unpricedCalls;
        lines.push(...rowLines(row, range.grain, paths, pricesFor(prices, pricer, row)));
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  const debitsNano = sum(lines.map((l) => l.debitNano));
  const adjustmentsNano = sum(adjustments.map((a) => a.amountNano));
  return {
    team: { id: team.id, path: team.path },
    period: month,
    from: w.start,
    to: w.end,
    timeZone: budget.timeZone,
    budget,
    openingNano: budget.amountNano,
    debitsNano,
    listNano: sum(lines.map((l) => l.listNano)),
    calls,
    estimatedCalls,
    unpricedCalls,
    projects: group(lines, agentCalls, paths),
    lines,
    adjustments,
    adjustmentsNano,
    creditsNano: -adjustmentsNano,
    closingNano: budget.amountNano - debitsNano - adjustmentsNano,
  };
}

/** The team's monthly chargeback budget, or a clear error saying what the team has instead. */
async function chargebackBudget(store: Store, team: ScopeNode): Promise<BudgetPolicy> {
  const own = (await store.controls.listBudgets({ under: team.path })).filter((b) => b.scopeId === team.id);
  const charge = own.filter((b) => b.action === 'chargeback');
  const monthly = charge.find((b) => b.period === 'month');
  if (monthly) return monthly;
  if (charge.length > 0) {
    throw new TollgateError('invalid_request', `statements are monthly, and ${team.path}'s chargeback budget is per ${charge[0]!.period}: set a monthly one (tollgate budgets set --scope ${team.path} --period month --action chargeback --amount …)`);
  }
  const modes = own.length > 0 ? `its budget${own.length > 1 ? 's are' : ' is'} ${own.map((b) => `${b.action} per ${b.period}`).join(', ')}` : 'it has no team budget';
  throw new TollgateError(
    'invalid_request',
    `${team.path} is not in chargeback mode (${modes}); see its showback report instead, or move it to chargeback with: tollgate budgets set --scope ${team.path} --period month --action chargeback --amount <usd>`,
  );
}

/** Whole UTC days from the daily rollups, the ragged hours at either end from the hourly ones. */
export function ranges(from: number, to: number): { grain: 'day' | 'hour'; from: number; to: number }[] {
  const dayFrom = Math.ceil(from / DAY) * DAY;
  const dayTo = Math.floor(to / DAY) * DAY;
  if (dayFrom >= dayTo) return [{ grain: 'hour', from, to }];
  return [
    { grain: 'hour' as const, from, to: dayFrom },
    { grain: 'day' as const, from: dayFrom, to: dayTo },
    { grain: 'hour' as const, from: dayTo, to },
  ].filter((r) => r.from < r.to);
}

function pricesFor(memo: Map<string, UnitPrices>, pricer: Pricer, row: RollupRow): UnitPrices {
  // Prices are dated: the unit prices of the row's own bucket.
  const key = `${row.provider}\u0000${row.model}\u0000${row.at}`;
  let p = memo.get(key);
  if (!p) {
    p = unitPrices(pricer, row.provider, row.model, row.at);
    memo.set(key, p);
  }
  return p;
}

function rowLines(row: RollupRow, grain: 'day' | 'hour', paths: Map<string, string>, prices: UnitPrices): ChargebackLine[] {
  const out: ChargebackLine[] = [];
  for (const part of splitCost(row, prices)) {
    if (part.quantity === 0n && part.listNano === 0n && part.effectiveNano === 0n) continue;
    // A free per-request line says nothing the token lines do not.
    if (part.type === 'requests' && part.listNano === 0n && part.effectiveNano === 0n) continue;
    out.push({
      grain,
      at: row.at,
      projectId: row.projectId,
      projectPath: paths.get(row.projectId) ?? row.projectId,
      agentId: row.agentId,
      agentPath: paths.get(row.agentId) ?? row.agentId,
      provider: row.provider,
      model: row.model,
      tokenType: part.type,
      quantity: part.quantity,
      listNano: part.listNano,
      debitNano: part.effectiveNano,
    });
  }
  return out;
}

function group(lines: readonly ChargebackLine[], agentCalls: ReadonlyMap<string, bigint>, paths: ReadonlyMap<string, string>): ProjectDebits[] {
  const projects = new Map<string, { id: string; agents: Map<string, Map<string, LineItem>> }>();
  for (const l of lines) {
    let p = projects.get(l.projectId);
    if (!p) projects.set(l.projectId, (p = { id: l.projectId, agents: new Map<string, Map<string, LineItem>>() }));
    let a = p.agents.get(l.agentId);
    if (!a) p.agents.set(l.agentId, (a = new Map<string, LineItem>()));
    const k = `${l.provider}\u0000${l.model}\u0000${l.tokenType}`;
    const item = a.get(k);
    if (item) {
      item.quantity += l.quantity;
      item.listNano += l.listNano;
      item.debitNano += l.debitNano;
      item.lines += 1;
    } else a.set(k, { provider: l.provider, model: l.model, tokenType: l.tokenType, quantity: l.quantity, listNano: l.listNano, debitNano: l.debitNano, lines: 1 });
  }
  const byDebit = <T extends { debitNano: bigint; path: string }>(a: T, b: T) => (a.debitNano !== b.debitNano ? (a.debitNano > b.debitNano ? -1 : 1) : a.path < b.path ? -1 : 1);
  const typeOrder = (t: TokenType) => TOKEN_TYPES.indexOf(t);
  return [...projects.values()]
    .map((p) => {
      const agents = [...p.agents.entries()]
        .map(([id, items]) => {
          const list = [...items.values()].sort((x, y) => (x.model !== y.model ? (x.model < y.model ? -1 : 1) : x.provider !== y.provider ? (x.provider < y.provider ? -1 : 1) : typeOrder(x.tokenType) - typeOrder(y.tokenType)));
          return { id, path: paths.get(id) ?? id, calls: agentCalls.get(id) ?? 0n, debitNano: sum(list.map((i) => i.debitNano)), items: list };
        })
        .sort(byDebit);
      return { id: p.id, path: paths.get(p.id) ?? p.id, debitNano: sum(agents.map((a) => a.debitNano)), agents };
    })
    .sort(byDebit);
}

function sum(xs: Iterable<bigint>): bigint {
  let t = 0n;
  for (const x of xs) t += x;
  return t;
}

/** An adjustment amount as people write it (`-12.50`, `-$12.50`, `1,250`) → signed nano-USD. */
export function parseAdjustmentAmount(text: string): bigint {
  try {
    return usdToNano(text);
  } catch (err) {
    throw new TollgateError('invalid_request', `cannot read amount "${text}": give USD such as -12.50 (negative for a credit)`, { cause: err, details: { param: 'amount_usd' } });
  }
}

/** The statement in the API's JSON: money as exact decimal USD strings beside nano strings. */
export function statementJson(s: ChargebackStatement, opts: { lines?: boolean } = {}): Record<string, unknown> {
  const usd = (n: bigint) => nanoToDecimalString(n);
  return {
    team: s.team.path,
    team_id: s.team.id,
    period: s.period,
    from: new Date(s.from).toISOString(),
    to: new Date(s.to).toISOString(),
    time_zone: s.timeZone,
    budget_id: s.budget.id,
    opening_balance_usd: usd(s.openingNano),
    opening_balance_nano: s.openingNano.toString(),
    debits_usd: usd(s.debitsNano),
    debits_nano: s.debitsNano.toString(),
    list_usd: usd(s.listNano),
    credits_usd: usd(s.creditsNano),
    credits_nano: s.creditsNano.toString(),
    closing_balance_usd: usd(s.closingNano),
    closing_balance_nano: s.closingNano.toString(),
    calls: s.calls.toString(),
    estimated_calls: s.estimatedCalls.toString(),
    unpriced_calls: s.unpricedCalls.toString(),
    projects: s.projects.map((p) => ({
      project: p.path,
      project_id: p.id,
      debit_usd: usd(p.debitNano),
      debit_nano: p.debitNano.toString(),
      agents: p.agents.map((a) => ({
        agent: a.path,
        agent_id: a.id,
        calls: a.calls.toString(),
        debit_usd: usd(a.debitNano),
        debit_nano: a.debitNano.toString(),
        items: a.items.map((i) => ({
          provider: i.provider,
          model: i.model,
          token_type: i.tokenType,
          quantity: i.quantity.toString(),
          list_usd: usd(i.listNano),
          debit_usd: usd(i.debitNano),
          debit_nano: i.debitNano.toString(),
          lines: i.lines,
        })),
      })),
    })),
    adjustments: s.adjustments.map(adjustmentJson),
    ...(opts.lines === false ? {} : { lines: s.lines.map(lineJson) }),
  };
}

export function lineJson(l: ChargebackLine): Record<string, unknown> {
  return {
    rollup: l.grain === 'day' ? 'rollup_daily' : 'rollup_hourly',
    bucket: new Date(l.at).toISOString(),
    project: l.projectPath,
    agent: l.agentPath,
    agent_id: l.agentId,
    provider: l.provider,
    model: l.model,
    token_type: l.tokenType,
    quantity: l.quantity.toString(),
    list_usd: nanoToDecimalString(l.listNano),
    debit_usd: nanoToDecimalString(l.debitNano),
    debit_nano: l.debitNano.toString(),
  };
}

export const STATEMENT_CSV_HEADERS = ['entry', 'rollup', 'bucket', 'project', 'agent', 'agent_id', 'provider', 'model', 'token_type', 'quantity', 'list_usd', 'amount_usd', 'reason'] as const;

/**
 * The statement as CSV rows: the opening balance, one debit per line, the adjustments, the closing
 * balance; closing = opening − Σ debit − Σ adjustment.
 */
export function statementCsvRows(s: ChargebackStatement): (string | null)[][] {
  const usd = (n: bigint) => nanoToDecimalString(n);
  const fromIso = new Date(s.from).toISOString();
  return [
    ['opening', null, fromIso, null, null, null, null, null, null, null, null, usd(s.openingNano), `${s.budget.action} budget ${formatUsd(s.budget.amountNano)} per ${s.budget.period}`],
    ...s.lines.map((l) => [
      'debit',
      l.grain === 'day' ? 'rollup_daily' : 'rollup_hourly',
      new Date(l.at).toISOString(),
      l.projectPath,
      l.agentPath,
      l.agentId,
      l.provider,
      l.model,
      l.tokenType,
      l.quantity.toString(),
      usd(l.listNano),
      usd(l.debitNano),
      null,
    ]),
    ...s.adjustments.map((a) => ['adjustment', null, new Date(a.at).toISOString(), null, null, null, null, null, a.kind, null, null, usd(a.amountNano), a.reason]),
    ['closing', null, new Date(s.to).toISOString(), null, null, null, null, null, null, null, null, usd(s.closingNano), null],
  ];
}

/** An adjustment in the API's JSON. */
export function adjustmentJson(a: ChargebackAdjustment): Record<string, unknown> {
  return { id: a.id, team: a.teamPath, month: a.period, kind: a.kind, amount_usd: nanoToDecimalString(a.amountNano), amount_nano: a.amountNano.toString(), reason: a.reason, actor: a.actor, at: new Date(a.at).toISOString() };
}

/** A team's flags in the API's JSON. */
export function flagsJson(f: TeamFlags): Record<string, unknown> {
  return { team: f.teamPath, bills_customers: f.billsCustomers, compliance_hard_limits: f.complianceHardLimits, updated_at: f.updatedAt === null ? null : new Date(f.updatedAt).toISOString() };
}
