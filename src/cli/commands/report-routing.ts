import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { AliasReport, RoutingFigures, RoutingFormula, RoutingReport } from '../../analytics/routing.ts';
import { ratio, routingJson, routingPeriod, routingReport } from '../../analytics/routing.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd } from '../../domain/money.ts';
import type { CliContext } from '../context.ts';
import { table, toJson } from '../output.ts';

function days(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 3660) throw new InvalidArgumentError('expected a whole number of days, 1 to 3660');
  return n;
}

/** `tollgate report routing`: what cheap-first routing saved against sending every routed request to the frontier. */
export function registerRoutingReport(report: Command, ctx: CliContext): void {
  report
    .command('routing')
    .description('cheap-first routing: traffic per tier, escalation rate, actual cost vs all-frontier, savings and the arithmetic behind them')
    .option('--days <n>', 'the last n days up to now (default 30)', days)
    .option('--month <YYYY-MM>', 'a calendar month, UTC (instead of --days)')
    .option('--scope <path>', 'only calls under this org, team, project or agent')
    .option('--json', 'print JSON')
    .action(async (o: { days?: number; month?: string; scope?: string; json?: boolean }) => {
      if (o.days !== undefined && o.month !== undefined) throw new TollgateError('invalid_request', 'give --days or --month, not both');
      const period = routingPeriod(o, ctx.now());
      const store = await ctx.store();
      const r = await routingReport(store, ctx.pricer(), { from: period.from, to: period.to, ...(o.scope === undefined ? {} : { scope: o.scope }) });
      ctx.io.stdout(o.json ? toJson(routingJson(r)) : renderRouting(r, period.label));
    });
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const times = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)}×`);
const n = (x: number) => x.toLocaleString('en');
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function renderRouting(r: RoutingReport, label: string): string {
  const head = `Routing savings, ${label} (${day(r.from)} → ${day(r.to - 1)} UTC), ${r.scope ?? 'all scopes'}\n\n`;
  const t = r.total;
  if (t.requests === 0) {
    return head + 'No routed calls in this period. A call is routed when it asks for a routed model (routing: in tollgate.yaml), e.g. "model": "auto".\n';
  }
  const lines = [
    `Routing ${t.savingNano >= 0n ? 'saved' : 'cost an extra'} ${formatUsd(t.savingNano < 0n ? -t.savingNano : t.savingNano)} (${pct(r.formula.actualSaving)}): ${formatUsd(t.actualNano)} spent instead of ${formatUsd(t.counterfactualNano)} had every routed request gone to the frontier.`,
    `${n(t.requests)} requests; ${pct(r.formula.f)} answered by the frontier; ${pct(ratio(t.escalatedRequests, t.requests))} escalated after a cheaper tier failed.`,
    '',
  ];
  for (const a of r.aliases) lines.push(...aliasBlock(a), '');
  const [only] = r.aliases;
  lines.push(...arithmetic(r.aliases.length === 1 && only ? only.formula : r.formula, t, r.aliases.length > 1));
  if (t.unpricedCounterfactual > 0) lines.push('', `⚠ ${n(t.unpricedCounterfactual)} call(s) have a frontier model with no price: counted at their actual cost (no saving claimed).`);
  return head + lines.join('\n') + '\n';
}

function aliasBlock(a: AliasReport): string[] {
  const f = a.figures;
  const rows = a.tiers.map((t) => [
    t.tier,
    t.models.join(', '),
    n(t.calls),
    n(t.answered),
    pct(ratio(t.answered, f.requests)),
    t.frontier && t.escalated === 0 ? '—' : pct(ratio(t.escalated, t.calls)),
    formatUsd(t.costNano),
    formatUsd(t.counterfactualNano),
  ]);
  const calls = a.tiers.reduce((s, t) => s + t.calls, 0);
  rows.push(['total', '', n(calls), n(f.requests), '100.0%', pct(ratio(f.escalatedRequests, f.requests)), formatUsd(f.actualNano), formatUsd(f.counterfactualNano)]);
  const body = table(['tier', 'models', 'calls', 'answered', 'share', 'escalated', 'cost', 'at frontier price'], rows, ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right']);
  return [
    `${a.alias} → frontier ${a.frontierModels.join(', ') || '(every call ran on it)'}: saved ${formatUsd(f.savingNano)} (${pct(a.formula.actualSaving)})`,
    ...body.trimEnd().split('\n').map((l) => `  ${l}`),
  ];
}

/** The formula twice: with the share of requests (what is usually quoted) and with the share of cost (exact). */
function arithmetic(m: RoutingFormula, x: RoutingFigures, overall: boolean): string[] {
  const out = [
    `The arithmetic${overall ? ' (all routed models)' : ''}: routing costs f + (1 − f)/r + waste of all-frontier; here r = ${times(m.r)}`,
    '(how many times cheaper the lower tiers were on the requests they answered).',
  ];
  if (m.f === null) return out;
  if (m.r === null && m.f < 1) return [...out, '  No lower-tier cost to compare: r is undefined.'];
  const blended = (share: number, waste: number) => share + (share === 1 ? 0 : (1 - share) / (m.r ?? 1)) + waste;
  out.push(`  by share of requests: f = ${pct(m.f)} → ${pct(m.f)} + ${pct(1 - m.f)}/${times(m.r)} = ${pct(blended(m.f, 0))} → ${pct(m.predictedSaving)} saving predicted`);
  if (m.fCost !== null) {
    out.push(`  by share of cost:     f = ${pct(m.fCost)} → ${pct(m.fCost)} + ${pct(1 - m.fCost)}/${times(m.r)} + ${pct(m.waste)} waste = ${pct(blended(m.fCost, m.waste ?? 0))} → ${pct(m.actualSaving)} saved (measured)`);
    const side = m.fCost > m.f ? 'heavier' : m.fCost < m.f ? 'lighter' : null;
    if (side) out.push(`  The frontier's requests are the ${side} ones: ${pct(m.f)} of requests but ${pct(m.fCost)} of the all-frontier cost.`);
  }
  if (x.wasteNano > 0n) out.push(`  Waste: ${formatUsd(x.wasteNano)} paid for the failed cheaper attempts of ${n(x.escalatedRequests)} escalated request(s).`);
  return out;
}
