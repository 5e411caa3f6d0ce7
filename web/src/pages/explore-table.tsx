import type { SpendReport } from '../api/types.ts';
import { UsageMeter } from '../components/usage-meter.tsx';
import { formatCount, formatPct, formatUsd } from '../format/money.ts';
import type { ExploreParams } from './explore-params.ts';
import { callsHref, exploreHref } from './explore-params.ts';

/** Spend, change, share, budget use, $/outcome and tokens per request of each row; figures link to their calls. */
export function SpendTable({ report, p }: { report: SpendReport; p: ExploreParams }) {
  // Budgets and outcomes belong to scopes: rows of models or providers have neither.
  const scopes = report.groupBy !== 'model' && report.groupBy !== 'provider';
  return (
    <div className="table-wrap">
      <table data-testid="explore-table">
        <caption className="sr-only">
          Spend of {report.scope} by {report.groupBy}; each spend figure opens the calls behind it
        </caption>
        <thead>
          <tr>
            <th scope="col">{report.groupBy}</th>
            <th scope="col" className="num">Spend</th>
            <th scope="col" className="num">Change</th>
            <th scope="col" className="num">Share</th>
            {scopes && <th scope="col">Budget use</th>}
            {scopes && <th scope="col" className="num">$/outcome</th>}
            <th scope="col" className="num">Tokens/request</th>
            <th scope="col" className="num">Calls</th>
          </tr>
        </thead>
        <tbody>
          {report.rows.map((r) => {
            const id = r.path ?? r.key;
            const calls = callsHref(p, report, r, report.groupBy);
            return (
              <tr key={r.key} data-testid={`explore-row-${id}`} data-path={r.path ?? undefined}>
                <th scope="row">
                  {r.path !== null ? (
                    <a href={exploreHref(p, { scope: r.path, groupBy: '' })} data-testid={`drill-${r.path}`} aria-label={`Drill into ${r.path}`}>
                      {r.label}
                    </a>
                  ) : (
                    r.label
                  )}
                </th>
                <td className="num">
                  <a href={calls} data-testid={`calls-link-${id}`} data-spend-usd={r.spendUsd} aria-label={`${formatUsd(r.spendUsd)}: calls of ${r.label}`}>
                    {formatUsd(r.spendUsd)}
                  </a>
                </td>
                <td className={`num ${r.changePct === null ? '' : r.changePct > 0 ? 'up' : r.changePct < 0 ? 'down' : ''}`}>
                  {r.changePct === null ? <span title={`previous period ${formatUsd(r.previousSpendUsd)}`}>new</span> : formatPct(r.changePct, { signed: true })}
                </td>
                <td className="num">{formatPct(r.sharePct)}</td>
                {scopes && (
                  <td>
                    {r.budget === null ? (
                      <span className="muted">none</span>
                    ) : (
                      <span title={`${formatUsd(r.budget.spentUsd)} of ${formatUsd(r.budget.limitUsd)} per ${r.budget.period} (${r.budget.action})`}>
                        <UsageMeter pct={r.budget.usedPct} label={`Budget used, ${r.label}`} />{' '}
                        <span className="muted">
                          of {formatUsd(r.budget.limitUsd)}/{r.budget.period}
                        </span>
                      </span>
                    )}
                  </td>
                )}
                {scopes && <td className="num">{formatUsd(r.costPerOutcomeUsd)}</td>}
                <td className="num">{r.tokensPerRequest === null ? '—' : formatCount(Math.round(r.tokensPerRequest))}</td>
                <td className="num">
                  <a href={calls} aria-label={`${formatCount(r.calls)} calls of ${r.label}`}>
                    {formatCount(r.calls)}
                  </a>
                  {r.errors > 0 && <span className="muted"> ({formatCount(r.errors)} failed)</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td className="num">
              <a href={callsHref(p, report)}>{formatUsd(report.totalUsd)}</a>
            </td>
            <td className="num" colSpan={scopes ? 6 : 4}>
              <span className="muted">previous period {formatUsd(report.previousTotalUsd)}</span>
            </td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
