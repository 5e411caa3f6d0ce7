/**
 * Escalation advice: per team, the evidence for moving from showback to chargeback, on the three
 * triggers: repeated overspend (over its showback budget in at least 2 of the last 3 closed periods
 * in which it was shown that budget), billing its own customers, and compliance requiring hard
 * limits. Advice only: nothing here changes a budget.
 */
import { DateTime } from 'luxon';
import { parsePeriod, periodWindow } from '../domain/budget-period.ts';
import type { CalendarUnit } from '../domain/budget-period.ts';
import { formatUsd, nanoToDecimalString } from '../domain/money.ts';
import type { TeamFlags } from '../ledger/chargeback-contract.ts';
import type { BudgetAction, BudgetPolicy, Store } from '../ledger/contract.ts';

/** Periods looked back on, and how many of them over budget fire the trigger. */
export const LOOKBACK = 3;
export const OVERSPEND_THRESHOLD = 2;

export type TeamMode = 'showback' | 'chargeback' | 'none';

export interface PeriodSpend {
  /** e.g. `2026-10`, `2026-Q3`, `2026-W41`. */
  label: string;
  from: number;
  to: number;
  spentNano: bigint;
  budgetNano: bigint;
  /** The showback budget existed before the period ended, so the team saw its line. */
  shown: boolean;
  /** Spent more than the budget (only counted when shown). */
  over: boolean;
}

export interface EscalationAdvice {
  team: { id: string; path: string };
  mode: TeamMode;
  /** The showback budget the overspend trigger compares with (for a team in chargeback: its chargeback budget); null when there is none. */
  budget: BudgetPolicy | null;
  triggers: {
    repeatedOverspend: { fired: boolean; overCount: number; periods: PeriodSpend[] };
    billsCustomers: { fired: boolean };
    complianceHardLimits: { fired: boolean };
  };
  /** True when at least one trigger fired on a team not yet in chargeback. Never applied automatically. */
  recommend: boolean;
  /** One paragraph a finance lead can read: the recommendation and its evidence. */
  advice: string;
}

const ADJECTIVE: Record<CalendarUnit, string> = { day: 'daily', week: 'weekly', month: 'monthly', quarter: 'quarterly', year: 'yearly' };
const LABEL_FORMAT: Record<CalendarUnit, string> = { day: 'yyyy-MM-dd', week: "kkkk-'W'WW", month: 'yyyy-MM', quarter: "yyyy-'Q'q", year: 'yyyy' };

/** Advice for every team (optionally under a scope), in path order, as of `now`. */
export async function escalationAdvice(store: Store, opts: { under?: string; now: number }): Promise<EscalationAdvice[]> {
  const under = opts.under?.trim() || undefined;
  const scopeOpts = under === undefined ? {} : { under };
  const [scopes, budgets, flags] = await Promise.all([store.directory.listScopes(scopeOpts), store.controls.listBudgets(scopeOpts), store.chargeback.listTeamFlags(scopeOpts)]);
  const flagsOf = new Map<string, TeamFlags>(flags.map((f) => [f.teamId, f]));
  const out: EscalationAdvice[] = [];
  for (const team of scopes.filter((s) => s.tier === 'team')) {
    const own = budgets.filter((b) => b.scopeId === team.id);
    const mode = modeOf(own.map((b) => b.action));
    const budget = mode === 'chargeback' ? (own.find((b) => b.action === 'chargeback' && b.period === 'month') ?? own.find((b) => b.action === 'chargeback') ?? null) : showbackBudget(own);
    const periods = mode !== 'chargeback' && budget ? await lookback(store, budget, opts.now) : [];
    const overCount = periods.filter((p) => p.over).length;
    const f = flagsOf.get(team.id);
    const triggers = {
      repeatedOverspend: { fired: overCount >= OVERSPEND_THRESHOLD, overCount, periods },
      billsCustomers: { fired: f?.billsCustomers ?? false },
      complianceHardLimits: { fired: f?.complianceHardLimits ?? false },
    };
    const recommend = mode !== 'chargeback' && (triggers.repeatedOverspend.fired || triggers.billsCustomers.fired || triggers.complianceHardLimits.fired);
    const entry = { team: { id: team.id, path: team.path }, mode, budget, triggers, recommend };
    out.push({ ...entry, advice: adviceText(entry) });
  }
  return out;
}

function modeOf(actions: BudgetAction[]): TeamMode {
  if (actions.includes('chargeback')) return 'chargeback';
  if (actions.includes('showback')) return 'showback';
  return 'none';
}

/** The team's showback budget on a calendar period, the monthly one first. */
function showbackBudget(own: BudgetPolicy[]): BudgetPolicy | null {
  const calendar = own.filter((b) => b.action === 'showback' && parsePeriod(b.period).kind === 'calendar');
  return calendar.find((b) => b.period === 'month') ?? calendar[0] ?? null;
}

