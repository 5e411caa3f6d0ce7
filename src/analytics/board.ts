/**
 * The board summary of one organisation for a quarter: total spend against the annual plan (the
 * org's `plan` budget), spend by team next to the previous quarter, $/outcome per workload against
 * its human baseline with ROI, and the three projects whose spend moved most. Quarters and the plan
 * year are UTC calendar periods; every figure comes from the rollups and the outcomes store.
 */
import { TollgateError } from '../domain/errors.ts';
import type { BudgetPolicy, Store } from '../ledger/contract.ts';
import type { UnitEconomicsReport } from './unit-economics.ts';
import { unitEconomics } from './unit-economics.ts';
import type { Window } from './unit-period.ts';
import { previousQuarter, quarterWindow } from './unit-period.ts';
import type { Ratio } from './unit-ratio.ts';
import { changeOf, ratio } from './unit-ratio.ts';

const RUN_RATE_MS = 28 * 86_400_000;

export type BoardStore = Pick<Store, 'directory' | 'ledger' | 'outcomes' | 'controls'>;

export interface BoardLine {
  path: string;
  name: string;
  spendNano: bigint;
  previousNano: bigint;
  /** spend ÷ previous − 1; null when nothing was spent before. */
  change: Ratio | null;
  /** Of the org's spend this quarter. */
  share: Ratio | null;
}

export interface BoardPlan {
  amountNano: bigint;
  period: string;
  /** The plan's year (UTC): spend from its start to the quarter's end (or now). */
  year: number;
  spentNano: bigint;
  used: Ratio;
  /** Spent, plus the last 28 days' run rate over the rest of the year (integer division: a forecast, not a ledger figure). */
  forecastNano: bigint;
  /** A quarter's share of the plan: amount ÷ 4 (yearly plan) or the amount (quarterly plan). */
  quarterShareNano: bigint;
}

export interface BoardSummary {
  org: { path: string; name: string };
  quarter: Window;
  previous: Window;
  /** When the quarter is still running, the instant its figures run to. */
  asOf: number | null;
  spendNano: bigint;
  previousNano: bigint;
  change: Ratio | null;
  plan: BoardPlan | null;
  teams: BoardLine[];
  unit: UnitEconomicsReport;
  /** $/outcome of each workload in the previous quarter, by `project\0type`. */
  previousCostPerOutcome: Map<string, bigint | null>;
  /** Projects by the size of their change in spend, largest first (three). */
  movers: (BoardLine & { team: string })[];
}

