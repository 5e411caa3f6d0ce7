import type { Command } from 'commander';
import { Option } from 'commander';
import type { ShowbackLine, ShowbackReport, TopItem } from '../../analytics/showback.ts';
import { formatBp, monthContaining, showback, showbackCsv, showbackJson } from '../../analytics/showback.ts';
import { formatUsd } from '../../domain/money.ts';
import type { CliContext } from '../context.ts';
import { table, toCsv, toJson } from '../output.ts';

const FORMATS = ['table', 'json', 'csv'] as const;

/** `tollgate report showback`: each team's line next to its peers' (or each project's within a team). */
export function registerShowback(report: Command, ctx: CliContext): void {
  report
    .command('showback')
    .description('per team of an org (or per project of a team): spend, change vs last month, share, budget use, top projects/agents/models, $/outcome, rank')
    .option('--month <YYYY-MM>', 'calendar month, UTC (default: this month)')
    .option('--scope <path>', 'an org (rows are its teams) or org/team (rows are its projects); default: the only org')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--json', 'print JSON (same as --format json)')
    .action(async (o: { month?: string; scope?: string; format: (typeof FORMATS)[number]; json?: boolean }) => {
      const store = await ctx.store();
      const r = await showback(store, { month: o.month ?? monthContaining(ctx.now()).label, ...(o.scope === undefined ? {} : { scope: o.scope }) });
      if (o.json || o.format === 'json') return ctx.io.stdout(toJson(showbackJson(r)));
      if (o.format === 'csv') {
        const { headers, rows } = showbackCsv(r);
        return ctx.io.stdout(toCsv(headers, rows));
      }
      ctx.io.stdout(renderShowback(r));
    });
}

const signedUsd = (nano: bigint) => (nano > 0n ? `+${formatUsd(nano)}` : formatUsd(nano));

function change(l: { changeNano: bigint; changeBp: number | null; spendNano: bigint }): string {
  if (l.changeBp !== null) return formatBp(l.changeBp, { sign: true });
  return l.spendNano > 0n ? 'new' : '—';
}

export function renderShowback(r: ShowbackReport): string {
  const unit = r.level === 'team' ? 'team' : 'project';
  const head =
    `Showback for ${r.scope.path}, ${r.month.label} (per ${unit}; effective cost after discounts, UTC month)\n` +
    `Total ${formatUsd(r.totalNano)}, ${signedUsd(r.changeNano)} (${change({ ...r, spendNano: r.totalNano })}) vs ${r.previousMonth.label}` +
    (r.scopeBudget ? `; month budget ${formatUsd(r.scopeBudget.amountNano)} (${r.scopeBudget.action}), ${formatBp(r.scopeBudget.usedBp)} used` : '') +
    (r.outcomes?.costPerOutcomeNano != null
      ? `; ${r.outcomes.count.toLocaleString('en')} outcomes${r.outcomes.byType.length > 1 ? ` of ${r.outcomes.byType.length} types` : ''} at ${formatUsd(r.outcomes.costPerOutcomeNano)} each`
      : '') +
    '\n\n';
  if (r.lines.length === 0) return head + `No ${unit}s under ${r.scope.path} yet.\n`;
  if (r.totalNano === 0n && r.previousTotalNano === 0n && r.calls === 0) return head + `No spend recorded under ${r.scope.path} in ${r.month.label} or ${r.previousMonth.label}.\n`;
  const body = table(
    ['rank', unit, 'spend', `${r.previousMonth.label}`, 'change', 'change %', 'share', 'budget', 'used', 'outcomes', '$/outcome'],
    [
      ...r.lines.map((l) => [
        `${l.rank}/${r.lines.length}`,
        l.name + (l.archived ? ' (archived)' : ''),
        formatUsd(l.spendNano),
        formatUsd(l.previousNano),
        signedUsd(l.changeNano),
        change(l),
        formatBp(l.shareBp),
        l.budget ? `${formatUsd(l.budget.amountNano)} ${l.budget.action}` : '—',
        l.budget ? formatBp(l.budget.usedBp) + (l.budget.usedBp > 10_000 ? ' ⚠' : '') : '—',
        l.outcomes ? l.outcomes.count.toLocaleString('en') : '—',
        l.outcomes?.costPerOutcomeNano != null ? formatUsd(l.outcomes.costPerOutcomeNano) : '—',
      ]),
      ['', 'total', formatUsd(r.totalNano), formatUsd(r.previousTotalNano), signedUsd(r.changeNano), change({ ...r, spendNano: r.totalNano }), r.totalNano > 0n ? '100.0%' : '—', '', '', r.outcomes ? r.outcomes.count.toLocaleString('en') : '', ''],
    ],
    ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const tops = r.lines.filter((l) => l.spendNano !== 0n).flatMap((l) => topRows(l));
  const topTable = tops.length === 0 ? '' : `\nWhere each ${unit}'s money went (top ${3}, share of the ${unit})\n` + table([unit, 'by', 'top'], tops);
  const warn = r.unpricedCalls > 0 ? `\n⚠ ${r.unpricedCalls} call(s) to models with no price are recorded at $0 and flagged UNPRICED: add them to pricing.custom_models.\n` : '';
  return head + body + topTable + warn;
}

function topRows(l: ShowbackLine): string[][] {
  const fmt = (items: readonly TopItem[]) => items.map((t) => `${t.name} ${formatUsd(t.spendNano)} (${formatBp(t.shareBp)})`).join(' · ') || '—';
  const rows: string[][] = [];
  if (l.top.projects) rows.push([l.name, 'projects', fmt(l.top.projects)]);
  rows.push([l.top.projects ? '' : l.name, 'agents', fmt(l.top.agents)], ['', 'models', fmt(l.top.models)]);
  return rows;
}
