/**
 * Routing: how the cheap-first router spread requests over tiers, how many escalated, and what it
 * saved against sending everything to the frontier model, with the formula and its inputs.
 */
import { lazy, Suspense, useMemo } from 'react';
import { apiPath } from '../api/client.ts';
import type { RoutingReport, RoutingTotals } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import type { ChartOption } from '../charts/chart-option.ts';
import { SelectField } from '../components/field.tsx';
import { MonthField } from '../components/month-field.tsx';
import { Page, Section } from '../components/page.tsx';
import { ScopeSelect } from '../components/scope-select.tsx';
import { Async, Empty } from '../components/status.tsx';
import { formatCount, formatShare, formatUsd } from '../format/money.ts';
import { formatDay, isoMonth } from '../format/time.ts';
import type { Route } from '../router.ts';
import { href, paramsObject } from '../router.ts';
import { useSession } from '../session.tsx';

const Chart = lazy(async () => ({ default: (await import('../charts/chart.tsx')).Chart }));

export function RoutingPage({ route }: { route: Route }) {
  const { viewerScope } = useSession();
  const month = route.params.get('month') ?? '';
  const days = month === '' ? (route.params.get('days') ?? '30') : '';
  const scope = route.params.get('scope') ?? viewerScope ?? '';
  const go = (change: Record<string, string>) => {
    window.location.hash = href('routing', { ...paramsObject(route.params), ...change }).slice(1);
  };
  const state = useApi<RoutingReport>(apiPath('/api/reports/routing', { days, month, scope }));
  return (
    <Page title="Routing" intro="Requests sent to cheaper tiers first, escalations, and the saving against an all-frontier bill.">
      <div className="filters card">
        <SelectField
          label="Period"
          value={month === '' ? days : 'month'}
          onChange={(e) => (e.target.value === 'month' ? go({ month: isoMonth(Date.now()), days: '' }) : go({ days: e.target.value, month: '' }))}
          options={[
            { value: '7', label: 'Last 7 days' },
            { value: '30', label: 'Last 30 days' },
            { value: '90', label: 'Last 90 days' },
            { value: 'month', label: 'A month…' },
          ]}
          testId="routing-period"
        />
        {month !== '' && <MonthField value={month} onChange={(m) => go({ month: m })} />}
        <ScopeSelect label="Scope" value={scope} onChange={(s) => go({ scope: s })} {...(viewerScope === null ? { emptyLabel: 'Everything' } : {})} testId="routing-scope" />
      </div>
      <Async state={state} what="Loading the routing report">
        {(r) => <RoutingBody r={r} />}
      </Async>
    </Page>
  );
}

