import { lazy, Suspense, useMemo } from 'react';
import type { SpendReport, SpendSeries } from '../api/types.ts';
import type { ChartOption } from '../charts/chart-option.ts';
import { Empty } from '../components/status.tsx';
import { formatUsd, formatUsdAxis, formatUsdValue, usdForChart } from '../format/money.ts';
import { formatDateTime } from '../format/time.ts';
import { href } from '../router.ts';
import type { ExploreParams } from './explore-params.ts';
import { callsHref, exploreHref } from './explore-params.ts';

const Chart = lazy(async () => ({ default: (await import('../charts/chart.tsx')).Chart }));

interface Tile {
  name: string;
  value: number;
  path: string | null;
  key: string;
}

/** The rows as a treemap; a tile with a scope drills into it, a model or provider tile opens its calls. */
export function SpendTreemap({ report, p }: { report: SpendReport; p: ExploreParams }) {
  const option = useMemo<ChartOption>(() => {
    const data: Tile[] = report.rows.filter((r) => usdForChart(r.spendUsd) > 0).map((r) => ({ name: r.label, value: usdForChart(r.spendUsd), path: r.path, key: r.key }));
    return {
      tooltip: { formatter: (info: unknown) => {
        const i = info as { name: string; value: number };
        return `${escapeHtml(i.name)}: ${formatUsdValue(i.value)}`;
      } },
      series: [
        {
          type: 'treemap',
          data,
          roam: false,
          nodeClick: false,
          breadcrumb: { show: false },
          width: '100%',
          height: '100%',
          top: 0,
          left: 0,
          label: { lineHeight: 16, formatter: (x: { name: string; value?: unknown }) => `${x.name}\n${formatUsdValue(Number(x.value))}` },
        },
      ],
    };
  }, [report]);
  const top = report.rows.slice(0, 3).map((r) => `${r.label} ${formatUsd(r.spendUsd)}`).join(', ');
  return (
    <Suspense fallback={<div className="chart" style={{ height: 280 }} />}>
      <Chart
        option={option}
        height={280}
        testId="explore-treemap"
        label={`Treemap of spend by ${report.groupBy} in ${report.scope}; largest: ${top}. The table below has every row.`}
        onClick={(e) => {
          const t = e.data as Tile | undefined;
          if (!t) return;
          window.location.hash = (t.path !== null ? exploreHref(p, { scope: t.path, groupBy: '' }) : callsHref(p, report, t, report.groupBy)).slice(1);
        }}
      />
    </Suspense>
  );
}

/** Spend per bucket, stacked by group, with anomalies as vertical markers and budgets per bucket as lines. */
export function SeriesChart({ series, p }: { series: SpendSeries; p: ExploreParams }) {
  const option = useMemo<ChartOption>(() => {
    const bars = series.total.length <= 120;
    const markers = {
      symbol: 'none',
      silent: false,
      data: [
        ...series.anomalies.map((a) => ({ xAxis: a.at, name: a.signal, lineStyle: { color: '#d9480f', type: 'solid' as const, width: 2 }, label: { formatter: a.signal.replace(/_/g, ' '), color: '#d9480f' } })),
        ...series.budgets
          .filter((b) => b.perBucketUsd !== null)
          .map((b) => ({ yAxis: usdForChart(b.perBucketUsd), name: `budget ${b.scope}`, lineStyle: { type: 'dashed' as const }, label: { formatter: `${b.scope} budget ${formatUsd(b.perBucketUsd)}/${series.bucket}`, position: 'insideEndTop' as const } })),
      ],
    };
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v) => formatUsdValue(Number(v)) },
      legend: { bottom: 0, type: 'scroll' },
      grid: { left: 8, right: 16, top: 24, bottom: 40, containLabel: true },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => formatUsdAxis(v) } },
      series: series.series.map((s, i) => ({
        name: s.label,
        type: bars ? 'bar' : 'line',
        stack: 'spend',
        showSymbol: false,
        ...(bars ? {} : { areaStyle: { opacity: 0.35 } }),
        data: s.points.map((pt) => [pt.at, usdForChart(pt.spendUsd)] as [number, number]),
        ...(i === 0 && markers.data.length > 0 ? { markLine: markers } : {}),
      })),
    };
  }, [series]);
  if (series.total.length === 0) return <Empty>No calls in this period.</Empty>;
  return (
    <>
      <Suspense fallback={<div className="chart" style={{ height: 280 }} />}>
        <Chart option={option} height={280} testId="explore-series" label={`Spend per ${series.bucket}, stacked by group, with ${series.anomalies.length} anomaly markers and ${series.budgets.length} budget lines`} />
      </Suspense>
      {series.anomalies.length > 0 && (
        <ul className="plain-list compact" aria-label="Anomalies in this period" data-testid="explore-anomalies">
          {series.anomalies.map((a) => (
            <li key={a.id}>
              <a href={href(`anomalies/${encodeURIComponent(a.id)}`)}>
                {formatDateTime(a.at)} · {a.scope} · {a.signal.replace(/_/g, ' ')}
              </a>{' '}
              <span className="muted">
                ({a.status}) {a.summary}
              </span>
            </li>
          ))}
        </ul>
      )}
      {series.budgets.length > 0 && (
        <p className="muted">
          Budgets:{' '}
          {series.budgets
            .map((b) => `${b.scope} ${formatUsd(b.limitUsd)}/${b.period}${b.perBucketUsd === null ? '' : ` (${formatUsd(b.perBucketUsd)} per ${series.bucket})`}`)
            .join('; ')}
          .
        </p>
      )}
      {series.from !== undefined && series.to !== undefined && (
        <p className="muted">
          <a href={callsHref(p, { from: series.from, to: series.to })}>Calls behind this chart</a>
        </p>
      )}
    </>
  );
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
