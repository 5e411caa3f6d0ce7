import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { GatewayIdentity, ReconcileReport, TokenCounts } from '../../analytics/reconcile.ts';
import { reconcile } from '../../analytics/reconcile.ts';
import { formatBp } from '../../analytics/showback.ts';
import { isoDay, reportWindow } from '../../analytics/unit-period.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd, nanoToDecimalString, parseDecimal } from '../../domain/money.ts';
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
      const gateway: Record<ReportProvider, GatewayIdentity> = {
        openai: { apiKeyIds: cfg?.openai?.gateway_api_key_ids ?? [], projectIds: cfg?.openai?.gateway_project_ids ?? [] },
        anthropic: { apiKeyIds: cfg?.anthropic?.gateway_api_key_ids ?? [], projectIds: cfg?.anthropic?.gateway_workspace_ids ?? [] },
      };
      const store = await ctx.store();
      const report = await reconcile(store.providerUsage, { from: window.from, to: window.to, ...(provider ? { provider } : {}) }, { gateway, toleranceBp, pricer: ctx.pricer() });
      const unconfigured = (provider ? [provider] : REPORT_PROVIDERS).filter((p) => report.lines.some((l) => l.provider === p) && gateway[p].apiKeyIds.length === 0 && gateway[p].projectIds.length === 0);
      if (o.json) return ctx.io.stdout(toJson(reconcileJson(report, window, toleranceBp, unconfigured)));
      ctx.io.stdout(renderReconcile(report, window.label, toleranceBp, unconfigured));
    });
}

function providerOf(text: string): ReportProvider {
  const p = text.trim().toLowerCase();
  if (!(REPORT_PROVIDERS as readonly string[]).includes(p)) throw new TollgateError('invalid_request', `--provider "${text}" must be openai or anthropic`);
  return p as ReportProvider;
}

function toleranceOf(text: string): number {
  let bp: bigint | null = null;
  try {
    bp = parseDecimal(text.trim().replace(/%$/, ''), 2);
  } catch {
    // reported below
  }
  if (bp === null || bp < 0n || bp > 10_000n) throw new TollgateError('invalid_request', `tolerance "${text}" must be a percentage from 0 to 100 with at most 2 decimals, e.g. 1`);
  return Number(bp);
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

const tokensJson = (t: TokenCounts | null) =>
  t && { input: t.input, cache_read: t.cacheRead, cache_write_5m: t.cacheWrite5m, cache_write_1h: t.cacheWrite1h, output: t.output };

function reconcileJson(r: ReconcileReport, window: { from: number; to: number }, tolBp: number, unconfigured: readonly string[]) {
  const t = r.totals;
  return {
    from: new Date(window.from).toISOString(),
    to: new Date(window.to).toISOString(),
    tolerance_pct: tolBp / 100,
    totals: {
      billed_usd: nanoToDecimalString(t.billedNano),
      billed_nano: t.billedNano,
      seen_on_billed_days_usd: nanoToDecimalString(t.seenOnBilledDaysNano),
      seen_usd: nanoToDecimalString(t.seenNano),
      bypass_usd: nanoToDecimalString(t.bypassNano),
      coverage_pct: t.coverageBp === null ? null : t.coverageBp / 100,
      unreported_days: t.unreportedDays.map((d) => ({ provider: d.provider, day: isoDay(d.day), cost_usd: nanoToDecimalString(d.costNano) })),
    },
    bypass_undetectable: unconfigured,
    findings: r.findings.map((f) => ({ key: f.key, title: f.title, summary: f.summary, evidence: f.evidence, impact_usd: nanoToDecimalString(f.impactNano) })),
    lines: r.lines.map((l) => ({
      day: isoDay(l.day),
      provider: l.provider,
      model: l.model,
      ledger_models: l.ledgerModels,
      verdict: l.verdict,
      billed_tokens: tokensJson(l.billedTokens),
      seen_tokens: tokensJson(l.seenTokens),
      billed_usd: l.billedCostNano === null ? null : nanoToDecimalString(l.billedCostNano),
      seen_usd: nanoToDecimalString(l.seenCostNano),
      seen_calls: l.seenCalls,
    })),
    bypasses: r.bypasses.map((b) => ({
      day: isoDay(b.day),
      provider: b.provider,
      model: b.model,
      via: b.via,
      id: b.id,
      tokens: tokensJson(b.tokens),
      requests: b.requests,
      cost_usd: b.costNano === null ? null : nanoToDecimalString(b.costNano),
      cost_estimated: b.costEstimated,
    })),
  };
}
