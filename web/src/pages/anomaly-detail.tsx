/**
 * One anomaly: baseline against now, the models and traces behind it, its alert deliveries; the
 * admin resolves it, and revives the agent when the gateway killed it automatically.
 */
import { useState } from 'react';
import { apiPath, apiSend } from '../api/client.ts';
import type { AnomalyDetail, DataList, KillSwitch } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { Page, Section } from '../components/page.tsx';
import { Async, ErrorNotice } from '../components/status.tsx';
import { formatCount, formatUsd } from '../format/money.ts';
import { formatDateTime, isoDay } from '../format/time.ts';
import { href } from '../router.ts';
import { useSession } from '../session.tsx';

export function AnomalyDetailPage({ id }: { id: string }) {
  const { isAdmin } = useSession();
  const state = useApi<AnomalyDetail>(apiPath(`/api/anomalies/${encodeURIComponent(id)}`));
  const kills = useApi<DataList<KillSwitch>>('/api/kills');
  const [confirmRevive, setConfirmRevive] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  async function resolve() {
    setBusy(true);
    setError(null);
    try {
      await apiSend('POST', `/api/anomalies/${encodeURIComponent(id)}/resolve`);
      state.reload();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Anomaly" intro={<a href={href('anomalies')}>All anomalies</a>}>
      <ErrorNotice error={error} />
      <Async state={state} what="Loading the anomaly">
        {(a) => {
          const killed = (kills.data?.data ?? []).find((k) => k.scopePath === a.scope.path);
          const since = isoDay(Date.parse(a.since));
          return (
            <>
              <div className="card">
                <h2>
                  {a.signal.replace(/_/g, ' ')} on <a href={href('explore', { scope: a.scope.path, bucket: 'hour', from: since })}>{a.scope.path}</a>
                </h2>
                <p data-testid="anomaly-summary">{a.summary}</p>
                <dl className="facts">
                  <div>
                    <dt>State</dt>
                    <dd>
                      <span className={`badge ${a.state}`} data-testid="anomaly-state">
                        {a.state}
                      </span>
                      {a.resolved_at !== null && ` ${formatDateTime(a.resolved_at)} by ${a.resolved_by ?? 'the detector'}`}
                    </dd>
                  </div>
                  <div>
                    <dt>Since</dt>
                    <dd>{formatDateTime(a.since)}</dd>
                  </div>
                  <div>
                    <dt>Last seen</dt>
                    <dd>{formatDateTime(a.last_seen_at)}</dd>
                  </div>
                  <div>
                    <dt>At risk</dt>
                    <dd>
                      {formatUsd(a.at_risk_usd_per_hour)}/h <span className="muted">(peak {formatUsd(a.peak_usd_per_hour)}/h)</span>
                    </dd>
                  </div>
                </dl>
                {a.action === 'auto_killed' && (
                  <p className="notice notice-error" data-testid="anomaly-auto-killed">
                    The gateway tripped the kill switch of {a.scope.path} automatically.{' '}
                    {killed ? `It is still killed (${killed.reason}).` : 'It has been revived since.'}
                  </p>
                )}
                {isAdmin && (
                  <div className="actions">
                    {a.state === 'open' && (
                      <button type="button" onClick={() => void resolve()} disabled={busy} data-testid="anomaly-resolve">
                        {busy ? 'Resolving…' : 'Mark resolved'}
                      </button>
                    )}
                    {killed && (
                      <button type="button" className="primary" onClick={() => setConfirmRevive(true)} data-testid="revive-button">
                        Revive {a.scope.path}
                      </button>
                    )}
                  </div>
                )}
              </div>
              <Section title="Baseline against now">
                <ul className="plain-list">
                  {a.baseline_vs_now.map((c) => (
                    <li key={c.measure}>{c.text}</li>
                  ))}
                </ul>
              </Section>
              <div className="two">
                <Section title="Top models">
                  <ul className="plain-list">
                    {a.top_models.map((m) => (
                      <li key={m.model}>
                        <a href={href('calls', { scope: a.scope.path, model: m.model, from: since })}>{m.model}</a>: {formatUsd(m.cost_usd)} in {formatCount(m.calls)} calls
                      </li>
                    ))}
                  </ul>
                </Section>
                <Section title="Top traces">
                  <ul className="plain-list">
                    {a.top_traces.map((t) => (
                      <li key={t.trace_id}>
                        <a href={href('calls', { scope: a.scope.path, trace: t.trace_id, from: since })}>{t.trace_id}</a>: {formatUsd(t.cost_usd)} in {formatCount(t.calls)} calls
                      </li>
                    ))}
                  </ul>
                </Section>
              </div>
              {a.deliveries.length > 0 && (
                <Section title="Alerts sent">
                  <div className="table-wrap">
                    <table className="dense">
                      <thead>
                        <tr>
                          <th scope="col">When</th>
                          <th scope="col">Event</th>
                          <th scope="col">Sink</th>
                          <th scope="col">State</th>
                          <th scope="col">Attempts</th>
                        </tr>
                      </thead>
                      <tbody>
                        {a.deliveries.map((d) => (
                          <tr key={d.id}>
                            <td>{formatDateTime(d.at)}</td>
                            <td>{d.event}</td>
                            <td>{d.sink}</td>
                            <td>
                              {d.state}
                              {d.last_error !== null && <span className="muted"> ({d.last_error})</span>}
                            </td>
                            <td>{d.attempts}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </Section>
              )}
              {confirmRevive && (
                <ConfirmDialog
                  title={`Revive ${a.scope.path}?`}
                  confirmLabel={`Revive ${a.scope.path}`}
                  onClose={() => setConfirmRevive(false)}
                  onConfirm={async () => {
                    await apiSend('POST', '/api/revive', { scope: a.scope.path });
                    kills.reload();
                  }}
                >
                  <p>Calls of {a.scope.path} are admitted again at once. If the loop is still running, the detector will flag it again.</p>
                </ConfirmDialog>
              )}
            </>
          );
        }}
      </Async>
    </Page>
  );
}
