import type { Command } from 'commander';
import { boardSummary } from '../../analytics/board.ts';
import { boardJson, boardMarkdown } from '../../analytics/board-report.ts';
import { DRIFT_CAUSE_TEXT } from '../../analytics/drift.ts';
import type { DriftCheck } from '../../analytics/drift.ts';
import type { UnitEconomicsReport, Workload } from '../../analytics/unit-economics.ts';
import { DEFAULT_DRIFT_BAND_CENTI_PCT, DEFAULT_DRIFT_WEEKS, unitEconomics } from '../../analytics/unit-economics.ts';
import { unitEconomicsJson } from '../../analytics/unit-json.ts';
import { driftBandOf, driftWeeksOf, isoDay, reportWindow } from '../../analytics/unit-period.ts';
import { ratioPercent, ratioPlain } from '../../analytics/unit-ratio.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd, nanoToDecimalString } from '../../domain/money.ts';
import type { CliContext } from '../context.ts';
import { table, toCsv, toJson } from '../output.ts';

/** `report unit-economics`, `report board`. */
export function registerOutcomeReports(report: Command, ctx: CliContext): void {
  report
    .command('unit-economics')
    .description('cost per outcome against the human baseline: savings, ROI, per-trace p50/p90/p99, weekly trend with drift and its likely cause')
    .requiredOption('--scope <path>', 'org, team, project or agent, e.g. acme/support')
    .option('--month <YYYY-MM>', 'a calendar month (UTC); default this month')
    .option('--from <date>', 'start, e.g. 2026-10-01 (UTC)')
    .option('--to <date>', 'end, exclusive: --from 2026-10-01 --to 2026-11-01 is October')
    .option('--drift-band <pct>', 'flag a week whose $/outcome is more than this % above the reference week', String(DEFAULT_DRIFT_BAND_CENTI_PCT / 100))
    .option('--drift-weeks <n>', 'the reference week is this many weeks earlier', String(DEFAULT_DRIFT_WEEKS))
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--json', 'print JSON (same as --format json)')
    .action(async (o: { scope: string; month?: string; from?: string; to?: string; driftBand: string; driftWeeks: string; format: string; json?: boolean }) => {
      const format = o.json ? 'json' : o.format;
      if (!['table', 'json', 'csv'].includes(format)) throw new TollgateError('invalid_request', `--format is table, json or csv (got "${format}")`);
      const window = reportWindow(o, ctx.now());
      const store = await ctx.store();
      const r = await unitEconomics(store, { scope: o.scope, from: window.from, to: window.to, label: window.label, driftBandCentiPct: driftBandOf(o.driftBand), driftWeeks: driftWeeksOf(o.driftWeeks), now: ctx.now() });
      if (format === 'json') return ctx.io.stdout(toJson(unitEconomicsJson(r)));
      if (format === 'csv') return ctx.io.stdout(unitEconomicsCsv(r));
      ctx.io.stdout(unitEconomicsTable(r));
    });

  report
    .command('board')
    .description('one page for the board: spend against the annual plan, spend by team, $/outcome against the human baseline, ROI, biggest movers')
    .requiredOption('--quarter <YYYY-Qn>', 'e.g. 2026-Q4')
    .option('--org <org>', 'the organisation (needed when there are several)')
    .option('--format <format>', 'markdown or json', 'markdown')
    .option('--json', 'print JSON (same as --format json)')
    .action(async (o: { quarter: string; org?: string; format: string; json?: boolean }) => {
      const format = o.json ? 'json' : o.format;
      if (!['markdown', 'json'].includes(format)) throw new TollgateError('invalid_request', `--format is markdown or json (got "${format}")`);
      const store = await ctx.store();
      const b = await boardSummary(store, { quarter: o.quarter, org: o.org, now: ctx.now() });
      ctx.io.stdout(format === 'json' ? toJson(boardJson(b)) : boardMarkdown(b));
    });
}

const usd = (n: bigint | null, digits = 2) => (n === null ? '—' : formatUsd(n, digits));
const plainUsd = (n: bigint | null) => (n === null ? null : nanoToDecimalString(n));
const name = (w: Workload, many: boolean) => (many ? `${w.displayName} (${w.projectPath})` : w.displayName);

