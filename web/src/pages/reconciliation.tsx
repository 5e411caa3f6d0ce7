/**
 * Reconciliation (admin): the providers' own usage and cost reports against the ledger, per day,
 * provider and model — spend that bypassed the gateway, price drift, token mismatches.
 */
import { useState } from 'react';
import { apiPath } from '../api/client.ts';
import type { Reconcile } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { MonthField } from '../components/month-field.tsx';
import { Page, Section } from '../components/page.tsx';
import { Async, Empty } from '../components/status.tsx';
import { compareUsd, formatCount, formatPct, formatUsd, nanoToUsd, usdToNano } from '../format/money.ts';
import { formatMonth, isoMonth, monthRange } from '../format/time.ts';
import type { Route } from '../router.ts';
import { href, paramsObject } from '../router.ts';

export function ReconciliationPage({ route }: { route: Route }) {
  const month = route.params.get('month') ?? isoMonth(Date.now());
  const state = useApi<Reconcile>(apiPath('/api/reconcile', monthRange(month)));
  return (
    <Page title="Reconciliation" intro={`What the providers billed in ${formatMonth(month)} against what the gateway recorded.`}>
      <div className="filters card">
        <MonthField
          value={month}
          onChange={(m) => {
            window.location.hash = href('reconciliation', { ...paramsObject(route.params), month: m }).slice(1);
          }}
          testId="reconcile-month"
        />
      </div>
      <Async state={state} what="Reconciling">
        {(r) => <ReconcileBody r={r} />}
      </Async>
    </Page>
  );
}

function ReconcileBody({ r }: { r: Reconcile }) {
  const [problemsOnly, setProblemsOnly] = useState(true);
  const t = r.totals;
  const unreported = nanoToUsd(t.unreported_days.reduce((s, d) => s + usdToNano(d.cost_usd), 0n));
  if (r.lines.length === 0) {
    return (
      <Empty>
        No provider report imported for this period{t.unreported_days.length > 0 ? ` (the ledger has ${formatUsd(unreported)} on ${t.unreported_days.length} provider-days to compare)` : ''}. Import one with{' '}
        <code>tollgate import usage --provider openai|anthropic &lt;file&gt;</code>.
      </Empty>
    );
  }
  const lines = problemsOnly ? r.lines.filter((l) => l.verdict !== 'ok') : r.lines;
  return (
    <>
      <div className="kpis">
        <div className="card kpi">
          <h2>Billed by the providers</h2>
          <p className="big">{formatUsd(t.billed_usd)}</p>
        </div>
        <div className="card kpi">
          <h2>Seen by the gateway</h2>
          <p className="big">{formatUsd(t.seen_on_billed_days_usd)}</p>
          <p className="muted">on the billed days</p>
        </div>
        <div className="card kpi" data-testid="reconcile-coverage">
          <h2>Coverage</h2>
          <p className="big">{formatPct(t.coverage_pct)}</p>
        </div>
        <div className="card kpi">
          <h2>Bypass</h2>
          <p className={`big ${compareUsd(t.bypass_usd, '0') > 0 ? 'bad' : ''}`}>{formatUsd(t.bypass_usd)}</p>
          <p className="muted">billed via keys or projects that are not the gateway’s</p>
        </div>
      </div>
      {r.bypass_undetectable.length > 0 && (
        <p className="notice">
          reconcile.{r.bypass_undetectable.join(', reconcile.')} in tollgate.yaml names no gateway keys or projects, so bypass cannot be told apart from the gateway’s own traffic.
        </p>
      )}
      {t.unreported_days.length > 0 && (
        <p className="muted">
          {t.unreported_days.length} provider-days with {formatUsd(unreported)} in the ledger have no imported report and were not compared.
        </p>
      )}
      <Section title={`Findings (${r.findings.length})`}>
        {r.findings.length === 0 ? (
          <Empty>Every line agrees within {formatPct(r.tolerance_pct)}.</Empty>
        ) : (
          <div className="table-wrap">
            <table data-testid="reconcile-findings">
              <thead>
                <tr>
                  <th scope="col" className="num">Impact</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Finding</th>
                </tr>
              </thead>
              <tbody>
                {r.findings.map((f) => (
                  <tr key={f.key}>
                    <td className="num">{formatUsd(f.impact_usd)}</td>
                    <td>{typeof f.evidence['kind'] === 'string' ? f.evidence['kind'].replace(/_/g, ' ') : '—'}</td>
                    <td>
                      <strong>{f.title}</strong>
                      <div className="muted">{f.summary}</div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Per day, provider and model">
        <div className="field inline">
          <input id="reconcile-problems" type="checkbox" checked={problemsOnly} onChange={(e) => setProblemsOnly(e.target.checked)} />
          <label htmlFor="reconcile-problems">Only lines that disagree</label>
        </div>
        <div className="table-wrap">
          <table className="dense" data-testid="reconcile-lines">
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Provider</th>
                <th scope="col">Model</th>
                <th scope="col">Verdict</th>
                <th scope="col" className="num">Billed</th>
                <th scope="col" className="num">Seen</th>
                <th scope="col" className="num">Calls</th>
              </tr>
            </thead>
            <tbody>
              {lines.map((l) => (
                <tr key={`${l.day}/${l.provider}/${l.model}`}>
                  <td>{l.day}</td>
                  <td>{l.provider}</td>
                  <td>{l.model}</td>
                  <td>
                    <span className={`badge ${l.verdict === 'ok' ? 'ok' : 'warning'}`}>{l.verdict.replace(/_/g, ' ')}</span>
                  </td>
                  <td className="num">{formatUsd(l.billed_usd)}</td>
                  <td className="num">{formatUsd(l.seen_usd)}</td>
                  <td className="num">{formatCount(l.seen_calls)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      {r.bypasses.length > 0 && (
        <Section title="Bypass: billed outside the gateway">
          <div className="table-wrap">
            <table className="dense" data-testid="reconcile-bypasses">
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Model</th>
                  <th scope="col">Via</th>
                  <th scope="col" className="num">Requests</th>
                  <th scope="col" className="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                {r.bypasses.map((b) => (
                  <tr key={`${b.day}/${b.provider}/${b.model}/${b.id}`}>
                    <td>{b.day}</td>
                    <td>{b.provider}</td>
                    <td>{b.model}</td>
                    <td>
                      {b.via} <code>{b.id}</code>
                    </td>
                    <td className="num">{formatCount(b.requests)}</td>
                    <td className="num">
                      {formatUsd(b.cost_usd)}
                      {b.cost_estimated && <span className="muted"> est.</span>}
                    </td>
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
