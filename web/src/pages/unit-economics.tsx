/**
 * Unit economics: $/outcome per workload against the human baseline, ROI, and how the cost of one
 * task (trace) is distributed: the median task, the P90 and P99, and the worst.
 */
import { lazy, Suspense, useMemo } from 'react';
import { apiPath } from '../api/client.ts';
import { useScopes } from '../api/scopes.ts';
import type { UnitEconomics, UnitWorkload } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import type { ChartOption } from '../charts/chart-option.ts';
import { MonthField } from '../components/month-field.tsx';
import { Page, Section } from '../components/page.tsx';
import { ScopeSelect } from '../components/scope-select.tsx';
import { Async, Empty } from '../components/status.tsx';
import { formatCount, formatPct, formatRatio, formatUsd, formatUsdAxis, formatUsdValue, usdForChart } from '../format/money.ts';
import { formatMonth, isoMonth } from '../format/time.ts';
import type { Route } from '../router.ts';
import { href, paramsObject } from '../router.ts';
import { useSession } from '../session.tsx';

const Chart = lazy(async () => ({ default: (await import('../charts/chart.tsx')).Chart }));

export function UnitEconomicsPage({ route }: { route: Route }) {
  const { viewerScope } = useSession();
  const { scopes } = useScopes();
  const month = route.params.get('month') ?? isoMonth(Date.now());
  const scope = route.params.get('scope') ?? viewerScope ?? scopes?.find((s) => s.tier === 'org')?.path ?? '';
  const go = (change: Record<string, string>) => {
    window.location.hash = href('unit-economics', { ...paramsObject(route.params), ...change }).slice(1);
  };
  const state = useApi<UnitEconomics>(scope === '' ? null : apiPath('/api/reports/unit-economics', { scope, month }));
  return (
    <Page title="Unit economics" intro={`What one outcome (a resolved ticket, a merged PR) costs in ${formatMonth(month)}, against what it costs done by people.`}>
      <div className="filters card">
        <MonthField value={month} onChange={(m) => go({ month: m })} testId="unit-month" />
        <ScopeSelect label="Scope" value={scope} onChange={(s) => go({ scope: s })} tiers={['org', 'team', 'project']} testId="unit-scope" />
      </div>
      {scope !== '' && <Async state={state} what="Loading unit economics">{(u) => <UnitBody u={u} />}</Async>}
    </Page>
  );
}

