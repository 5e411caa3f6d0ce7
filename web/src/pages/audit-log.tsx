import { useEffect, useState } from 'react';
import { apiPath } from '../api/client.ts';
import type { AuditEntry, DataList } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { TextField } from '../components/field.tsx';
import { Section } from '../components/page.tsx';
import { Async, Empty } from '../components/status.tsx';
import { formatDateTime } from '../format/time.ts';

/** Every administrative change, newest first (admin only). `changes` bumps when this page changed something. */
export function AuditLog({ changes }: { changes: number }) {
  const [target, setTarget] = useState('');
  const [applied, setApplied] = useState('');
  const [limit, setLimit] = useState(25);
  const log = useApi<DataList<AuditEntry>>(apiPath('/api/audit', { limit, target: applied }));
  const { reload } = log;
  useEffect(() => {
    if (changes > 0) reload();
  }, [changes, reload]);
  return (
    <Section title="Audit log" id="audit">
      <form
        className="filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(target.trim());
        }}
      >
        <TextField label="Target" value={target} onChange={(e) => setTarget(e.target.value)} placeholder="a scope path or key id" testId="audit-target" />
        <div className="field field-button">
          <button type="submit">Filter</button>
        </div>
      </form>
      <Async state={log} what="Loading the audit log">
        {(r) =>
          r.data.length === 0 ? (
            <Empty>No changes recorded{applied ? ` for ${applied}` : ''}.</Empty>
          ) : (
            <div className="table-wrap">
              <table data-testid="audit-table" className="dense">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">What</th>
                    <th scope="col">Target</th>
                    <th scope="col">Change</th>
                  </tr>
                </thead>
                <tbody>
                  {r.data.map((a) => (
                    <tr key={String(a.id)}>
                      <td>{formatDateTime(a.at)}</td>
                      <td>{a.actor}</td>
                      <td>{a.action}</td>
                      <td>{a.target}</td>
                      <td>
                        {a.before == null && a.after == null ? (
                          '—'
                        ) : (
                          <details>
                            <summary>before / after</summary>
                            <pre>{`before: ${show(a.before)}\nafter:  ${show(a.after)}`}</pre>
                          </details>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {r.data.length >= limit && limit < 1000 && (
                <button type="button" onClick={() => setLimit((n) => Math.min(n * 4, 1000))} data-testid="audit-more">
                  Show more
                </button>
              )}
            </div>
          )
        }
      </Async>
    </Section>
  );
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') {
    try {
      return JSON.stringify(JSON.parse(v), null, 1);
    } catch {
      return v;
    }
  }
  return JSON.stringify(v, null, 1);
}
