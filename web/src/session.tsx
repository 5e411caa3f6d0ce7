/**
 * Who is signed in. The session itself is an HttpOnly cookie the page never sees; what the page
 * keeps is the principal (admin, or a viewer of one subtree) and the CSRF token for writes.
 */
import { createContext, useContext } from 'react';
import type { Principal, SessionInfo } from './api/types.ts';
import { ApiError, apiGet, apiSend, setCsrfToken } from './api/client.ts';

export interface SessionValue {
  principal: Principal;
  isAdmin: boolean;
  /** The viewer's subtree; null for the admin (everything). */
  viewerScope: string | null;
  signOut: () => void;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (s === null) throw new Error('useSession outside a signed-in page');
  return s;
}

/**
 * The cookie is HttpOnly, so the page cannot see whether it has one. This flag remembers that it
 * signed in, so a browser that never did goes straight to the sign-in form instead of asking the
 * gateway and logging a 401 in the console. It grants nothing: the gateway decides on the cookie.
 */
const SIGNED_IN_FLAG = 'tollgate.signedIn';

function remember(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(SIGNED_IN_FLAG, '1');
    else localStorage.removeItem(SIGNED_IN_FLAG);
  } catch {
    // Storage disabled: every load asks the gateway, which is still correct.
  }
}

/** True when this browser signed in and has not signed out since (a hint, not a credential). */
export function remembered(): boolean {
  try {
    return localStorage.getItem(SIGNED_IN_FLAG) !== null;
  } catch {
    return true;
  }
}

/** The current session, or null when not signed in. */
export async function readSession(): Promise<Principal | null> {
  if (!remembered()) return null;
  try {
    const s = await apiGet<SessionInfo>('/api/session');
    setCsrfToken(s.csrfToken ?? null);
    remember(s.principal != null);
    return s.principal ?? null;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      remember(false);
      return null;
    }
    throw err;
  }
}

/** Called when the gateway says the session is gone. */
export function forgetSession(): void {
  setCsrfToken(null);
  remember(false);
}

/** Trades a key for a session cookie. */
export async function signIn(key: string): Promise<Principal> {
  const s = await apiSend<SessionInfo>('POST', '/api/session', { key });
  if (!s.principal) throw new ApiError(500, 'bad_response', 'the gateway opened a session but did not say for whom');
  setCsrfToken(s.csrfToken);
  remember(true);
  return s.principal;
}

export async function endSession(): Promise<void> {
  try {
    await apiSend('DELETE', '/api/session');
  } finally {
    forgetSession();
  }
}