function RoutingBody({ r }: { r: RoutingReport }) {
  if (r.routed_models.length === 0) {
    return <Empty>No routed calls in this period. Clients use the router by asking for a routed model (e.g. "auto") configured under routing: in tollgate.yaml.</Empty>;
  }
  const t = r.total;
  return (
    <>
      <div className="kpis">
        <div className="card kpi">
          <h2>Spent on routed calls</h2>
          <p className="big">{formatUsd(t.actual_usd)}</p>
          <p className="muted">
            {formatCount(t.requests)} requests, {formatDay(r.from)} – {formatDay(r.to)}
          </p>
        </div>
        <div className="card kpi">
          <h2>All on the frontier model</h2>
          <p className="big">{formatUsd(t.all_frontier_usd)}</p>
          <p className="muted">the counterfactual, same tokens</p>
        </div>
        <div className="card kpi" data-testid="routing-saving">
          <h2>Saved</h2>
          <p className="big">{formatUsd(t.saving_usd)}</p>
          <p className="muted">{t.formula ? `${formatShare(t.formula.actual_saving)} of the all-frontier cost` : ''}</p>
        </div>
        <div className="card kpi">
          <h2>Escalated</h2>
          <p className="big">{formatShare(t.escalation_rate)}</p>
          <p className="muted">{formatCount(t.escalated_requests)} requests retried a tier up</p>
        </div>
      </div>
      {t.formula && <Formula t={t} />}
      <Section title="Share of requests per tier">
        <ShareChart r={r} />
      </Section>
      {r.routed_models.map((m) => (
        <Section key={m.alias} title={`Routed model "${m.alias}"`}>
          <p className="muted">Frontier: {m.frontier_models.join(', ')}</p>
          <div className="table-wrap">
            <table data-testid={`routing-tiers-${m.alias}`}>
              <thead>
                <tr>
                  <th scope="col">Tier</th>
                  <th scope="col">Models</th>
                  <th scope="col" className="num">Calls</th>
                  <th scope="col" className="num">Share of requests</th>
                  <th scope="col" className="num">Escalated</th>
                  <th scope="col" className="num">Cost</th>
                  <th scope="col" className="num">If all frontier</th>
                </tr>
              </thead>
              <tbody>
                {m.tiers.map((tier) => (
                  <tr key={tier.tier}>
                    <th scope="row">
                      {tier.tier}
                      {tier.frontier && tier.tier !== 'frontier' && <span className="muted"> (frontier)</span>}
                    </th>
                    <td>{tier.models.join(', ')}</td>
                    <td className="num">{formatCount(tier.calls)}</td>
                    <td className="num">{formatShare(tier.share_of_requests)}</td>
                    <td className="num">
                      {formatCount(tier.escalated)} <span className="muted">({formatShare(tier.escalation_rate)})</span>
                    </td>
                    <td className="num">{formatUsd(tier.cost_usd)}</td>
                    <td className="num">{formatUsd(tier.all_frontier_usd)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Total</th>
                  <td />
                  <td className="num">{formatCount(m.requests)}</td>
                  <td />
                  <td className="num">{formatCount(m.escalated_requests)}</td>
                  <td className="num">{formatUsd(m.actual_usd)}</td>
                  <td className="num">{formatUsd(m.all_frontier_usd)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
        </Section>
      ))}
    </>
  );
}

function Formula({ t }: { t: RoutingTotals }) {
  const f = t.formula!;
  const n = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  return (
    <Section title="Why this saving">
      <p>
        Blended cost, as a share of the all-frontier cost: <code>{f.blended_cost}</code>
      </p>
      <ul className="plain-list">
        <li>
          <var>f</var> = {n(f.f_requests)}: the frontier tier's share of requests ({n(f.f_cost)} of the all-frontier cost)
        </li>
        <li>
          <var>r</var> = {n(f.r)}: how many times cheaper the lower tiers were on the requests they answered
        </li>
        <li>
          <var>waste</var> = {n(f.waste)}: cheap attempts that failed and were escalated, as a share of the all-frontier cost
        </li>
      </ul>
      <p>
        With <var>f</var> as the share of requests, the formula predicts a saving of <strong>{formatShare(f.predicted_saving_from_request_share)}</strong>. Measured from the
        ledger (<var>f</var> as the share of cost, plus waste) it is <strong>{formatShare(f.actual_saving)}</strong>, {formatUsd(t.saving_usd)}. The two differ when the requests
        sent to the frontier are heavier or lighter than the rest.
      </p>
    </Section>
  );
}

function ShareChart({ r }: { r: RoutingReport }) {
  const option = useMemo<ChartOption>(() => {
    const tiers = [...new Set(r.routed_models.flatMap((m) => m.tiers.map((t) => t.tier)))];
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v) => formatShare(Number(v)) },
      legend: { bottom: 0 },
      grid: { left: 8, right: 24, top: 8, bottom: 40, containLabel: true },
      xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => formatShare(v) } },
      yAxis: { type: 'category', data: r.routed_models.map((m) => m.alias) },
      series: tiers.map((tier) => ({
        name: tier,
        type: 'bar',
        stack: 'share',
        data: r.routed_models.map((m) => m.tiers.find((t) => t.tier === tier)?.share_of_requests ?? 0),
      })),
    };
  }, [r]);
  return (
    <Suspense fallback={<div className="chart" style={{ height: 60 + 40 * r.routed_models.length }} />}>
      <Chart option={option} height={80 + 40 * r.routed_models.length} testId="routing-chart" label="Share of requests answered on each tier, per routed model; the tables below have the figures." />
    </Suspense>
  );
}