function plural(n: bigint, unit: string): string {
  return `${n.toLocaleString('en')} ${unit}${n === 1n || /s$/.test(unit) ? '' : 's'}`;
}

function driftText(d: DriftCheck | null): string {
  if (!d) return '';
  if (!d.flagged) return '';
  return `DRIFT: ${d.cause ? DRIFT_CAUSE_TEXT[d.cause] : 'unknown cause'}${d.evidence ? ` (${d.evidence})` : ''}`;
}

export function unitEconomicsTable(r: UnitEconomicsReport): string {
  const out: string[] = [];
  const many = new Set(r.workloads.map((w) => w.displayName)).size < r.workloads.length || r.scope.tier === 'org' || r.scope.tier === 'team';
  out.push(`Unit economics of ${r.scope.path}, ${r.label} (UTC)`);
  out.push(`Spend in scope: ${usd(r.costNano)} (effective cost, from the ledger rollups)`, '');
  if (r.workloads.length === 0) {
    const project = r.scope.path.split('/').length >= 3 ? r.scope.path.split('/').slice(0, 3).join('/') : `${r.scope.path}${r.scope.tier === 'org' ? '/<team>' : ''}/<project>`;
    out.push(`No outcome types under ${r.scope.path}, so there is no cost per outcome yet. Set one with:`);
    out.push(`  tollgate outcomes types set --project ${project} --type resolved_ticket --name "Resolved ticket" --unit ticket --baseline 6.00`, '');
    return out.join('\n');
  }
  out.push(
    table(
      ['workload', 'outcomes', 'cost', '$/outcome', 'human baseline', 'savings', 'ROI', 'target'],
      r.workloads.map((w) => [
        name(w, many),
        plural(w.outcomes, w.unit),
        usd(w.costNano),
        usd(w.costPerOutcomeNano, 4),
        w.baselineNano === null ? '—' : `${usd(w.baselineNano)}/${w.unit}`,
        usd(w.savingsNano),
        w.roi === null ? '—' : ratioPercent(w.roi),
        w.targetNano === null ? '—' : `${usd(w.targetNano)} ${w.targetStatus === 'over' ? 'OVER' : w.targetStatus === 'ok' ? 'ok' : ''}`.trimEnd(),
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
  );
  const t = r.totals;
  out.push(
    `Measured workloads: ${usd(t.roiCostNano)} spent, ${usd(t.baselineValueNano)} of human work at baseline cost: savings ${usd(t.savingsNano)}, ROI ${t.roi === null ? '—' : ratioPercent(t.roi)} ` +
      '(ROI = (baseline × outcomes − cost) / cost).',
  );
  if (r.unmeasured.length > 0) {
    out.push(`Spend with no outcome type (outside $/outcome and ROI): ${r.unmeasured.map((u) => `${u.projectPath} ${usd(u.costNano)}`).join(', ')}.`);
  }
  out.push('', 'Cost per outcome per trace (the calls tied by trace id to the outcome they produced):', '');
  out.push(
    table(
      ['workload', 'traces', 'p50', 'p90', 'p99', 'worst trace'],
      r.workloads.map((w) => {
        const p = w.perTrace;
        return [
          name(w, many),
          p.traces.toLocaleString('en') + (p.unmatchedTraces > 0 ? ` (+${p.unmatchedTraces} unmatched)` : ''),
          usd(p.p50Nano, 4),
          usd(p.p90Nano, 4),
          usd(p.p99Nano, 4),
          p.worst ? `${p.worst.traceId}: ${usd(p.worst.costPerOutcomeNano, 4)}/outcome (${p.worst.calls.toLocaleString('en')} calls)` : '—',
        ];
      }),
      ['left', 'right', 'right', 'right', 'right', 'left'],
    ),
  );
  const band = ratioPlain({ num: BigInt(r.driftBandCentiPct), den: 100n }, 2).replace(/\.?0+$/, '');
  out.push(`Weekly trend (weeks from Monday, UTC; drift: $/outcome more than ${band}% above ${r.driftWeeks} week${r.driftWeeks === 1 ? '' : 's'} earlier):`, '');
  const rows: string[][] = [];
  for (const w of r.workloads) {
    for (const [i, k] of w.weeks.entries()) {
      rows.push([
        i === 0 ? name(w, many) : '',
        isoDay(k.weekStart),
        usd(k.costNano),
        k.outcomes.toLocaleString('en'),
        usd(k.costPerOutcomeNano, 4),
        k.drift ? ratioPercent(k.drift.change) : '—',
        driftText(k.drift),
      ]);
    }
  }
  out.push(table(['workload', 'week', 'cost', 'outcomes', '$/outcome', `vs ${r.driftWeeks} wk before`, 'drift'], rows, ['left', 'left', 'right', 'right', 'right', 'right', 'left']));
  const latest = r.workloads.filter((w) => w.drift?.flagged);
  const earlier = r.workloads.flatMap((w) => w.weeks.slice(0, -1).filter((k) => k.drift?.flagged).map((k) => `${name(w, many)} in the week of ${isoDay(k.weekStart)}`));
  out.push(
    latest.length === 0
      ? `No drift in the latest week${earlier.length > 0 ? ` (flagged earlier: ${earlier.join('; ')})` : ''}.`
      : latest
          .map((w) => {
            const d = w.drift!;
            return `Drift in the latest week (${isoDay(d.week)}): ${name(w, many)} costs ${usd(w.weeks.at(-1)?.costPerOutcomeNano ?? null, 4)} per ${w.unit}, ${ratioPercent(d.change)} on the week of ${isoDay(d.referenceWeek)}; likely cause: ${d.cause ? DRIFT_CAUSE_TEXT[d.cause] : 'unknown'}${d.evidence ? ` (${d.evidence})` : ''}.`;
          })
          .join('\n'),
    '',
  );
  return out.join('\n');
}

/** One table: a row per workload for the period, a row per workload and week, and a total row. */
export function unitEconomicsCsv(r: UnitEconomicsReport): string {
  const headers = [
    'row', 'scope', 'project', 'outcome_type', 'period_from', 'period_to', 'week', 'cost_usd', 'outcomes', 'cost_per_outcome_usd', 'baseline_usd', 'baseline_value_usd',
    'savings_usd', 'roi', 'target_usd', 'target_status', 'traces', 'p50_usd', 'p90_usd', 'p99_usd', 'change_vs_reference', 'drift_flagged', 'drift_cause', 'drift_evidence',
  ];
  const from = new Date(r.from).toISOString();
  const to = new Date(r.to).toISOString();
  const drift = (d: DriftCheck | null) => [d ? ratioPlain(d.change, 4) : null, d ? d.flagged : null, d?.flagged ? d.cause : null, d?.flagged ? d.evidence : null];
  const rows: (string | number | bigint | boolean | null)[][] = [];
  for (const w of r.workloads) {
    const p = w.perTrace;
    rows.push([
      'workload', r.scope.path, w.projectPath, w.type, from, to, null, plainUsd(w.costNano), w.outcomes, plainUsd(w.costPerOutcomeNano), plainUsd(w.baselineNano), plainUsd(w.baselineValueNano),
      plainUsd(w.savingsNano), w.roi === null ? null : ratioPlain(w.roi, 4), plainUsd(w.targetNano), w.targetStatus, p.traces, plainUsd(p.p50Nano), plainUsd(p.p90Nano), plainUsd(p.p99Nano), ...drift(w.drift),
    ]);
  }
  for (const w of r.workloads) {
    for (const k of w.weeks) {
      rows.push(['week', r.scope.path, w.projectPath, w.type, from, to, isoDay(k.weekStart), plainUsd(k.costNano), k.outcomes, plainUsd(k.costPerOutcomeNano), null, null, null, null, null, null, null, null, null, null, ...drift(k.drift)]);
    }
  }
  const t = r.totals;
  rows.push(['total', r.scope.path, null, null, from, to, null, plainUsd(r.costNano), null, null, null, plainUsd(t.baselineValueNano), plainUsd(t.savingsNano), t.roi === null ? null : ratioPlain(t.roi, 4), null, null, null, null, null, null, null, null, null, null]);
  return toCsv(headers, rows);
}