export async function boardSummary(store: BoardStore, o: { quarter: string; org?: string | undefined; now: number }): Promise<BoardSummary> {
  const q = quarterWindow(o.quarter);
  const prev = previousQuarter(q);
  const org = await resolveOrg(store, o.org);
  const within = { tier: 'org' as const, id: org.id };
  const yearStart = Date.UTC(q.year, 0, 1);
  const yearEnd = Date.UTC(q.year + 1, 0, 1);
  const [teamsNow, teamsBefore, projectsNow, projectsBefore, ytd, scopes, budgets, unit, unitBefore] = await Promise.all([
    store.ledger.spend({ from: q.from, to: q.to, groupBy: 'team', within }),
    store.ledger.spend({ from: prev.from, to: prev.to, groupBy: 'team', within }),
    store.ledger.spend({ from: q.from, to: q.to, groupBy: 'project', within }),
    store.ledger.spend({ from: prev.from, to: prev.to, groupBy: 'project', within }),
    store.ledger.spend({ from: yearStart, to: q.to, groupBy: 'org', within }),
    store.directory.listScopes({ under: org.path, includeArchived: true }),
    store.controls.listBudgets({ under: org.path }),
    unitEconomics(store, { scope: org.path, from: q.from, to: q.to, label: q.label, trend: false }),
    unitEconomics(store, { scope: org.path, from: prev.from, to: prev.to, label: prev.label, trend: false }),
  ]);
  const byId = new Map(scopes.map((s) => [s.id, s]));
  const sum = (rows: { effectiveCostNano: bigint }[]) => rows.reduce((s, r) => s + r.effectiveCostNano, 0n);
  const spendNano = sum(teamsNow);
  const previousNano = sum(teamsBefore);
  const lines = (now: { key: string; effectiveCostNano: bigint }[], before: { key: string; effectiveCostNano: bigint }[]): BoardLine[] => {
    const b = new Map(before.map((r) => [r.key, r.effectiveCostNano]));
    const keys = [...new Set([...now.map((r) => r.key), ...b.keys()])];
    const n = new Map(now.map((r) => [r.key, r.effectiveCostNano]));
    return keys.map((k) => {
      const s = byId.get(k);
      const spend = n.get(k) ?? 0n;
      const previous = b.get(k) ?? 0n;
      return { path: s?.path ?? k, name: s?.name ?? k, spendNano: spend, previousNano: previous, change: changeOf(spend, previous), share: ratio(spend, spendNano) };
    });
  };
  const teams = lines(teamsNow, teamsBefore).sort((a, b) => (b.spendNano > a.spendNano ? 1 : b.spendNano < a.spendNano ? -1 : a.path < b.path ? -1 : 1));
  const abs = (v: bigint) => (v < 0n ? -v : v);
  const movers = lines(projectsNow, projectsBefore)
    .filter((l) => l.spendNano !== l.previousNano)
    .sort((a, b) => {
      const da = abs(a.spendNano - a.previousNano);
      const db = abs(b.spendNano - b.previousNano);
      return db > da ? 1 : db < da ? -1 : a.path < b.path ? -1 : 1;
    })
    .slice(0, 3)
    .map((l) => ({ ...l, team: l.path.split('/').slice(0, 2).join('/') }));

  const asOf = o.now < q.to ? Math.max(o.now, q.from) : null;
  const planBudget = pickPlan(budgets.filter((b) => b.scopeId === org.id && b.action === 'plan'));
  let plan: BoardPlan | null = null;
  if (planBudget) {
    const spent = sum(ytd);
    // Run rate: the last 28 days before the quarter's end (or now), over what is left of the year.
    const until = Math.min(Math.max(o.now, yearStart), q.to);
    const recentFrom = Math.max(yearStart, until - RUN_RATE_MS);
    const recent = until > recentFrom ? sum(await store.ledger.spend({ from: recentFrom, to: until, groupBy: 'org', within })) : 0n;
    const rest = BigInt(Math.max(0, yearEnd - until));
    plan = {
      amountNano: planBudget.amountNano,
      period: planBudget.period,
      year: q.year,
      spentNano: spent,
      used: { num: spent, den: planBudget.amountNano },
      forecastNano: until > recentFrom ? spent + (recent * rest) / BigInt(until - recentFrom) : spent,
      quarterShareNano: planBudget.period === 'year' ? planBudget.amountNano / 4n : planBudget.amountNano,
    };
  }
  return {
    org: { path: org.path, name: org.name },
    quarter: q,
    previous: prev,
    asOf,
    spendNano,
    previousNano,
    change: changeOf(spendNano, previousNano),
    plan,
    teams,
    unit,
    previousCostPerOutcome: new Map(unitBefore.workloads.map((w) => [`${w.projectId}\u0000${w.type}`, w.costPerOutcomeNano])),
    movers,
  };
}

/** A yearly plan is the annual plan; a quarterly one is used when there is no yearly plan. */
function pickPlan(plans: BudgetPolicy[]): BudgetPolicy | null {
  return plans.find((p) => p.period === 'year') ?? plans.find((p) => p.period === 'quarter') ?? null;
}

async function resolveOrg(store: BoardStore, org: string | undefined) {
  if (org !== undefined) {
    const s = await store.directory.getScope(org);
    if (!s) throw new TollgateError('not_found', `organisation "${org}" does not exist`);
    if (s.tier !== 'org') throw new TollgateError('invalid_request', `the board summary is per organisation: "${s.path}" is a ${s.tier}; give its org (e.g. ${s.path.split('/')[0]})`);
    return s;
  }
  const orgs = (await store.directory.listScopes()).filter((s) => s.tier === 'org');
  if (orgs.length === 0) throw new TollgateError('not_found', 'no organisation yet: create keys or scopes first (tollgate scopes create acme/…)');
  if (orgs.length > 1) throw new TollgateError('invalid_request', `there are ${orgs.length} organisations (${orgs.map((s) => s.path).join(', ')}): say which with --org`);
  return orgs[0]!;
}
