/** Showback: each team's (or project's) line for a month, as finance reads it, with CSV and FOCUS downloads. */
import { apiPath } from '../api/client.ts';
import type { Showback } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { DownloadLink, FocusLink } from '../components/downloads.tsx';
import { MonthField } from '../components/month-field.tsx';
import { Page } from '../components/page.tsx';
import { ScopeSelect } from '../components/scope-select.tsx';
import { Async, Empty } from '../components/status.tsx';
import { UsageMeter } from '../components/usage-meter.tsx';
import { formatCount, formatPct, formatUsd, formatUsdChange } from '../format/money.ts';
import { formatMonth, isoMonth, monthRange } from '../format/time.ts';
import type { Route } from '../router.ts';
import { href, paramsObject } from '../router.ts';
import { useSession } from '../session.tsx';

export function ShowbackPage({ route }: { route: Route }) {
  const { viewerScope } = useSession();
  const month = route.params.get('month') ?? isoMonth(Date.now());
  const scope = route.params.get('scope') ?? viewerScope ?? '';
  const go = (change: Record<string, string>) => {
    window.location.hash = href('showback', { ...paramsObject(route.params), ...change }).slice(1);
  };
  const state = useApi<Showback>(apiPath('/api/reports/showback', { month, scope }));
  const range = monthRange(month);
  const shownScope = state.data?.scope ?? scope;
  return (
    <Page
      title="Showback"
      intro={`What each ${state.data?.level ?? 'team'} spent in ${formatMonth(month)}, against its budget and the month before.`}
      actions={
        <>
          <DownloadLink path="/api/reports/showback" params={{ month, scope: scope || undefined, format: 'csv' }} testId="showback-csv">
            CSV
          </DownloadLink>
          <FocusLink from={range.from} to={range.to} {...(shownScope ? { scope: shownScope } : {})} />
        </>
      }
    >
      <div className="filters card">
        <MonthField value={month} onChange={(m) => go({ month: m })} testId="showback-month" />
        <ScopeSelect label="Scope" value={scope} onChange={(s) => go({ scope: s })} tiers={['org', 'team']} {...(viewerScope === null ? { emptyLabel: 'The organisation' } : {})} testId="showback-scope" />
      </div>
      <Async state={state} what="Loading showback">
        {(r) => <ShowbackTable r={r} />}
      </Async>
    </Page>
  );
}

function ShowbackTable({ r }: { r: Showback }) {
  if (r.lines.length === 0) return <Empty>No spend in {formatMonth(r.month)}.</Empty>;
  return (
    <div className="card">
      <p className="summary">
        {r.scope}: <strong>{formatUsd(r.total.spend_usd)}</strong> in {formatMonth(r.month)}, {formatUsdChange(r.total.change_usd)} ({formatPct(r.total.change_pct, { signed: true })}) on {formatMonth(r.previous_month)}
        {r.total.outcomes?.cost_per_outcome_usd != null && <> · {formatUsd(r.total.outcomes.cost_per_outcome_usd)} per outcome</>}
        <span className="muted"> · {r.basis}</span>
      </p>
      <div className="table-wrap">
        <table data-testid="showback-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{r.level}</th>
              <th scope="col" className="num">Spend</th>
              <th scope="col" className="num">vs {formatMonth(r.previous_month)}</th>
              <th scope="col" className="num">Share</th>
              <th scope="col">Budget used</th>
              <th scope="col" className="num">Outcomes</th>
              <th scope="col" className="num">$/outcome</th>
              <th scope="col">Top models</th>
            </tr>
          </thead>
          <tbody>
            {r.lines.map((l) => {
              const path = typeof l[r.level] === 'string' ? (l[r.level] as string) : l.name;
              return (
                <tr key={path} data-testid={`showback-row-${path}`}>
                  <td>{l.rank}</td>
                  <th scope="row">
                    <a href={href('explore', { scope: path, ...monthRange(r.month) })}>{path}</a>
                    {l.archived && <span className="muted"> (archived)</span>}
                  </th>
                  <td className="num">{formatUsd(l.spend_usd)}</td>
                  <td className="num">
                    {formatUsdChange(l.change_usd)} <span className="muted">({formatPct(l.change_pct, { signed: true })})</span>
                    <div className="muted">from {formatUsd(l.previous_usd)}</div>
                  </td>
                  <td className="num">{formatPct(l.share_pct)}</td>
                  <td>
                    {l.budget === null ? (
                      <span className="muted">none</span>
                    ) : (
                      <>
                        <UsageMeter pct={l.budget.used_pct} label={`Budget used, ${path}`} />
                        <div className="muted">
                          of {formatUsd(l.budget.amount_usd)} ({l.budget.action})
                        </div>
                      </>
                    )}
                  </td>
                  <td className="num">{l.outcomes === null ? '—' : formatCount(l.outcomes.count)}</td>
                  <td className="num">{formatUsd(l.outcomes?.cost_per_outcome_usd)}</td>
                  <td className="small">
                    {l.top_models.slice(0, 2).map((m) => (
                      <div key={m.name}>
                        {m.name} <span className="muted">{formatPct(m.share_pct)}</span>
                      </div>
                    ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
          <tfoot>
            <tr>
              <td />
              <th scope="row">Total</th>
              <td className="num">{formatUsd(r.total.spend_usd)}</td>
              <td className="num">
                {formatUsdChange(r.total.change_usd)}
                <div className="muted">from {formatUsd(r.total.previous_usd)}</div>
              </td>
              <td className="num">100%</td>
              <td>{r.total.budget === null ? '—' : <UsageMeter pct={r.total.budget.used_pct} label="Budget used, total" />}</td>
              <td className="num">{r.total.outcomes === null ? '—' : formatCount(r.total.outcomes.count)}</td>
              <td className="num">{formatUsd(r.total.outcomes?.cost_per_outcome_usd)}</td>
              <td>{r.total.unpriced_calls > 0 ? `${formatCount(r.total.unpriced_calls)} unpriced calls` : ''}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </div>
  );
}
