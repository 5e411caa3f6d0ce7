import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { AlertDispatcher } from '../../alerts/dispatcher.ts';
import type { FindingAlerts } from '../../alerts/reconcile-alerts.ts';
import { alertFindings, alertSinksConfig, assertAllDelivered, findingAlertsJson } from '../../alerts/reconcile-alerts.ts';
import type { ReconcileReport } from '../../analytics/reconcile.ts';
import { reconcile } from '../../analytics/reconcile.ts';
import { gatewayIdentities, reconcileJson, toleranceOf, unconfiguredProviders } from '../../analytics/reconcile-json.ts';
import { formatBp } from '../../analytics/showback.ts';
import { isoDay, reportWindow } from '../../analytics/unit-period.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd, nanoToDecimalString } from '../../domain/money.ts';
import { parseReportFile } from '../../ingest/provider-reports/report-file.ts';
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
        'OpenAI /v1/organization/usage/completions and /v1/organization/costs, Anthropic /v1/organizations/usage_report/messages and /v1/organizations/cost_report; ' +
        'or the CSV its console exports (OpenAI usage dashboard Activity and Cost exports, Anthropic Console usage and cost exports; by day), ' +
        'read as CSV when the file ends in .csv or does not start like JSON. The days a file covers replace what earlier imports said about them',
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
      const report = parseReportFile(provider, text, name);
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
            format: report.format,
            pages: report.pages,
            ...(report.csvRows === null ? {} : { csv_rows: report.csvRows }),
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
        `Imported ${res.rows} ${provider} row${res.rows === 1 ? '' : 's'} from ${name} (${report.csvRows === null ? `${report.pages} page${report.pages === 1 ? '' : 's'}` : `CSV export, ${report.csvRows} line${report.csvRows === 1 ? '' : 's'}`}, ` +
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
    .option('--alert', 'send each finding to the alert sinks (alerts: in tollgate.yaml), wait for the deliveries and list them; exit 1 when one was dead-lettered')
    .option('--alert-wait <seconds>', 'with --alert, the longest wait for the deliveries and their retries (default 60)')
    .option('--json', 'print JSON')
    .action(async (o: { from?: string; to?: string; month?: string; provider?: string; tolerance?: string; alert?: boolean; alertWait?: string; json?: boolean }) => {
      const window = reportWindow(o, ctx.now());
      const provider = o.provider === undefined ? undefined : providerOf(o.provider);
      const sinks = o.alert ? alertSinksConfig(ctx.config().config.alerts) : null;
      const waitMs = alertWaitMs(o.alertWait);
      const cfg = ctx.config().config.reconcile;
      const toleranceBp = toleranceOf(o.tolerance ?? String(cfg?.tolerance_pct ?? 1));
      const gateway = gatewayIdentities(cfg);
      const store = await ctx.store();
      const report = await reconcile(store.providerUsage, { from: window.from, to: window.to, ...(provider ? { provider } : {}) }, { gateway, toleranceBp, pricer: ctx.pricer() });
      const unconfigured = unconfiguredProviders(report, gateway, provider);
      // Dead letters are listed with the rest; the command fails after printing them.
      const dispatcher = sinks && AlertDispatcher.fromConfig(sinks, { log: { warn: () => undefined, error: (obj, msg) => ctx.io.stderr(`error: ${msg} ${JSON.stringify(obj)}\n`) } });
      const alerts = dispatcher && (await alertFindings(dispatcher, report.findings, { window, toleranceBp, waitMs }));
      if (o.json) ctx.io.stdout(toJson({ ...reconcileJson(report, window, toleranceBp, unconfigured), ...(alerts ? { alerts: findingAlertsJson(alerts) } : {}) }));
      else ctx.io.stdout(renderReconcile(report, window.label, toleranceBp, unconfigured) + (alerts ? renderAlerts(alerts) : ''));
      if (alerts) assertAllDelivered(alerts);
    });
}

/** `--alert-wait` in seconds → ms (default a minute: the default retries back off 1 + 2 + 4 + 8 s). */
function alertWaitMs(text: string | undefined): number {
  if (text === undefined) return 60_000;
  const s = Number(text);
  if (!Number.isFinite(s) || s <= 0 || s > 3600) throw new TollgateError('invalid_request', `--alert-wait "${text}" must be a number of seconds above 0 and at most 3600, e.g. 60`);
  return Math.round(s * 1000);
}

/** What `--alert` sent: one line per finding and sink. */
function renderAlerts(a: FindingAlerts): string {
  const rows = a.sent.flatMap((s) => s.outcomes.map((o) => [o.state, `${o.sink} ${o.url}`, String(o.attempts), s.finding.key, o.lastError ?? '']));
  const dead = rows.filter((r) => r[0] === 'dead').length;
  const head =
    a.sent.length === 0
      ? 'Alerts: no findings, nothing sent.'
      : `Alerts: ${a.sent.length} finding${a.sent.length === 1 ? '' : 's'} to ${a.sinks.length} sink${a.sinks.length === 1 ? '' : 's'}: ${rows.length - dead} delivered, ${dead} dead-lettered (idempotency-key: <finding>@<window>, the same on every run).`;
  return `\n${head}\n${rows.length === 0 ? '' : table(['state', 'sink', 'tries', 'finding', 'last error'], rows, ['left', 'left', 'right', 'left', 'left'])}`;
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
