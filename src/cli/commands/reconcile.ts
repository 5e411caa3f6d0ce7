import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { ReconcileReport } from '../../analytics/reconcile.ts';
import { reconcile } from '../../analytics/reconcile.ts';
import { gatewayIdentities, reconcileJson, toleranceOf, unconfiguredProviders } from '../../analytics/reconcile-json.ts';
import { formatBp } from '../../analytics/showback.ts';
import { isoDay, reportWindow } from '../../analytics/unit-period.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd, nanoToDecimalString } from '../../domain/money.ts';
import { parseAnthropicReport } from '../../ingest/provider-reports/anthropic.ts';
import { parseOpenAiReport } from '../../ingest/provider-reports/openai.ts';
import type { ReportProvider } from '../../ledger/provider-usage-contract.ts';
import { REPORT_PROVIDERS } from '../../ledger/provider-usage-contract.ts';
import type { CliContext } from '../context.ts';
import { table, toJson } from '../output.ts';

/** Findings printed on the one screen; --json has them all. */
const SHOWN_FINDINGS = 15;

/** `tollgate import usage` and `tollgate reconcile`: the providers' own reports against the ledger. */
export function registerReconcile(program: Command, ctx: CliContext): void {
  const importCmd = program.commands.find((c) => c.name() === 'import') ?? program.command('import').description('bring records from elsewhere into the ledger');
  importCmd
    .command('usage <file>')
    .description(
      'import a provider usage or cost report as its API returned it (one page, an array of pages, or one page per line; daily buckets): ' +
        'OpenAI /v1/organization/usage/completions and /v1/organization/costs, Anthropic /v1/organizations/usage_report/messages and /v1/organizations/cost_report. ' +
        'The days a file covers replace what earlier imports said about them',
    )
    .requiredOption('--provider <provider>', 'openai or anthropic')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { provider: string; json?: boolean }) => {
      const provider = providerOf(o.provider);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new TollgateError('not_found', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const name = basename(file);
      const report = provider === 'openai' ? parseOpenAiReport(text, name) : parseAnthropicReport(text, name);
      const store = await ctx.store();
      const res = await store.providerUsage.import(report, ctx.now());
      const days = [...new Set([...report.days.usage, ...report.days.cost])].sort((a, b) => a - b);
      const cost = report.rows.reduce((s, r) => s + (r.costNano ?? 0n), 0n);
      if (o.json) {
        return ctx.io.stdout(
          toJson({
            file,
            provider,
            import_id: res.importId,
            pages: report.pages,
            rows: res.rows,
            replaced: res.replaced,
            usage_days: report.days.usage.map(isoDay),
            cost_days: report.days.cost.map(isoDay),
            cost_usd: nanoToDecimalString(cost),
            next_page: report.nextPage,
          }),
        );
      }
      ctx.io.stdout(
        `Imported ${res.rows} ${provider} row${res.rows === 1 ? '' : 's'} from ${name} (${report.pages} page${report.pages === 1 ? '' : 's'}, ` +
          `${days.length === 0 ? 'no days' : `${isoDay(days[0]!)} → ${isoDay(days[days.length - 1]!)}`}` +
          `${report.days.cost.length > 0 ? `, ${formatUsd(cost)} billed` : ''}).` +
          (res.replaced > 0 ? ` Replaced ${res.replaced} row${res.replaced === 1 ? '' : 's'} of earlier imports of the same days.` : '') +
          '\n' +
          (report.nextPage !== null ? `The last page says more follow (next_page ${report.nextPage}): fetch and import them too.\n` : ''),
      );
    });

  program
    .command('reconcile')
    .description('compare the imported provider reports with the ledger per day, provider and model: bypass (billed via keys/projects that are not the gateway\'s), price drift, token mismatches')
    .option('--from <date>', 'window start, UTC')
    .option('--to <date>', 'window end, UTC, exclusive')
    .option('--month <yyyy-mm>', 'a calendar month (default: the current one)')
    .option('--provider <provider>', 'only openai or anthropic')
    .option('--tolerance <pct>', 'difference tolerated before a finding, percent (default: the config\'s reconcile.tolerance_pct, else 1)')
    .option('--json', 'print JSON')
    .action(async (o: { from?: string; to?: string; month?: string; provider?: string; tolerance?: string; json?: boolean }) => {
      const window = reportWindow(o, ctx.now());
      const provider = o.provider === undefined ? undefined : providerOf(o.provider);
      const cfg = ctx.config().config.reconcile;
      const toleranceBp = toleranceOf(o.tolerance ?? String(cfg?.tolerance_pct ?? 1));
      const gateway = gatewayIdentities(cfg);
      const store = await ctx.store();
      const report = await reconcile(store.providerUsage, { from: window.from, to: window.to, ...(provider ? { provider } : {}) }, { gateway, toleranceBp, pricer: ctx.pricer() });
      const unconfigured = unconfiguredProviders(report, gateway, provider);
      if (o.json) return ctx.io.stdout(toJson(reconcileJson(report, window, toleranceBp, unconfigured)));
      ctx.io.stdout(renderReconcile(report, window.label, toleranceBp, unconfigured));
    });
}