function UnitBody({ u }: { u: UnitEconomics }) {
  return (
    <>
      <div className="kpis">
        <div className="card kpi">
          <h2>Cost of measured work</h2>
          <p className="big">{formatUsd(u.totals.measured_cost_usd)}</p>
          <p className="muted">of {formatUsd(u.cost_usd)} spent in total</p>
        </div>
        <div className="card kpi">
          <h2>Same work by people</h2>
          <p className="big">{formatUsd(u.totals.baseline_value_usd)}</p>
          <p className="muted">outcomes × human baseline</p>
        </div>
        <div className="card kpi">
          <h2>Saving</h2>
          <p className="big">{formatUsd(u.totals.savings_usd)}</p>
        </div>
        <div className="card kpi" data-testid="unit-roi">
          <h2>ROI</h2>
          <p className="big">{formatRatio(u.totals.roi)}</p>
          <p className="muted">saving ÷ cost</p>
        </div>
      </div>
      <Section title="Workloads">
        {u.workloads.length === 0 ? (
          <Empty>No outcomes recorded in this period: agents report them with POST /v1/outcomes.</Empty>
        ) : (
          <div className="table-wrap">
            <table data-testid="unit-table">
              <thead>
                <tr>
                  <th scope="col">Workload</th>
                  <th scope="col" className="num">Outcomes</th>
                  <th scope="col" className="num">Cost</th>
                  <th scope="col" className="num">$/outcome</th>
                  <th scope="col" className="num">Human baseline</th>
                  <th scope="col" className="num">ROI</th>
                  <th scope="col" className="num">Target</th>
                  <th scope="col">This week</th>
                </tr>
              </thead>
              <tbody>
                {u.workloads.map((w) => (
                  <tr key={`${w.project}/${w.type}`}>
                    <th scope="row">
                      <a href={href('explore', { scope: w.project })}>{w.project}</a> <span className="muted">{w.name}</span>
                    </th>
                    <td className="num">{formatCount(w.outcomes)}</td>
                    <td className="num">{formatUsd(w.cost_usd)}</td>
                    <td className="num">
                      <strong>{formatUsd(w.cost_per_outcome_usd)}</strong>
                    </td>
                    <td className="num">{formatUsd(w.baseline_usd)}</td>
                    <td className="num">{formatRatio(w.roi)}</td>
                    <td className="num">
                      {w.target_usd === null ? '—' : formatUsd(w.target_usd)} {w.target_status !== null && <span className={`badge ${w.target_status}`}>{w.target_status}</span>}
                    </td>
                    <td>{w.drift === null ? '—' : <Drift w={w} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {u.workloads.some((w) => w.per_trace !== null && w.per_trace.traces > 0) && (
        <Section title="Cost per task (trace)">
          <TraceChart workloads={u.workloads} />
          <div className="table-wrap">
            <table data-testid="unit-traces">
              <thead>
                <tr>
                  <th scope="col">Workload</th>
                  <th scope="col" className="num">Traces</th>
                  <th scope="col" className="num">P50</th>
                  <th scope="col" className="num">P90</th>
                  <th scope="col" className="num">P99</th>
                  <th scope="col">Most expensive</th>
                </tr>
              </thead>
              <tbody>
                {u.workloads
                  .filter((w) => w.per_trace !== null)
                  .map((w) => (
                    <tr key={`${w.project}/${w.type}`}>
                      <th scope="row">{w.project}</th>
                      <td className="num">{formatCount(w.per_trace!.traces)}</td>
                      <td className="num">{formatUsd(w.per_trace!.p50_usd)}</td>
                      <td className="num">{formatUsd(w.per_trace!.p90_usd)}</td>
                      <td className="num">{formatUsd(w.per_trace!.p99_usd)}</td>
                      <td>
                        {w.per_trace!.worst === null ? (
                          '—'
                        ) : (
                          <a href={href('calls', { trace: w.per_trace!.worst.trace_id, from: u.period.from.slice(0, 10), to: u.period.to.slice(0, 10) })}>
                            {formatUsd(w.per_trace!.worst.cost_usd)} in {formatCount(w.per_trace!.worst.calls)} calls ({w.per_trace!.worst.trace_id})
                          </a>
                        )}
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </Section>
      )}
      {u.unmeasured.length > 0 && (
        <Section title="Spend with no outcomes recorded">
          <ul className="plain-list">
            {u.unmeasured.map((m) => (
              <li key={m.project}>
                <a href={href('explore', { scope: m.project })}>{m.project}</a>: {formatUsd(m.cost_usd)}
              </li>
            ))}
          </ul>
        </Section>
      )}
    </>
  );
}

function Drift({ w }: { w: UnitWorkload }) {
  const d = w.drift!;
  const change = d.change === null ? null : Number(d.change) * 100;
  return (
    <span className={d.flagged ? 'bad' : undefined} title={d.evidence ?? undefined}>
      {formatPct(change, { signed: true })} vs 4 weeks before{d.flagged && d.cause_text !== null ? `: ${d.cause_text}` : ''}
    </span>
  );
}

function TraceChart({ workloads }: { workloads: UnitWorkload[] }) {
  const option = useMemo<ChartOption>(() => {
    const shown = workloads.filter((w) => w.per_trace !== null && w.per_trace.traces > 0);
    const val = (s: string | null | undefined) => (s == null ? null : usdForChart(s));
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v) => formatUsdValue(Number(v)) },
      legend: { bottom: 0 },
      grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true },
      xAxis: { type: 'category', data: shown.map((w) => w.project.split('/').slice(-1)[0] ?? w.project) },
      // Heavy tails: the worst task is often 100× the median; a log axis keeps both readable.
      yAxis: { type: 'log', axisLabel: { formatter: (v: number) => formatUsdAxis(v) } },
      // A dot plot: bars on a log axis would start at $1 and mislead.
      series: (
        [
          ['P50 task', 'circle', (w: UnitWorkload) => w.per_trace!.p50_usd],
          ['P90 task', 'rect', (w: UnitWorkload) => w.per_trace!.p90_usd],
          ['P99 task', 'triangle', (w: UnitWorkload) => w.per_trace!.p99_usd],
          ['Worst task', 'diamond', (w: UnitWorkload) => w.per_trace!.worst?.cost_usd],
          ['Human baseline per outcome', 'pin', (w: UnitWorkload) => w.baseline_usd],
        ] as const
      ).map(([name, symbol, pick]) => ({ name, type: 'line' as const, symbol, symbolSize: 12, lineStyle: { opacity: 0 }, data: shown.map((w) => val(pick(w))) })),
    };
  }, [workloads]);
  return (
    <Suspense fallback={<div className="chart" style={{ height: 280 }} />}>
      <Chart option={option} height={280} testId="unit-trace-chart" label="Cost per task (trace) at P50, P90, P99 and the worst task, per workload, against the human baseline per outcome, on a log scale. The table below has the figures." />
    </Suspense>
  );
}
