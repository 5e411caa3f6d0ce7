import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import type { Principal } from '../api/types.ts';
import { ErrorNotice } from '../components/status.tsx';
import { signIn } from '../session.tsx';

/**
 * Sign-in with a key: the admin key (everything) or a viewer key `tgv-…` (one subtree, read only).
 * The key goes to the gateway once and comes back as an HttpOnly session cookie; the page keeps no copy.
 */
export function SignInPage({ onSignedIn, notice }: { onSignedIn: (p: Principal) => void; notice: string | null }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  useEffect(() => {
    document.title = 'Sign in · Tollgate';
    input.current?.focus();
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (key.trim() === '') {
      setError(new Error('Paste the admin key or a viewer key (tgv-…) first.'));
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const p = await signIn(key.trim());
      setKey('');
      onSignedIn(p);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      setBusy(false);
      input.current?.focus();
    }
  }

  return (
    <main className="signin" id="main">
      <form className="card signin-card" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-title`} data-testid="signin-form">
        <h1 id={`${id}-title`}>Tollgate</h1>
        <p>Where the AI spend goes, per team, project and agent.</p>
        {notice !== null && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <div className="field">
          <label htmlFor={id}>Admin key or viewer key</label>
          <input
            ref={input}
            id={id}
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(e) => setKey(e.target.value)}
            aria-describedby={`${id}-hint`}
            data-testid="signin-key"
          />
          <small id={`${id}-hint`} className="hint">
            <code>tollgate serve</code> prints the admin key; a team lead gets a viewer key from <code>tollgate keys create-viewer --scope acme/support</code>.
          </small>
        </div>
        <ErrorNotice error={error} testId="signin-error" />
        <button type="submit" className="primary" disabled={busy} data-testid="signin-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
