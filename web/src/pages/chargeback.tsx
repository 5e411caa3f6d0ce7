/**
 * Chargeback: a team's statement for a month (opening balance, debits per project, agent and line
 * item, credits, closing balance), with the statement as CSV and the month's FOCUS export.
 */
import { apiPath } from '../api/client.ts';
import { useScopes } from '../api/scopes.ts';
import type { Chargeback } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { FocusLink } from '../components/downloads.tsx';
import { MonthField } from '../components/month-field.tsx';
import { Page, Section } from '../components/page.tsx';
import { ScopeSelect } from '../components/scope-select.tsx';
import { Async, Empty } from '../components/status.tsx';
import { formatCount, formatUsd, formatUsdExact } from '../format/money.ts';
import { addMonths, formatMonth, isoMonth, monthRange } from '../format/time.ts';
import type { Route } from '../router.ts';
import { href, paramsObject } from '../router.ts';
import { useSession } from '../session.tsx';

export function ChargebackPage({ route }: { route: Route }) {
  const { viewerScope } = useSession();
  const { scopes } = useScopes();
  // Statements are for closed months: last month unless asked.
  const month = route.params.get('month') ?? addMonths(isoMonth(Date.now()), -1);
  const firstTeam = (scopes ?? []).find((s) => s.tier === 'team' && (viewerScope === null || s.path === viewerScope || s.path.startsWith(`${viewerScope}/`)))?.path ?? '';
  const team = route.params.get('team') ?? firstTeam;
  const go = (change: Record<string, string>) => {
    window.location.hash = href('chargeback', { ...paramsObject(route.params), ...change }).slice(1);
  };
  const state = useApi<Chargeback>(team === '' ? null : apiPath('/api/reports/chargeback', { team, scope: team, month }));
  const range = monthRange(month);
  return (
    <Page
      title="Chargeback"
      intro={`What ${team || 'a team'} is charged for ${formatMonth(month)}, line by line.`}
      actions={
        <>
          <button type="button" disabled={state.data === undefined} onClick={() => state.data && downloadCsv(state.data)} data-testid="chargeback-csv">
            CSV
          </button>
          {team !== '' && <FocusLink from={range.from} to={range.to} scope={team} />}
        </>
      }
    >
      <div className="filters card">
        <MonthField value={month} onChange={(m) => go({ month: m })} testId="chargeback-month" />
        <ScopeSelect label="Team" value={team} onChange={(t) => go({ team: t })} tiers={['team']} testId="chargeback-team" />
      </div>
      {team === '' ? <Empty>Pick a team.</Empty> : <Async state={state} what="Loading the statement">{(s) => <Statement s={s} />}</Async>}
    </Page>
  );
}

function Statement({ s }: { s: Chargeback }) {
  return (
    <>
      <div className="kpis">
        <div className="card kpi">
          <h2>Opening balance</h2>
          <p className="big">{s.opening_balance_usd === null ? '—' : formatUsd(s.opening_balance_usd)}</p>
        </div>
        <div className="card kpi">
          <h2>Debits</h2>
          <p className="big" data-testid="chargeback-debits" data-spend-usd={s.debits_usd}>
            {formatUsd(s.debits_usd)}
          </p>
          <p className="muted">{formatCount(s.calls)} calls · list {formatUsd(s.list_usd)}</p>
        </div>
        <div className="card kpi">
          <h2>Credits</h2>
          <p className="big">{formatUsd(s.credits_usd)}</p>
        </div>
        <div className="card kpi">
          <h2>Closing balance</h2>
          <p className="big">{s.closing_balance_usd === null ? '—' : formatUsd(s.closing_balance_usd)}</p>
        </div>
      </div>
      <Section title="Debits by project and agent">
        {s.projects.length === 0 ? (
          <Empty>No calls in {formatMonth(s.period)}.</Empty>
        ) : (
          <div className="table-wrap">
            <table data-testid="chargeback-table">
              <thead>
                <tr>
                  <th scope="col">Project / agent</th>
                  <th scope="col" className="num">Calls</th>
                  <th scope="col" className="num">Debit</th>
                  <th scope="col">Line items</th>
                </tr>
              </thead>
              {s.projects.map((p) => (
                <tbody key={p.project}>
                  <tr className="group">
                    <th scope="row">
                      <a href={href('explore', { scope: p.project, from: s.from.slice(0, 10), to: s.to.slice(0, 10) })}>{p.project}</a>
                    </th>
                    <td />
                    <td className="num">{formatUsd(p.debit_usd)}</td>
                    <td />
                  </tr>
                  {p.agents.map((a) => (
                    <tr key={a.agent}>
                      <th scope="row" className="indent">
                        {a.agent.split('/').pop()}
                      </th>
                      <td className="num">{formatCount(a.calls)}</td>
                      <td className="num">
                        <a href={href('calls', { scope: a.agent, from: s.from.slice(0, 10), to: s.to.slice(0, 10) })}>{formatUsd(a.debit_usd)}</a>
                      </td>
                      <td>
                        {a.items && a.items.length > 0 && (
                          <details>
                            <summary>{a.items.length} items</summary>
                            <table className="dense">
                              <thead>
                                <tr>
                                  <th scope="col">Model</th>
                                  <th scope="col">Tokens</th>
                                  <th scope="col" className="num">Quantity</th>
                                  <th scope="col" className="num">Debit</th>
                                </tr>
                              </thead>
                              <tbody>
                                {a.items.map((i) => (
                                  <tr key={`${i.provider}/${i.model}/${i.token_type}`}>
                                    <td>
                                      {i.provider}/{i.model}
                                    </td>
                                    <td>{i.token_type.replace(/_/g, ' ')}</td>
                                    <td className="num">{formatCount(i.quantity)}</td>
                                    <td className="num" title={formatUsdExact(i.debit_usd)}>
                                      {formatUsd(i.debit_usd)}
                                    </td>
                                  </tr>
                                ))}
                              </tbody>
                            </table>
                          </details>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              ))}
            </table>
          </div>
        )}
      </Section>
      {s.adjustments !== undefined && s.adjustments.length > 0 && (
        <Section title="Adjustments">
          <ul className="plain-list">
            {s.adjustments.map((a, i) => (
              <li key={i}>
                {a.kind} {formatUsd(a.amount_usd)}: {a.reason}
              </li>
            ))}
          </ul>
        </Section>
      )}
    </>
  );
}

/** The statement's line items as CSV, amounts exactly as the API gave them (a spreadsheet's sum is the debit). */
function downloadCsv(s: Chargeback): void {
  const head = ['team', 'month', 'project', 'agent', 'provider', 'model', 'token_type', 'quantity', 'list_usd', 'debit_usd'];
  const rows = s.projects.flatMap((p) => p.agents.flatMap((a) => (a.items ?? []).map((i) => [s.team, s.period, p.project, a.agent, i.provider, i.model, i.token_type, i.quantity, i.list_usd, i.debit_usd])));
  const text = [head, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `chargeback-${s.team.replace(/\//g, '_')}-${s.period}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

