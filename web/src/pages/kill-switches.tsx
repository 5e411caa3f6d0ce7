/**
 * The kill switch of every scope: trip it (with a reason, after a confirmation) and every call of
 * the scope and its subtree is refused at once, on every replica; revive lifts it.
 */
import { useId, useState } from 'react';
import { apiSend } from '../api/client.ts';
import { useScopes } from '../api/scopes.ts';
import type { DataList, KillSwitch } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { PathText } from '../components/path-text.tsx';
import { Section } from '../components/page.tsx';
import { Async, ErrorNotice } from '../components/status.tsx';
import { formatDateTime } from '../format/time.ts';
import { useSession } from '../session.tsx';

type Pending = { kind: 'kill' | 'revive'; scope: string } | null;

export function KillSwitches({ onChange }: { onChange: () => void }) {
  const { isAdmin } = useSession();
  const kills = useApi<DataList<KillSwitch>>('/api/kills');
  const { scopes, error } = useScopes();
  const [filter, setFilter] = useState('');
  const [pending, setPending] = useState<Pending>(null);
  const filterId = useId();

  const killed = new Map((kills.data?.data ?? []).map((k) => [k.scopePath, k]));
  // Scopes killed above: their subtree is stopped too, though it has no switch of its own.
  const stoppedBy = (path: string) => [...killed.keys()].find((k) => path !== k && path.startsWith(`${k}/`));
  const rows = (scopes ?? []).filter((s) => filter === '' || s.path.includes(filter.trim()));
  const shown = rows.slice(0, 200);

  return (
    <Section title="Kill switches" id="kill-switches">
      <div className="field inline">
        <label htmlFor={filterId}>Find a scope</label>
        <input id={filterId} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="acme/support" data-testid="kill-filter" />
      </div>
      <ErrorNotice error={error} />
      <Async state={kills} what="Loading kill switches">
        {() => (
          <div className="table-wrap">
            <table data-testid="kill-table">
              <thead>
                <tr>
                  <th scope="col">Scope and state</th>
                  {isAdmin && <th scope="col">Action</th>}
                </tr>
              </thead>
              <tbody>
                {shown.map((s) => {
                  const k = killed.get(s.path);
                  const above = k === undefined ? stoppedBy(s.path) : undefined;
                  return (
                    <tr key={s.id} data-testid={`kill-row-${s.path}`} className={k ? 'killed' : undefined}>
                      <th scope="row">
                        <PathText path={s.path} /> <span className="muted">({s.tier})</span>
                        <div className="state" data-testid={`kill-state-${s.path}`}>
                          {k ? (
                            <>
                              <strong className="bad">Killed</strong> {formatDateTime(k.killedAt ?? k.at)} by {k.actor}
                              {k.reason !== '' && <>: “{k.reason}”</>}
                            </>
                          ) : above !== undefined ? (
                            <span className="bad">Stopped by the kill switch of {above}</span>
                          ) : (
                            <span className="muted">Live</span>
                          )}
                        </div>
                      </th>
                      {isAdmin && (
                        <td className="action">
                          {k ? (
                            <button type="button" onClick={() => setPending({ kind: 'revive', scope: s.path })} data-testid={`revive-${s.path}`}>
                              Revive
                            </button>
                          ) : (
                            <button type="button" className="danger" onClick={() => setPending({ kind: 'kill', scope: s.path })} data-testid={`kill-${s.path}`} aria-label={`Kill switch for ${s.path}`}>
                              Kill…
                            </button>
                          )}
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {rows.length > shown.length && <p className="muted">{rows.length - shown.length} more scopes: narrow the search.</p>}
          </div>
        )}
      </Async>
      {pending !== null && (
        <KillDialog
          pending={pending}
          onClose={() => setPending(null)}
          onDone={() => {
            kills.reload();
            onChange();
          }}
        />
      )}
    </Section>
  );
}

function KillDialog({ pending, onClose, onDone }: { pending: NonNullable<Pending>; onClose: () => void; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const id = useId();
  if (pending.kind === 'revive') {
    return (
      <ConfirmDialog
        title={`Revive ${pending.scope}?`}
        confirmLabel={`Revive ${pending.scope}`}
        onClose={onClose}
        onConfirm={async () => {
          await apiSend('POST', '/api/revive', { scope: pending.scope });
          onDone();
        }}
      >
        <p>Calls of {pending.scope} and its subtree are admitted again at once (budgets still apply).</p>
      </ConfirmDialog>
    );
  }
  return (
    <ConfirmDialog
      title={`Kill ${pending.scope}?`}
      confirmLabel={`Kill ${pending.scope}`}
      danger
      canConfirm={reason.trim() !== ''}
      onClose={onClose}
      onConfirm={async () => {
        await apiSend('POST', '/api/kill', { scope: pending.scope, reason: reason.trim() });
        onDone();
      }}
    >
      <p>Every call of {pending.scope} and everything under it is refused at once, on every replica; streams in flight are cut.</p>
      <div className="field">
        <label htmlFor={id}>Reason (recorded in the audit log)</label>
        <textarea id={id} value={reason} onChange={(e) => setReason(e.target.value)} rows={3} required data-testid="kill-reason" />
      </div>
    </ConfirmDialog>
  );
}
