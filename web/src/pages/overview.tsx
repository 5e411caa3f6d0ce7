/**
 * Overview: this month's spend against plan and budget, the forecast to month end with its P50–P90
 * band, open anomalies, the week's top movers and the trend of $/outcome per workload.
 */
import { lazy, Suspense, useMemo } from 'react';
import { apiPath } from '../api/client.ts';
import type { Overview } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import type { ChartOption } from '../charts/chart-option.ts';
import { Page, Section } from '../components/page.tsx';
import { ScopeSelect } from '../components/scope-select.tsx';
import { Async, Empty } from '../components/status.tsx';
import { UsageMeter } from '../components/usage-meter.tsx';
import { formatPct, formatUsd, formatUsdAxis, formatUsdChange, formatUsdValue, nanoToUsd, usdForChart, usdToNano } from '../format/money.ts';
import { formatDateTime, formatMonth, formatMonthShort } from '../format/time.ts';
import type { Route } from '../router.ts';
import { href, navigate, paramsObject } from '../router.ts';

// The chart component pulls in nothing of ECharts until it renders; lazy keeps even its wrapper out of the first chunk.
const Chart = lazy(async () => ({ default: (await import('../charts/chart.tsx')).Chart }));

export function OverviewPage({ route }: { route: Route }) {
  const scope = route.params.get('scope') ?? '';
  const state = useApi<Overview>(apiPath('/api/overview', { scope }));
  return (
    <Page
      title="Overview"
      intro="This month so far, where it is heading, and what changed."
      actions={<ScopeSelect label="Scope" value={scope || (state.data?.scope ?? '')} onChange={(s) => navigate('overview', { ...paramsObject(route.params), scope: s })} tiers={['org', 'team', 'project']} testId="overview-scope" />}
    >
      <Async state={state}>{(o) => <OverviewBody o={o} />}</Async>
    </Page>
  );
}

