import type { Command } from 'commander';
import { budgetInput } from '../../admin/budgets.ts';
import { budgetJson, budgetStatus } from '../../analytics/budget-status.ts';
import type { BudgetStatus } from '../../analytics/budget-status.ts';
import { formatUsd } from '../../domain/money.ts';
import type { CliContext } from '../context.ts';
import { isoOrDash, table, toJson } from '../output.ts';

export function registerBudgets(program: Command, ctx: CliContext): void {
  const budgets = program.command('budgets').description('budgets per scope and period: hard ceilings, soft caps, showback, chargeback, plans');

  budgets
    .command('set')
    .description('create or replace the budget of a scope for a period (the action defaults to the tier\'s: agent hard, project soft, team showback, org plan)')
    .requiredOption('--scope <path>', 'org, org/team, org/team/project or org/team/project/agent')
    .requiredOption('--amount <usd>', 'the budget in USD, e.g. 500 or 1250.50')
    .requiredOption('--period <period>', 'day, week, month, quarter, year, or rolling:24h / rolling:7d')
    .option('--action <action>', 'hard (refuse), soft (alert, optionally degrade), showback (alert, never refuse), chargeback (debit, refuse when spent), plan (alert)')
    .option('--thresholds <list>', 'alert at these percentages, e.g. 50,80,100', '50,80,100')
    .option('--time-zone <zone>', 'IANA zone calendar periods are aligned in (default: controls.time_zone or UTC)')
    .option('--degrade-to <alias>', 'soft budgets: once spent, send calls to this model alias')
    .option('--json', 'print JSON')
    .action(async (o: { scope: string; amount: string; period: string; action?: string; thresholds: string; timeZone?: string; degradeTo?: string; json?: boolean }) => {
      const store = await ctx.store();
      const input = budgetInput({ scope: o.scope, amount: o.amount, period: o.period, action: o.action, thresholds: o.thresholds, timeZone: o.timeZone, degradeTo: o.degradeTo }, ctx.timeZone());
      const { budget, before } = await store.controls.setBudget(input, ctx.actor);
      const [state] = await budgetStatus([budget], { ledger: store.ledger, counters: null, now: ctx.now() });
      if (o.json) return ctx.io.stdout(toJson({ budget: budgetJson(state!), replaced: before !== null }));
      const b = state!;
      ctx.io.stdout(
        `${before ? 'Updated' : 'Set'} ${budget.action} budget of ${budget.scopePath}: ${formatUsd(budget.amountNano)} per ${budget.period}` +
          `${budget.period.startsWith('rolling') ? '' : ` (${budget.timeZone})`}, alerts at ${budget.thresholds.join('/')}%` +
          `${budget.degradeTo ? `, then degrade to ${budget.degradeTo}` : ''}.\n` +
          `Spent so far this period: ${formatUsd(b.spentNano, 4)}; ${formatUsd(b.remainingNano, 4)} left; resets ${isoOrDash(b.resetsAt)}.\n` +
          (before ? `Was: ${formatUsd(before.amountNano)} per ${before.period} (${before.action}).\n` : ''),
      );
    });

  budgets
    .command('list')
    .description('every budget with spent, reserved, remaining, forecast to period end and status')
    .option('--scope <path>', 'only budgets in this subtree')
    .option('--json', 'print JSON')
    .action(async (o: { scope?: string; json?: boolean }) => {
      const store = await ctx.store();
      const policies = await store.controls.listBudgets(o.scope ? { under: o.scope } : {});
      // In-process counters live inside the gateway: only shared (Redis) counters show reservations here.
      const counters = ctx.redisTarget() ? await ctx.counters() : null;
      const states = await budgetStatus(policies, { ledger: store.ledger, counters, now: ctx.now() });
      if (o.json) return ctx.io.stdout(toJson(states.map(budgetJson)));
      if (states.length === 0) return ctx.io.stdout(`No budgets${o.scope ? ` under ${o.scope}` : ''}. Set one with: tollgate budgets set --scope acme/support --amount 500 --period month\n`);
      ctx.io.stdout(
        table(
          ['scope', 'period', 'action', 'budget', 'spent', 'reserved', 'left', 'forecast', 'status', 'resets'],
          states.map((s) => row(s)),
          ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
        ) + (counters ? '' : 'reserved: shown by the gateway (GET /api/budgets) when counters are in-process; set TOLLGATE_REDIS to see them here.\n'),
      );
    });

  budgets
    .command('delete')
    .description('remove the budget of a scope for a period')
    .requiredOption('--scope <path>', 'the scope')
    .requiredOption('--period <period>', 'the period of the budget to remove')
    .action(async (o: { scope: string; period: string }) => {
      const store = await ctx.store();
      const gone = await store.controls.deleteBudget(o.scope, o.period, ctx.actor);
      ctx.io.stdout(`Deleted the ${gone.period} budget of ${gone.scopePath} (${formatUsd(gone.amountNano)}, ${gone.action}).\n`);
    });

  budgets
    .command('alerts')
    .description('budget thresholds crossed, newest first')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const store = await ctx.store();
      const alerts = await store.controls.alerts({ limit: 100 });
      if (o.json) return ctx.io.stdout(toJson(alerts));
      if (alerts.length === 0) return ctx.io.stdout('No budget alerts yet.\n');
      ctx.io.stdout(table(['at', 'scope', 'threshold', 'spent', 'budget'], alerts.map((a) => [isoOrDash(a.at), a.scopePath, `${a.threshold}%`, formatUsd(a.spentNano, 4), formatUsd(a.limitNano)]), ['left', 'left', 'right', 'right', 'right']));
    });
}

function row(s: BudgetStatus): string[] {
  const p = s.policy;
  return [
    p.scopePath,
    p.period,
    p.action,
    formatUsd(p.amountNano),
    formatUsd(s.spentNano, 4),
    s.reservedNano === null ? '—' : formatUsd(s.reservedNano, 4),
    formatUsd(s.remainingNano, 4),
    formatUsd(s.forecastNano),
    s.health,
    isoOrDash(s.resetsAt),
  ];
}