/** The last closed periods, oldest first, with what the team spent in each (from the rollups). */
async function lookback(store: Store, budget: BudgetPolicy, now: number): Promise<PeriodSpend[]> {
  const period = parsePeriod(budget.period);
  if (period.kind !== 'calendar') return [];
  const windows: { from: number; to: number }[] = [];
  let at = periodWindow(period, budget.timeZone, now).start;
  for (let i = 0; i < LOOKBACK; i++) {
    const w = periodWindow(period, budget.timeZone, at - 1);
    windows.unshift({ from: w.start, to: w.end });
    at = w.start;
  }
  const within = { tier: budget.tier, id: budget.scopeId };
  return Promise.all(
    windows.map(async (w) => {
      const [row] = await store.ledger.spend({ from: w.from, to: w.to, groupBy: 'team', within });
      const spentNano = row?.effectiveCostNano ?? 0n;
      const shown = budget.createdAt < w.to;
      const label = DateTime.fromMillis(w.from, { zone: budget.timeZone }).toFormat(LABEL_FORMAT[period.unit]);
      return { label, from: w.from, to: w.to, spentNano, budgetNano: budget.amountNano, shown, over: shown && spentNano > budget.amountNano };
    }),
  );
}

function adviceText(a: Omit<EscalationAdvice, 'advice'>): string {
  const t = a.triggers;
  const unit: CalendarUnit = a.budget?.period && a.budget.period in ADJECTIVE ? (a.budget.period as CalendarUnit) : 'month';
  if (a.mode === 'chargeback') return `${a.team.path} is already in chargeback: its spend is debited and held to its budget.`;
  const evidence: string[] = [];
  const o = t.repeatedOverspend;
  const overList = o.periods.filter((p) => p.over).map((p) => `${p.label}: ${formatUsd(p.spentNano)}`);
  if (o.fired && a.budget) evidence.push(`over its ${formatUsd(a.budget.amountNano)} ${ADJECTIVE[unit]} showback budget in ${o.overCount} of the last ${LOOKBACK} ${unit}s (${overList.join(', ')})`);
  if (t.billsCustomers.fired) evidence.push('it bills its own customers for this spend');
  if (t.complianceHardLimits.fired) evidence.push('compliance requires hard limits on its spend');
  if (a.recommend) {
    const amount = a.budget ? nanoToDecimalString(a.budget.amountNano).replace(/\.?0+$/, '') : '<usd>';
    return (
      `Recommend moving ${a.team.path} from ${a.mode === 'none' ? 'no budget' : 'showback'} to chargeback: ${evidence.join('; ')}. ` +
      `Not applied automatically; to apply: tollgate budgets set --scope ${a.team.path} --period ${a.budget?.period ?? 'month'} --action chargeback --amount ${amount}`
    );
  }
  if (!a.budget) {
    return a.mode === 'none'
      ? `No trigger fired. ${a.team.path} has no showback budget, so overspend cannot be judged: set one with tollgate budgets set --scope ${a.team.path} --period month --amount <usd>.`
      : `No trigger fired. ${a.team.path}'s showback budget is on a rolling window, which has no closed periods to judge overspend by.`;
  }
  const shown = o.periods.filter((p) => p.shown).length;
  return shown === 0
    ? `Stay on showback: the budget is newer than the last ${LOOKBACK} ${unit}s, so there is no overspend record yet, and no flag is set.`
    : `Stay on showback: over budget in ${o.overCount} of the last ${LOOKBACK} ${unit}s${shown < LOOKBACK ? ` (shown in ${shown} of them)` : ''} (${OVERSPEND_THRESHOLD} needed), and no flag is set.`;
}

/** The advice in the API's JSON: money as exact decimal USD strings beside nano strings. */
export function adviceJson(a: EscalationAdvice): Record<string, unknown> {
  return {
    team: a.team.path,
    team_id: a.team.id,
    mode: a.mode,
    recommend_chargeback: a.recommend,
    budget: a.budget ? { id: a.budget.id, period: a.budget.period, amount_usd: nanoToDecimalString(a.budget.amountNano), created_at: new Date(a.budget.createdAt).toISOString() } : null,
    triggers: {
      repeated_overspend: {
        fired: a.triggers.repeatedOverspend.fired,
        over_count: a.triggers.repeatedOverspend.overCount,
        periods: a.triggers.repeatedOverspend.periods.map((p) => ({
          period: p.label,
          from: new Date(p.from).toISOString(),
          to: new Date(p.to).toISOString(),
          spent_usd: nanoToDecimalString(p.spentNano),
          spent_nano: p.spentNano.toString(),
          budget_usd: nanoToDecimalString(p.budgetNano),
          shown: p.shown,
          over: p.over,
        })),
      },
      bills_customers: a.triggers.billsCustomers.fired,
      compliance_hard_limits: a.triggers.complianceHardLimits.fired,
    },
    advice: a.advice,
  };
}
