/**
 * Forecast: P50/P90/P99 spend per month as a fan over the months already spent, from the same
 * Monte Carlo as `tollgate forecast`. The scenario inputs are controls; the forecast recomputes
 * shortly after each change.
 */
import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { apiPath } from '../api/client.ts';
import type { Forecast } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import type { ChartOption } from '../charts/chart-option.ts';
import { SelectField, TextField } from '../components/field.tsx';
import { Page, Section } from '../components/page.tsx';
import { ScopeSelect } from '../components/scope-select.tsx';
import { Async, Empty } from '../components/status.tsx';
import { formatUsd, formatUsdAxis, nanoToUsd, usdForChart, usdToNano } from '../format/money.ts';
import { formatDateTime, formatMonth, formatMonthShort } from '../format/time.ts';
import type { Route } from '../router.ts';
import { replaceParams } from '../router.ts';
import { useSession } from '../session.tsx';

const Chart = lazy(async () => ({ default: (await import('../charts/chart.tsx')).Chart }));

const INPUTS = ['scope', 'unit', 'months', 'users', 'growth', 'frontier', 'price'] as const;
type Inputs = Record<(typeof INPUTS)[number], string>;

const PRICE_PRESETS = [
  { value: '', label: 'Today’s prices' },
  { value: 'anthropic:x2.5', label: 'Anthropic ×2.5' },
  { value: 'openai:x0.5', label: 'OpenAI ×0.5' },
  { value: 'anthropic:x0.8,openai:x0.8', label: 'Both 20% cheaper' },
];

export function ForecastPage({ route }: { route: Route }) {
  const { viewerScope } = useSession();
  const committed = Object.fromEntries(INPUTS.map((k) => [k, route.params.get(k) ?? ''])) as Inputs;
  if (committed.months === '') committed.months = '3';
  const [draft, setDraft] = useState<Inputs>(committed);
  const key = JSON.stringify(committed);

  // Typing is not a request per keystroke: the draft is committed to the address after a pause.
  useEffect(() => {
    if (JSON.stringify(draft) === key) return;
    const t = window.setTimeout(() => replaceParams('forecast', draft), 500);
    return () => window.clearTimeout(t);
  }, [draft, key]);

  const growth = committed.growth.trim() === '' ? '' : `${committed.growth.trim()}%/month`;
  const state = useApi<Forecast>(
    apiPath('/api/forecast', {
      scope: committed.scope || viewerScope || '',
      unit: committed.unit,
      months: committed.months,
      users: committed.users,
      growth,
      frontier_share: committed.frontier,
      // Several changes are separate price_change parameters in the CLI; here they are one comma list.
      price_change: committed.price,
    }),
  );
  const set = (k: keyof Inputs) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const custom = !PRICE_PRESETS.some((p) => p.value === draft.price);

  return (
    <Page title="Forecast" intro="Monthly spend ahead at P50, P90 and P99, with what you expect to change as inputs.">
      <form className="filters card" aria-label="Forecast inputs" onSubmit={(e) => e.preventDefault()} data-testid="forecast-inputs">
        <ScopeSelect label="Scope" value={draft.scope} onChange={set('scope')} tiers={['org', 'team', 'project']} {...(viewerScope === null ? { emptyLabel: 'The organisation' } : {})} testId="forecast-scope" />
        <SelectField
          label="Simulated unit"
          value={draft.unit}
          onChange={(e) => set('unit')(e.target.value)}
          options={[
            { value: '', label: 'Auto (customer when tagged)' },
            { value: 'agent', label: 'Agent' },
            { value: 'project', label: 'Project' },
            { value: 'customer', label: 'Customer' },
          ]}
          testId="forecast-unit"
        />
        <SelectField
          label="Months ahead"
          value={draft.months}
          onChange={(e) => set('months')(e.target.value)}
          options={['3', '6', '12'].map((m) => ({ value: m, label: m }))}
          testId="forecast-months"
        />
        <TextField label="Active units next month" type="number" min={1} step={1} value={draft.users} onChange={(e) => set('users')(e.target.value)} placeholder="today’s" testId="forecast-users" />
        <TextField label="Growth, % per month" type="number" step={1} value={draft.growth} onChange={(e) => set('growth')(e.target.value)} placeholder="0" testId="forecast-growth" />
        <TextField
          label="Frontier share of tokens"
          type="number"
          min={0}
          max={1}
          step={0.05}
          value={draft.frontier}
          onChange={(e) => set('frontier')(e.target.value)}
          placeholder="today’s"
          hint="0 to 1, e.g. 0.15"
          testId="forecast-frontier"
        />
        <SelectField
          label="Price scenario"
          value={custom ? 'custom' : draft.price}
          onChange={(e) => set('price')(e.target.value === 'custom' ? 'anthropic:x1' : e.target.value)}
          options={[...PRICE_PRESETS, { value: 'custom', label: 'Custom…' }]}
          testId="forecast-price"
        />
        {custom && (
          <TextField
            label="Price changes"
            value={draft.price}
            onChange={(e) => set('price')(e.target.value)}
            hint="provider[:model]:x<multiplier>[@YYYY-MM-DD], comma-separated"
            testId="forecast-price-custom"
          />
        )}
      </form>
      <Async state={state} what="Computing the forecast">
        {(f) => <ForecastBody f={f} />}
      </Async>
    </Page>
  );
}

