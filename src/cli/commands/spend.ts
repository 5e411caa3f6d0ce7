import type { Command } from 'commander';
import { Option } from 'commander';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd } from '../../domain/money.ts';
import type { GroupBy, SpendRow, Store } from '../../ledger/contract.ts';
import type { CliContext } from '../context.ts';
import { table, toJson } from '../output.ts';
import { currentMonth, parseMonth } from '../parse-time.ts';

const GROUPS = ['org', 'team', 'project', 'agent', 'provider', 'model'] as const satisfies readonly GroupBy[];

export function registerSpend(program: Command, ctx: CliContext): void {
  program
    .command('spend')
    .description('spend for a month grouped by a tier, provider or model, straight from the ledger rollups')
    .option('--month <YYYY-MM>', 'calendar month, UTC (default: this month)')
    .addOption(new Option('--by <group>', 'group by').choices(GROUPS).default('team'))
    .option('--scope <path>', 'only this subtree')
    .option('--json', 'print JSON')
    .action(async (o: { month?: string; by: GroupBy; scope?: string; json?: boolean }) => {
      const store = await ctx.store();
      const month = parseMonth(o.month ?? currentMonth(ctx.now()));
      const rows = await spendByGroup(store, month, o.by, o.scope);
      if (o.json) return ctx.io.stdout(toJson({ month: month.label, by: o.by, scope: o.scope ?? null, rows }));
      ctx.io.stdout(renderSpend(rows, o.by, month.label));
    });
}

export interface NamedSpendRow extends SpendRow {
  name: string;
}

export async function spendByGroup(store: Store, month: { from: number; to: number }, by: GroupBy, scope?: string): Promise<NamedSpendRow[]> {
  let within: { tier: 'org' | 'team' | 'project' | 'agent'; id: string } | undefined;
  if (scope !== undefined) {
    const node = await store.directory.getScope(scope);
    if (!node) throw new TollgateError('not_found', `scope "${scope}" does not exist (see \`tollgate scopes list\`)`);
    within = { tier: node.tier, id: node.id };
  }
  const rows = await store.ledger.spend({ from: month.from, to: month.to, groupBy: by, ...(within ? { within } : {}) });
  const paths = new Map((await store.directory.listScopes({ includeArchived: true })).map((n) => [n.id, n.path]));
  return rows.map((r) => ({ ...r, name: paths.get(r.key) ?? r.key }));
}

export function renderSpend(rows: readonly NamedSpendRow[], by: GroupBy, month: string): string {
  if (rows.length === 0) return `No spend recorded in ${month}.\n`;
  const total = rows.reduce((s, r) => s + r.effectiveCostNano, 0n);
  const unpriced = rows.reduce((s, r) => s + r.unpricedCalls, 0);
  const share = (n: bigint) => (total === 0n ? '—' : `${(Number((n * 1000n) / total) / 10).toFixed(1)}%`);
  const body = table(
    [by, 'calls', 'input tok', 'output tok', 'list', 'effective', 'share'],
    [
      ...rows.map((r) => [
        r.name,
        r.calls.toLocaleString('en'),
        (r.inputTokens + r.cacheReadTokens + r.cacheWrite5mTokens + r.cacheWrite1hTokens).toLocaleString('en'),
        r.outputTokens.toLocaleString('en'),
        formatUsd(r.listCostNano),
        formatUsd(r.effectiveCostNano),
        share(r.effectiveCostNano),
      ]),
      ['total', rows.reduce((s, r) => s + r.calls, 0).toLocaleString('en'), '', '', formatUsd(rows.reduce((s, r) => s + r.listCostNano, 0n)), formatUsd(total), ''],
    ],
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  return body + (unpriced > 0 ? `\n⚠ ${unpriced} call(s) to models with no price are recorded at $0 and flagged UNPRICED: add them to pricing.custom_models.\n` : '');
}
