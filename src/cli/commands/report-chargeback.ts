/**
 * `tollgate report chargeback` and `report escalation`, and the administration behind them:
 * `tollgate chargeback adjust|adjustments` and `tollgate teams flag|flags`. Those two are top-level
 * commands: this module receives the `report` command and adds them to its parent (the program).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ChargebackStatement } from '../../analytics/chargeback.ts';
import { adjustmentJson, chargebackStatement, flagsJson, parseAdjustmentAmount, STATEMENT_CSV_HEADERS, statementCsvRows, statementJson } from '../../analytics/chargeback.ts';
import { TOKEN_TYPE_LABEL } from '../../analytics/cost-split.ts';
import type { EscalationAdvice } from '../../analytics/escalation.ts';
import { adviceJson, escalationAdvice, LOOKBACK } from '../../analytics/escalation.ts';
import { formatUsd, nanoToDecimalString } from '../../domain/money.ts';
import type { AdjustmentKind, ChargebackAdjustment, TeamFlags } from '../../ledger/chargeback-contract.ts';
import type { CliContext } from '../context.ts';
import { isoOrDash, table, toCsv, toJson } from '../output.ts';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];
const YES_NO = ['yes', 'no'] as const;

export function registerChargebackReports(report: Command, ctx: CliContext): void {
  report
    .command('chargeback')
    .description('monthly statement of a team in chargeback mode: opening balance (its budget), debits per project and agent by model and token type, adjustments, closing balance')
    .requiredOption('--team <path>', 'the team, e.g. acme/support')
    .requiredOption('--month <YYYY-MM>', 'the month, in the budget\'s time zone, e.g. 2026-10')
    .addOption(new Option('--format <format>', 'table, json, or csv (one row per ledger line)').choices(FORMATS).default('table'))
    .option('--json', 'print JSON (same as --format json)')
    .action(async (o: { team: string; month: string; format: Format; json?: boolean }) => {
      const store = await ctx.store();
      const s = await chargebackStatement(store, ctx.pricer(), { team: o.team, month: o.month });
      if (o.json || o.format === 'json') return ctx.io.stdout(toJson(statementJson(s)));
      if (o.format === 'csv') return ctx.io.stdout(toCsv(STATEMENT_CSV_HEADERS, statementCsvRows(s)));
      ctx.io.stdout(renderStatement(s));
    });

  report
    .command('escalation')
    .description(`per team, whether to move from showback to chargeback and the evidence: over budget in 2 of the last ${LOOKBACK} periods, bills its own customers, compliance requires hard limits (advice only)`)
    .option('--scope <path>', 'only teams under this scope, e.g. acme')
    .addOption(new Option('--format <format>', 'table, json or csv').choices(FORMATS).default('table'))
    .option('--json', 'print JSON (same as --format json)')
    .action(async (o: { scope?: string; format: Format; json?: boolean }) => {
      const store = await ctx.store();
      const advice = await escalationAdvice(store, { ...(o.scope ? { under: o.scope } : {}), now: ctx.now() });
      if (o.json || o.format === 'json') return ctx.io.stdout(toJson(advice.map(adviceJson)));
      if (o.format === 'csv') return ctx.io.stdout(toCsv(ESCALATION_CSV_HEADERS, advice.map(escalationCsvRow)));
      ctx.io.stdout(renderEscalation(advice, o.scope));
    });

  const program = report.parent;
  if (!program) throw new Error('registerChargebackReports: the report command has no parent program');
  registerChargebackAdmin(program, ctx);
  registerTeams(program, ctx);
}

function registerChargebackAdmin(program: Command, ctx: CliContext): void {
  const cb = program.command('chargeback').description('adjustments to chargeback statements: credits and corrections, each with a reason (audited)');

  cb.command('adjust')
    .description('add a credit (negative amount) or a correction (either sign) to a team\'s monthly statement')
    .requiredOption('--team <path>', 'the team, e.g. acme/support')
    .requiredOption('--month <YYYY-MM>', 'the statement\'s month, e.g. 2026-10')
    .requiredOption('--amount <usd>', 'signed USD: -12.50 credits the team, 12.50 charges it more')
    .addOption(new Option('--kind <kind>', 'credit or correction').choices(['credit', 'correction']).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why: shown on the statement and in the audit log')
    .option('--json', 'print JSON')
    .action(async (o: { team: string; month: string; amount: string; kind: AdjustmentKind; reason: string; json?: boolean }) => {
      const store = await ctx.store();
      const a = await store.chargeback.addAdjustment({ teamPath: o.team, period: o.month, amountNano: parseAdjustmentAmount(o.amount), kind: o.kind, reason: o.reason }, ctx.actor);
      if (o.json) return ctx.io.stdout(toJson({ adjustment: adjustmentJson(a) }));
      ctx.io.stdout(
        `Recorded a ${a.kind} of ${formatUsd(a.amountNano, decimals(a.amountNano))} on ${a.teamPath}'s ${a.period} statement (${a.id}): ${a.reason}\n` +
          `See the statement with: tollgate report chargeback --team ${a.teamPath} --month ${a.period}\n`,
      );
    });

  cb.command('adjustments')
    .description('a team\'s adjustments, oldest first')
    .requiredOption('--team <path>', 'the team, e.g. acme/support')
    .option('--month <YYYY-MM>', 'only this month\'s')
    .option('--json', 'print JSON')
    .action(async (o: { team: string; month?: string; json?: boolean }) => {
      const store = await ctx.store();
      const list = await store.chargeback.listAdjustments({ teamPath: o.team, ...(o.month ? { period: o.month } : {}) });
      if (o.json) return ctx.io.stdout(toJson(list.map(adjustmentJson)));
      if (list.length === 0) return ctx.io.stdout(`No adjustments for ${o.team}${o.month ? ` in ${o.month}` : ''}.\n`);
      ctx.io.stdout(adjustmentTable(list));
    });
}

function registerTeams(program: Command, ctx: CliContext): void {
  const teams = program.command('teams').description('facts about teams that escalation advice reads');

  teams
    .command('flag')
    .description('set (or, with no flag given, show) whether a team bills its own customers and whether compliance requires hard limits')
    .requiredOption('--team <path>', 'the team, e.g. acme/support')
    .addOption(new Option('--bills-customers <yes|no>', 'the team bills its own customers for this spend').choices(YES_NO))
    .addOption(new Option('--compliance-hard-limits <yes|no>', 'compliance requires hard limits on its spend').choices(YES_NO))
    .option('--json', 'print JSON')
    .action(async (o: { team: string; billsCustomers?: 'yes' | 'no'; complianceHardLimits?: 'yes' | 'no'; json?: boolean }) => {
      const store = await ctx.store();
      if (o.billsCustomers === undefined && o.complianceHardLimits === undefined) {
        const flags = await store.chargeback.getTeamFlags(o.team);
        if (o.json) return ctx.io.stdout(toJson(flagsJson(flags)));
        return ctx.io.stdout(describeFlags(flags) + (flags.updatedAt === null ? ' (never set)' : ` (set ${isoOrDash(flags.updatedAt)})`) + '.\n');
      }
      const { flags, before } = await store.chargeback.setTeamFlags(
        o.team,
        {
          ...(o.billsCustomers === undefined ? {} : { billsCustomers: o.billsCustomers === 'yes' }),
          ...(o.complianceHardLimits === undefined ? {} : { complianceHardLimits: o.complianceHardLimits === 'yes' }),
        },
        ctx.actor,
      );
      if (o.json) return ctx.io.stdout(toJson({ flags: flagsJson(flags), before: flagsJson(before) }));
      ctx.io.stdout(`${describeFlags(flags)}.\nSee what it means for the team with: tollgate report escalation --scope ${flags.teamPath}\n`);
    });

  teams
    .command('flags')
    .description('the teams whose flags were set')
    .option('--scope <path>', 'only teams under this scope')
    .option('--json', 'print JSON')
    .action(async (o: { scope?: string; json?: boolean }) => {
      const store = await ctx.store();
      const list = await store.chargeback.listTeamFlags(o.scope ? { under: o.scope } : {});
      if (o.json) return ctx.io.stdout(toJson(list.map(flagsJson)));
      if (list.length === 0) return ctx.io.stdout('No team flags set. Set one with: tollgate teams flag --team acme/support --bills-customers yes\n');
      ctx.io.stdout(table(['team', 'bills customers', 'compliance hard limits', 'set'], list.map((f) => [f.teamPath, f.billsCustomers ? 'yes' : 'no', f.complianceHardLimits ? 'yes' : 'no', isoOrDash(f.updatedAt)])));
    });
}

/** Cents, unless the amount has finer digits (small agent spend): then as many as it needs, up to 9. */
function decimals(nano: bigint): number {
  const abs = nano < 0n ? -nano : nano;
  for (let d = 2; d < 9; d++) if (abs % 10n ** BigInt(9 - d) === 0n) return d;
  return 9;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export function renderStatement(s: ChargebackStatement): string {
  const [y, m] = s.period.split('-');
  const title = `${MONTHS[Number(m) - 1]} ${y}`;
  const usd = (n: bigint) => formatUsd(n, 4);
  const short = (path: string) => path.slice(s.team.path.length + 1);
  let out =
    `Chargeback statement: ${s.team.path}, ${title} (${isoOrDash(s.from)} to ${isoOrDash(s.to)}, ${s.timeZone})\n` +
    `Opening balance: ${formatUsd(s.openingNano)} (the team's chargeback budget for the month)\n\n`;

  if (s.lines.length === 0) out += 'No calls this month: nothing debited.\n\n';
  else {
    out += 'Debits by project and agent\n';
    out += table(
      ['project', 'agent', 'calls', 'debit', 'share'],
      s.projects.flatMap((p) => [
        [short(p.path), '', '', usd(p.debitNano), share(p.debitNano, s.debitsNano)],
        ...p.agents.map((a) => ['', a.path.slice(p.path.length + 1), a.calls.toLocaleString('en'), usd(a.debitNano), share(a.debitNano, s.debitsNano)]),
      ]),
      ['left', 'left', 'right', 'right', 'right'],
    );
    out += '\nLine items (model × token type; each adds up ledger rollup rows, listed with --format csv)\n';
    out += table(
      ['agent', 'model', 'token type', 'quantity', 'list', 'debit'],
      s.projects.flatMap((p) => p.agents.flatMap((a) => a.items.map((i) => [short(a.path), i.model, TOKEN_TYPE_LABEL[i.tokenType], i.quantity.toLocaleString('en'), usd(i.listNano), usd(i.debitNano)]))),
      ['left', 'left', 'left', 'right', 'right', 'right'],
    );
    out += '\n';
  }

  if (s.adjustments.length > 0) {
    out += 'Adjustments\n' + adjustmentTable(s.adjustments) + '\n';
  }

  const rows: [string, string][] = [
    ['Opening balance', formatUsd(s.openingNano, 4)],
    ['Debits', formatUsd(-s.debitsNano, 4)],
    ...(s.adjustments.length > 0 ? [['Credits and corrections', (s.creditsNano > 0n ? '+' : '') + formatUsd(s.creditsNano, 4)] as [string, string]] : []),
    ['Closing balance', formatUsd(s.closingNano, 4)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  out += rows.map(([k, val]) => `${k.padEnd(w)}  ${val.padStart(v)}`).join('\n') + '\n';
  if (s.closingNano < 0n) out += `The team is ${formatUsd(-s.closingNano, 4)} over its budget for the month.\n`;
  if (s.listNano !== s.debitsNano) out += `At list price the same calls cost ${formatUsd(s.listNano, 4)}; negotiated discounts saved ${formatUsd(s.listNano - s.debitsNano, 4)}.\n`;
  if (s.unpricedCalls > 0n) {
    out += `⚠ ${s.unpricedCalls.toLocaleString('en')} call(s) had no price and are debited $0: add the model under pricing.custom_models in tollgate.yaml.\n`;
  }
  if (s.estimatedCalls > 0n) out += `${s.estimatedCalls.toLocaleString('en')} call(s) were cut short; their usage is estimated from what was streamed.\n`;
  return out;
}

function share(part: bigint, total: bigint): string {
  if (total === 0n) return '—';
  const bp = (part * 10_000n) / total;
  return `${bp / 100n}.${(bp % 100n).toString().padStart(2, '0')}%`;
}

function adjustmentTable(list: readonly ChargebackAdjustment[]): string {
  return table(
    ['month', 'date', 'kind', 'amount', 'reason', 'by'],
    list.map((a) => [a.period, isoOrDash(a.at).slice(0, 10), a.kind, formatUsd(a.amountNano, decimals(a.amountNano)), a.reason, a.actor]),
    ['left', 'left', 'left', 'right', 'left', 'left'],
  );
}

function describeFlags(f: TeamFlags): string {
  return `${f.teamPath}: ${f.billsCustomers ? 'bills' : 'does not bill'} its own customers; compliance ${f.complianceHardLimits ? 'requires' : 'does not require'} hard limits`;
}

export function renderEscalation(advice: readonly EscalationAdvice[], scope?: string): string {
  if (advice.length === 0) return `No teams${scope ? ` under ${scope}` : ''}.\n`;
  const periodCell = (a: EscalationAdvice) => {
    const ps = a.triggers.repeatedOverspend.periods;
    if (ps.length === 0) return '—';
    return ps.map((p) => `${p.label} ${formatUsd(p.spentNano)}${p.over ? ' over' : p.shown ? '' : ' (before budget)'}`).join(', ');
  };
  const body = table(
    ['team', 'mode', 'budget', `last ${LOOKBACK} periods`, 'over', 'bills customers', 'hard limits', 'advice'],
    advice.map((a) => [
      a.team.path,
      a.mode,
      a.budget ? `${formatUsd(a.budget.amountNano)}/${a.budget.period}` : '—',
      periodCell(a),
      a.budget && a.mode !== 'chargeback' ? `${a.triggers.repeatedOverspend.overCount}/${LOOKBACK}` : '—',
      a.triggers.billsCustomers.fired ? 'yes' : 'no',
      a.triggers.complianceHardLimits.fired ? 'yes' : 'no',
      a.mode === 'chargeback' ? 'already chargeback' : a.recommend ? 'move to chargeback' : a.mode === 'showback' ? 'stay on showback' : 'set a showback budget',
    ]),
  );
  const recommended = advice.filter((a) => a.recommend);
  return (
    body +
    '\n' +
    (recommended.length === 0
      ? 'No team meets a trigger for chargeback. Nothing is changed automatically.\n'
      : recommended.map((a) => `• ${a.advice}`).join('\n') + '\n\nAdvice only: no budget was changed.\n')
  );
}

const ESCALATION_CSV_HEADERS = ['team', 'mode', 'budget_usd', 'budget_period', 'periods', 'over_count', 'bills_customers', 'compliance_hard_limits', 'recommend_chargeback', 'advice'];

function escalationCsvRow(a: EscalationAdvice): (string | number | boolean | null)[] {
  return [
    a.team.path,
    a.mode,
    a.budget ? nanoToDecimalString(a.budget.amountNano) : null,
    a.budget?.period ?? null,
    a.triggers.repeatedOverspend.periods.map((p) => `${p.label}:${nanoToDecimalString(p.spentNano)}${p.over ? ':over' : ''}`).join(';'),
    a.triggers.repeatedOverspend.overCount,
    a.triggers.billsCustomers.fired,
    a.triggers.complianceHardLimits.fired,
    a.recommend,
    a.advice,
  ];
}
