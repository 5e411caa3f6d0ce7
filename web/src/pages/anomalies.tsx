/** Anomalies: what the gateway flagged (open or resolved), each with its evidence. */
import { apiPath } from '../api/client.ts';
import type { Anomaly, DataList } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { Page } from '../components/page.tsx';
import { Async, Empty } from '../components/status.tsx';
import { formatUsd } from '../format/money.ts';
import { formatDateTime } from '../format/time.ts';
import type { Route } from '../router.ts';
import { href } from '../router.ts';
import { AnomalyDetailPage } from './anomaly-detail.tsx';

const STATES = [
  { id: 'open', label: 'Open', open: 1 },
  { id: 'resolved', label: 'Resolved', open: 0 },
  { id: 'all', label: 'All', open: undefined },
] as const;

export function AnomaliesPage({ route }: { route: Route }) {
  const id = route.segments[1];
  if (id !== undefined) return <AnomalyDetailPage id={id} />;
  const stateId = route.params.get('state') ?? 'open';
  const current = STATES.find((s) => s.id === stateId) ?? STATES[0];
  const list = useApi<DataList<Anomaly>>(apiPath('/api/anomalies', { open: current.open, limit: 200 }));
  return (
    <Page title="Anomalies" intro="Spend spikes, runaway loops and prompt bloat the gateway caught, with the evidence.">
      <nav aria-label="Anomaly state" className="tabs">
        <ul>
          {STATES.map((s) => (
            <li key={s.id}>
              <a href={href('anomalies', { state: s.id === 'open' ? '' : s.id })} aria-current={s.id === current.id ? 'page' : undefined} data-testid={`anomalies-${s.id}`}>
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <Async state={list} what="Loading anomalies">
        {(r) =>
          r.data.length === 0 ? (
            <Empty>{current.id === 'open' ? 'No open anomalies.' : 'None.'}</Empty>
          ) : (
            <div className="table-wrap card">
              <table data-testid="anomalies-table">
                <thead>
                  <tr>
                    <th scope="col">Opened</th>
                    <th scope="col">Scope</th>
                    <th scope="col">Signal</th>
                    <th scope="col">What</th>
                    <th scope="col" className="num">At risk</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {r.data.map((a) => (
                    <tr key={a.id} data-testid={`anomaly-row-${a.id}`}>
                      <td>
                        <a href={href(`anomalies/${encodeURIComponent(a.id)}`)} aria-label={`Anomaly ${a.signal.replace(/_/g, ' ')} on ${a.scope.path}, opened ${formatDateTime(a.opened_at)}`}>
                          {formatDateTime(a.opened_at)}
                        </a>
                      </td>
                      <td>{a.scope.path}</td>
                      <td>{a.signal.replace(/_/g, ' ')}</td>
                      <td>{a.summary}</td>
                      <td className="num">{formatUsd(a.at_risk_usd_per_hour)}/h</td>
                      <td>
                        <span className={`badge ${a.state}`}>{a.state}</span>
                        {a.action === 'auto_killed' && <span className="badge bad">auto-killed</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </Page>
  );
}