function providerOf(text: string): ReportProvider {
  const p = text.trim().toLowerCase();
  if (!(REPORT_PROVIDERS as readonly string[]).includes(p)) throw new TollgateError('invalid_request', `--provider "${text}" must be openai or anthropic`);
  return p as ReportProvider;
}

function renderReconcile(r: ReconcileReport, label: string, tolBp: number, unconfigured: readonly string[]): string {
  const t = r.totals;
  if (r.lines.length === 0) {
    return (
      `No provider reports imported for ${label}. Import them with: tollgate import usage --provider openai|anthropic <file>\n` +
      (t.unreportedDays.length > 0 ? `The ledger has ${formatUsd(t.unreportedDays.reduce((s, d) => s + d.costNano, 0n))} on ${t.unreportedDays.length} provider-day(s) in this window to compare.\n` : '')
    );
  }
  const verdicts = new Map<string, number>();
  for (const l of r.lines) verdicts.set(l.verdict, (verdicts.get(l.verdict) ?? 0) + 1);
  const out = [
    `Reconciliation ${label}, tolerance ${formatBp(tolBp)}`,
    `  billed by the providers  ${t.billedNano > 0n ? formatUsd(t.billedNano) : '— (no cost report imported)'}`,
    `  seen by the gateway      ${formatUsd(t.seenOnBilledDaysNano)} on the billed days${t.seenNano !== t.seenOnBilledDaysNano ? ` (${formatUsd(t.seenNano)} on every compared day)` : ''}`,
    `  coverage                 ${formatBp(t.coverageBp)}`,
    `  bypass                   ${formatUsd(t.bypassNano)} via ${r.bypasses.length} key/project/workspace-day${r.bypasses.length === 1 ? '' : 's'}${r.bypasses.some((b) => b.costEstimated) ? ' (partly estimated at catalog prices)' : ''}`,
    `  lines                    ${[...verdicts].map(([v, n]) => `${n} ${v.replace('_', ' ')}`).join(', ')}`,
    '',
  ];
  for (const p of unconfigured) out.push(`Note: reconcile.${p} names no gateway keys or ${p === 'anthropic' ? 'workspaces' : 'projects'}, so bypass cannot be told apart from the gateway's own traffic.`);
  if (t.unreportedDays.length > 0) out.push(`Note: ${t.unreportedDays.length} provider-day(s) with ${formatUsd(t.unreportedDays.reduce((s, d) => s + d.costNano, 0n))} in the ledger have no imported report and were not compared.`);
  if (unconfigured.length > 0 || t.unreportedDays.length > 0) out.push('');
  if (r.findings.length === 0) {
    out.push(`No findings: every line agrees within ${formatBp(tolBp)}.`);
    return out.join('\n') + '\n';
  }
  out.push(`Findings (${r.findings.length}), largest first:`);
  out.push(
    table(
      ['$', 'kind', 'finding'],
      r.findings.slice(0, SHOWN_FINDINGS).map((f) => [f.impactNano > 0n ? formatUsd(f.impactNano) : '—', String(f.evidence['kind']).replace('_', ' '), f.title]),
      ['right', 'left', 'left'],
    ).trimEnd(),
  );
  if (r.findings.length > SHOWN_FINDINGS) out.push(`… and ${r.findings.length - SHOWN_FINDINGS} more (--json lists them all)`);
  return out.join('\n') + '\n';
}