function OverviewBody({ o }: { o: Overview }) {
  const limit = o.budget?.period === 'month' ? o.budget : o.plan?.period === 'month' ? o.plan : null;
  return (
    <>
      <div className="kpis">
        <div className="card kpi" data-testid="kpi-month-to-date">
          <h2>Spent in {formatMonth(o.month)}</h2>
          <p className="big">
            <a href={href('calls', { scope: o.scope, from: `${o.month}-01` })} data-testid="overview-mtd-calls">
              {formatUsd(o.monthToDateUsd)}
            </a>
          </p>
          <p className="muted">
            Last month: {formatUsd(o.lastMonthUsd)} · as of {formatDateTime(o.asOf)}
          </p>
        </div>
        <div className="card kpi" data-testid="kpi-forecast">
          <h2>Forecast to month end</h2>
          <p className="big">{formatUsd(o.forecastMonthEnd.p50Usd)}</p>
          <p className="muted">P50; P90 {formatUsd(o.forecastMonthEnd.p90Usd)}</p>
          <details className="small">
            <summary>How</summary>
            {o.forecastMonthEnd.method}
          </details>
        </div>
        <div className="card kpi" data-testid="kpi-plan">
          <h2>Plan</h2>
          {o.plan ? (
            <>
              <p className="big">{formatUsd(o.plan.limitUsd)}</p>
              <p className="muted">
                per {o.plan.period} for {o.plan.scope}
              </p>
              <UsageMeter pct={o.plan.usedPct} label={`Plan used, ${o.plan.scope}`} />
            </>
          ) : (
            <p className="muted">
              No plan set. <code>tollgate budgets set --scope {o.scope} --amount 12000 --period year --action plan</code>
            </p>
          )}
        </div>
        <div className="card kpi" data-testid="kpi-budget">
          <h2>Tightest budget</h2>
          {o.budget ? (
            <>
              <p className="big">{formatUsd(o.budget.limitUsd)}</p>
              <p className="muted">
                per {o.budget.period} for {o.budget.scope}
              </p>
              <UsageMeter pct={o.budget.usedPct} label={`Budget used, ${o.budget.scope}`} />
            </>
          ) : (
            <p className="muted">No budget on {o.scope}.</p>
          )}
        </div>
      </div>

      <Section title="This month, day by day">
        <MonthChart o={o} limitUsd={limit?.limitUsd ?? null} />
      </Section>

      <div className="two">
        <Section title="Open anomalies" actions={<a href={href('anomalies')}>All anomalies</a>}>
          {o.openAnomalies.length === 0 ? (
            <Empty>Nothing unusual right now.</Empty>
          ) : (
            <ul className="plain-list" data-testid="overview-anomalies">
              {o.openAnomalies.map((a) => (
                <li key={a.id}>
                  <a href={href(`anomalies/${encodeURIComponent(a.id)}`)}>
                    <strong>{a.scope}</strong> · {a.signal.replace(/_/g, ' ')}
                  </a>
                  <div className="muted">
                    {a.summary} · {formatUsd(a.usdPerHour)}/h at risk · since {formatDateTime(a.openedAt)}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Section title="Top movers this week">
          {o.topMovers.length === 0 ? (
            <Empty>No scope spent more this week than last.</Empty>
          ) : (
            <div className="table-wrap">
              <table data-testid="overview-movers">
                <thead>
                  <tr>
                    <th scope="col">Scope</th>
                    <th scope="col" className="num">This week</th>
                    <th scope="col" className="num">Last week</th>
                    <th scope="col" className="num">Change</th>
                  </tr>
                </thead>
                <tbody>
                  {o.topMovers.map((m) => (
                    <tr key={m.path}>
                      <th scope="row">
                        <a href={href('explore', { scope: m.path })}>{m.path}</a>
                      </th>
                      <td className="num">{formatUsd(m.thisWeekUsd)}</td>
                      <td className="num">{formatUsd(m.lastWeekUsd)}</td>
                      <td className="num">
                        {formatUsdChange(m.changeUsd)}
                        <div className="muted">{formatPct(m.changePct, { signed: true })}</div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Section>
      </div>

      <Section title="Cost per outcome, by workload" actions={<a href={href('unit-economics', { scope: o.scope })}>Unit economics</a>}>
        <UnitTrend o={o} />
      </Section>
    </>
  );
}

function MonthChart({ o, limitUsd }: { o: Overview; limitUsd: string | null }) {
  const option = useMemo<ChartOption>(() => {
    // Cumulative spend, summed exactly in nano-USD and turned into floats only for the drawing.
    let running = 0n;
    const actual = o.daily.map((d) => {
      running += usdToNano(d.spendUsd);
      return [d.at, usdForChart(nanoToUsd(running))] as [number, number];
    });
    const last = actual[actual.length - 1];
    const [y, m] = o.month.split('-').map(Number);
    const monthEnd = Date.UTC(y ?? 1970, m ?? 1, 1) - 1;
    const p50 = usdForChart(o.forecastMonthEnd.p50Usd);
    const band = usdForChart(nanoToUsd(usdToNano(o.forecastMonthEnd.p90Usd) - usdToNano(o.forecastMonthEnd.p50Usd)));
    const from = last ?? [Date.UTC(y ?? 1970, (m ?? 1) - 1, 1), 0];
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v) => formatUsdValue(Number(v)) },
      legend: { bottom: 0 },
      grid: { left: 8, right: 16, top: 24, bottom: 40, containLabel: true },
      xAxis: { type: 'time', max: monthEnd },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => formatUsdAxis(v) } },
      series: [
        {
          name: 'Spent (cumulative)',
          type: 'line',
          data: actual,
          showSymbol: false,
          areaStyle: { opacity: 0.15 },
          ...(limitUsd === null
            ? {}
            : { markLine: { symbol: 'none', lineStyle: { type: 'dashed' }, label: { formatter: `budget ${formatUsd(limitUsd)}`, position: 'insideStartTop' }, data: [{ yAxis: usdForChart(limitUsd) }] } }),
        },
        { name: 'Forecast P50', type: 'line', stack: 'fc', data: [from, [monthEnd, p50]], showSymbol: false, lineStyle: { type: 'dashed' } },
        { name: 'P50–P90 band', type: 'line', stack: 'fc', data: [[from[0], 0], [monthEnd, band]], showSymbol: false, lineStyle: { opacity: 0 }, areaStyle: { opacity: 0.25 } },
      ],
    };
  }, [o, limitUsd]);
  const label = `Cumulative spend in ${formatMonth(o.month)}: ${formatUsd(o.monthToDateUsd)} so far, forecast ${formatUsd(o.forecastMonthEnd.p50Usd)} (P50) to ${formatUsd(o.forecastMonthEnd.p90Usd)} (P90) at month end`;
  return (
    <Suspense fallback={<div className="chart" style={{ height: 260 }} />}>
      <Chart option={option} label={label} height={260} testId="overview-month-chart" />
    </Suspense>
  );
}

function UnitTrend({ o }: { o: Overview }) {
  // Months in which no workload recorded an outcome say nothing: left out.
  const months = useMemo(() => [...new Set(o.unitTrend.flatMap((w) => w.points.filter((p) => p.costPerOutcomeUsd != null).map((p) => p.month)))].sort(), [o]);
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: { trigger: 'axis', valueFormatter: (v) => formatUsdValue(Number(v)) },
      legend: { bottom: 0, type: 'scroll' },
      grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true },
      xAxis: { type: 'category', data: months.map(formatMonthShort) },
      // Workloads differ by orders of magnitude ($0.04 a ticket, $2.50 a fixed test): a log axis keeps each line readable.
      yAxis: { type: spread(o) > 20 ? 'log' : 'value', axisLabel: { formatter: (v: number) => formatUsdAxis(v) } },
      series: o.unitTrend.map((w) => ({
        name: `${w.workload} (${w.displayName ?? w.outcome.replace(/_/g, ' ')})`,
        type: 'line',
        connectNulls: false,
        data: months.map((mo) => {
          const p = w.points.find((x) => x.month === mo);
          return p?.costPerOutcomeUsd == null ? null : usdForChart(p.costPerOutcomeUsd);
        }),
      })),
    }),
    [o, months],
  );
  if (o.unitTrend.length === 0) return <Empty>No outcomes recorded yet: agents report them with POST /v1/outcomes.</Empty>;
  return (
    <>
      <Suspense fallback={<div className="chart" style={{ height: 240 }} />}>
        <Chart option={option} label="Cost per outcome per workload, by month" height={240} />
      </Suspense>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Workload</th>
              <th scope="col">Outcome</th>
              {months.map((m) => (
                <th scope="col" className="num" key={m}>
                  {formatMonthShort(m)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {o.unitTrend.map((w) => (
              <tr key={`${w.workload}/${w.outcome}`}>
                <th scope="row">{w.workload}</th>
                <td>{w.displayName ?? w.outcome.replace(/_/g, ' ')}</td>
                {months.map((m) => {
                  const p = w.points.find((x) => x.month === m);
                  return (
                    <td className="num" key={m}>
                      {formatUsd(p?.costPerOutcomeUsd)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** Largest $/outcome over the smallest (display only). */
function spread(o: Overview): number {
  const values = o.unitTrend.flatMap((w) => w.points.map((p) => (p.costPerOutcomeUsd == null ? 0 : usdForChart(p.costPerOutcomeUsd)))).filter((v) => v > 0);
  return values.length === 0 ? 1 : Math.max(...values) / Math.min(...values);
}
