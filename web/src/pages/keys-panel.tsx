/**
 * Virtual keys: one per agent (makes model calls) or a viewer key (reads one subtree here). A new
 * key's secret is shown once; the gateway keeps only its hash.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { apiPath, apiSend } from '../api/client.ts';
import { forgetScopes, useScopes } from '../api/scopes.ts';
import type { DataList, KeyInfo } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { PathText } from '../components/path-text.tsx';
import { SelectField, TextField } from '../components/field.tsx';
import { Section } from '../components/page.tsx';
import { Async, Empty, ErrorNotice } from '../components/status.tsx';
import { formatDateTime } from '../format/time.ts';
import { useSession } from '../session.tsx';

type Created = KeyInfo & { key: string };

export function KeysPanel({ onChange }: { onChange: () => void }) {
  const { isAdmin } = useSession();
  const [showAll, setShowAll] = useState(false);
  const keys = useApi<DataList<KeyInfo>>(apiPath('/api/keys', { all: showAll ? 1 : undefined }));
  const [created, setCreated] = useState<Created | null>(null);
  const [revoking, setRevoking] = useState<KeyInfo | null>(null);
  const [actionError, setActionError] = useState<Error | null>(null);

  async function act(k: KeyInfo, action: 'suspend' | 'resume') {
    setActionError(null);
    try {
      await apiSend('POST', `/api/keys/${encodeURIComponent(k.id)}/${action}`);
      keys.reload();
      onChange();
    } catch (err) {
      setActionError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  return (
    <Section title="Keys" id="keys">
      {isAdmin && (
        <CreateKey
          onCreated={(k) => {
            setCreated(k);
            keys.reload();
            onChange();
          }}
        />
      )}
      {created !== null && (
        <div className="notice secret" role="status" data-testid="key-created">
          <p>
            <strong>
              New {created.kind} key {created.display} for {created.scopePath}.
            </strong>{' '}
            Copy it now: it is shown only this once.
          </p>
          <p className="secret-row">
            <code data-testid="key-secret">{created.key}</code> <CopyButton text={created.key} label="Copy key" testId="key-copy" />
          </p>
          <button type="button" onClick={() => setCreated(null)}>
            I have stored it
          </button>
        </div>
      )}
      <div className="field inline">
        <input id="keys-all" type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} />
        <label htmlFor="keys-all">Show revoked and expired keys</label>
      </div>
      <ErrorNotice error={actionError} />
      <Async state={keys} what="Loading keys">
        {(r) =>
          r.data.length === 0 ? (
            <Empty>No keys.</Empty>
          ) : (
            <div className="table-wrap">
              <table data-testid="keys-table">
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Scope</th>
                    <th scope="col">State</th>
                    {isAdmin && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {r.data.map((k) => (
                    <tr key={k.id} data-testid={`key-row-${k.id}`}>
                      <th scope="row">
                        <code>{k.display}</code>
                        <div className="muted small">
                          {k.kind} key{k.name !== '' && ` · ${k.name}`}
                        </div>
                      </th>
                      <td>
                        <PathText path={k.scopePath} />
                      </td>
                      <td>
                        <span className={`badge ${k.expired === true ? 'revoked' : k.state}`}>{k.expired === true ? 'expired' : k.state}</span>
                        <div className="muted small">
                          created {formatDateTime(k.createdAt)}
                          {k.expiresAt !== null && `, expires ${formatDateTime(k.expiresAt)}`}
                        </div>
                      </td>
                      {isAdmin && (
                        <td className="action">
                          {k.state === 'active' && (
                            <button type="button" onClick={() => void act(k, 'suspend')} data-testid={`key-suspend-${k.id}`} aria-label={`Suspend ${k.display}`}>
                              Suspend
                            </button>
                          )}
                          {k.state === 'suspended' && (
                            <button type="button" onClick={() => void act(k, 'resume')} data-testid={`key-resume-${k.id}`} aria-label={`Resume ${k.display}`}>
                              Resume
                            </button>
                          )}
                          {k.state !== 'revoked' && (
                            <button type="button" className="danger" onClick={() => setRevoking(k)} data-testid={`key-revoke-${k.id}`} aria-label={`Revoke ${k.display}`}>
                              Revoke…
                            </button>
                          )}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
      {revoking !== null && (
        <ConfirmDialog
          title={`Revoke ${revoking.display}?`}
          confirmLabel="Revoke the key"
          danger
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await apiSend('POST', `/api/keys/${encodeURIComponent(revoking.id)}/revoke`);
            keys.reload();
            onChange();
          }}
        >
          <p>
            {revoking.kind === 'viewer' ? 'Its dashboard sessions end' : 'Calls with it are refused'} from now on, for good. {revoking.scopePath} keeps its other keys.
          </p>
        </ConfirmDialog>
      )}
    </Section>
  );
}

function CreateKey({ onCreated }: { onCreated: (k: Created) => void }) {
  const { scopes } = useScopes();
  const [kind, setKind] = useState<'agent' | 'viewer'>('agent');
  const [scope, setScope] = useState('');
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const offered = (scopes ?? []).filter((s) => (kind === 'agent' ? s.tier === 'agent' : true));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const k = await apiSend<Created>('POST', '/api/keys', { scope: scope.trim(), kind, ...(name.trim() ? { name: name.trim() } : {}), ...(expires.trim() ? { expires: expires.trim() } : {}) });
      forgetScopes();
      setName('');
      onCreated(k);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="filters" onSubmit={(e) => void submit(e)} aria-label="Create a key" data-testid="key-create-form">
      <SelectField
        label="Kind"
        value={kind}
        onChange={(e) => setKind(e.target.value === 'viewer' ? 'viewer' : 'agent')}
        options={[
          { value: 'agent', label: 'Agent key (model calls)' },
          { value: 'viewer', label: 'Viewer key (reads a subtree)' },
        ]}
        testId="key-kind"
      />
      <TextField
        label={kind === 'agent' ? 'Agent (org/team/project/agent)' : 'Scope it may read'}
        value={scope}
        onChange={(e) => setScope(e.target.value)}
        list="key-scopes"
        required
        placeholder={kind === 'agent' ? 'acme/support/helpdesk/triage-bot' : 'acme/support'}
        testId="key-scope"
      />
      <datalist id="key-scopes">
        {offered.map((s) => (
          <option key={s.id} value={s.path} />
        ))}
      </datalist>
      <TextField label="Name (optional)" value={name} onChange={(e) => setName(e.target.value)} testId="key-name" />
      <TextField label="Expires (optional)" value={expires} onChange={(e) => setExpires(e.target.value)} placeholder="90d or 2026-12-31" testId="key-expires" />
      <div className="field field-button">
        <button type="submit" className="primary" disabled={busy} data-testid="key-create-submit">
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </div>
      <ErrorNotice error={error} />
    </form>
  );
}