function ForecastBody({ f }: { f: Forecast }) {
  const option = useMemo<ChartOption>(() => fanOption(f), [f]);
  if (f.months.length === 0) return <Empty>Not enough history to forecast.</Empty>;
  const last = f.months[f.months.length - 1]!;
  return (
    <>
      <Section title="Spend per month">
        <Suspense fallback={<div className="chart" style={{ height: 300 }} />}>
          <Chart
            option={option}
            height={300}
            testId="forecast-chart"
            label={`Fan chart: monthly spend so far, then P50, P90 and P99 for ${f.months.length} months; ${formatMonth(last.month)}: P50 ${formatUsd(last.p50Usd)}, P90 ${formatUsd(last.p90Usd)}, P99 ${formatUsd(last.p99Usd)}`}
          />
        </Suspense>
        <p className="muted">
          Unit: {f.unit}. Fit: {f.fit.winner} — {f.fit.why}. As of {formatDateTime(f.asOf)}.
        </p>
      </Section>
      <Section title="By month">
        <div className="table-wrap">
          <table data-testid="forecast-table">
            <thead>
              <tr>
                <th scope="col">Month</th>
                <th scope="col" className="num">P50</th>
                <th scope="col" className="num">P90</th>
                <th scope="col" className="num">P99</th>
                <th scope="col" className="num">Naive</th>
                <th scope="col">Where P90 comes from</th>
              </tr>
            </thead>
            <tbody>
              {f.months.map((m) => (
                <tr key={m.month}>
                  <th scope="row">{formatMonth(m.month)}</th>
                  <td className="num">{formatUsd(m.p50Usd)}</td>
                  <td className="num">{formatUsd(m.p90Usd)}</td>
                  <td className="num">{formatUsd(m.p99Usd)}</td>
                  <td className="num">{formatUsd(m.naiveUsd)}</td>
                  <td className="muted">
                    today {formatUsd(m.p90Parts.todayUsd)} · adoption {formatUsd(m.p90Parts.adoptionUsd)} · mix {formatUsd(m.p90Parts.mixUsd)} · price {formatUsd(m.p90Parts.priceUsd)} · tail {formatUsd(m.p90Parts.tailUsd)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="muted">Naive: the pilot average × units × 1.2, the usual spreadsheet estimate, for comparison.</p>
      </Section>
      {f.budgets.length > 0 && (
        <Section title="Budgets this forecast suggests">
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Scope</th>
                  <th scope="col">Period</th>
                  <th scope="col" className="num">Alert at</th>
                  <th scope="col" className="num">Refuse at</th>
                </tr>
              </thead>
              <tbody>
                {f.budgets.map((b) => (
                  <tr key={`${b.scope}/${b.period}`}>
                    <th scope="row">{b.scope}</th>
                    <td>{b.period}</td>
                    <td className="num">{formatUsd(b.alertAtUsd)}</td>
                    <td className="num">{b.refuseAtUsd === null ? 'never refuses' : formatUsd(b.refuseAtUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      )}
    </>
  );
}

const FAN = '#e8590c';

function fanOption(f: Forecast): ChartOption {
  const months = [...f.history.map((h) => h.month), ...f.months.map((m) => m.month)];
  const h = f.history.length;
  const lastSpent = f.history[h - 1]?.spendUsd ?? null;
  const pad = (n: number) => Array<number | null>(n).fill(null);
  // The fan starts at the last month spent so that it grows out of the history line.
  const start = lastSpent === null ? [] : [usdForChart(lastSpent)];
  const zero = lastSpent === null ? [] : [0];
  const diff = (a: string, b: string) => usdForChart(nanoToUsd(usdToNano(a) - usdToNano(b)));
  const lead = pad(Math.max(h - 1, 0));
  return {
    // The bands are stacked differences; the tooltip names the quantiles themselves.
    tooltip: {
      trigger: 'axis',
      formatter: (params: unknown) => {
        const first = (Array.isArray(params) ? params[0] : params) as { dataIndex?: number } | undefined;
        const i = first?.dataIndex ?? 0;
        const spent = f.history[i];
        if (spent !== undefined) return `${formatMonth(spent.month)}<br/>spent ${formatUsd(spent.spendUsd)}`;
        const m = f.months[i - h];
        if (m === undefined) return '';
        return [formatMonth(m.month), `P50 ${formatUsd(m.p50Usd)}`, `P90 ${formatUsd(m.p90Usd)}`, `P99 ${formatUsd(m.p99Usd)}`, `naive ${formatUsd(m.naiveUsd)}`].join('<br/>');
      },
    },
    legend: { bottom: 0 },
    grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true },
    xAxis: { type: 'category', data: months.map(formatMonthShort), boundaryGap: false },
    yAxis: { type: 'value', axisLabel: { formatter: (v: number) => formatUsdAxis(v) } },
    series: [
      { name: 'Spent', type: 'line', data: [...f.history.map((x) => usdForChart(x.spendUsd)), ...pad(f.months.length)], symbolSize: 6 },
      // One hue for the fan, lighter further out; the same in light and dark.
      { name: 'P50', type: 'line', stack: 'fan', color: FAN, data: [...lead, ...start, ...f.months.map((m) => usdForChart(m.p50Usd))], lineStyle: { type: 'dashed' }, symbolSize: 4 },
      { name: 'P50–P90', type: 'line', stack: 'fan', color: FAN, data: [...lead, ...zero, ...f.months.map((m) => diff(m.p90Usd, m.p50Usd))], lineStyle: { opacity: 0 }, showSymbol: false, areaStyle: { opacity: 0.35 } },
      { name: 'P90–P99', type: 'line', stack: 'fan', color: FAN, data: [...lead, ...zero, ...f.months.map((m) => diff(m.p99Usd, m.p90Usd))], lineStyle: { opacity: 0 }, showSymbol: false, areaStyle: { opacity: 0.15 } },
      { name: 'Naive', type: 'line', color: '#868e96', data: [...lead, ...start, ...f.months.map((m) => usdForChart(m.naiveUsd))], lineStyle: { type: 'dotted' }, symbolSize: 4 },
    ],
  };
}
