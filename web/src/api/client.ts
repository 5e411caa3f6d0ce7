/**
 * The one way the dashboard talks to the gateway: same-origin fetches that carry the session
 * cookie, the CSRF token on writes, and the API's own error message when something fails. A 401
 * anywhere sends the page back to sign-in.
 */

/** An error the API answered with (or a network failure, status 0), message as the API wrote it. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

let csrfToken: string | null = null;
let onUnauthenticated: (err: ApiError) => void = () => undefined;

/** The token writes must carry; set when a session is opened or read. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called on any 401 except from the session routes themselves (they answer the sign-in page). */
export function setUnauthenticatedHandler(handler: (err: ApiError) => void): void {
  onUnauthenticated = handler;
}

/** Path and query string for an API route; undefined, null and empty values are left out. */
export function apiPath(path: string, params: Record<string, string | number | boolean | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}

/** GET a JSON route. */
export function apiGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>('GET', path, undefined, signal);
}

/** POST/PUT/DELETE a JSON route (with the CSRF token). */
export function apiSend<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return request<T>(method, path, body);
}

async function request<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', `the gateway did not answer (${err instanceof Error ? err.message : String(err)}); is it running?`);
  }
  const text = await res.text();
  if (!res.ok) {
    const err = errorOf(res, text);
    if (res.status === 401 && !path.startsWith('/api/session')) onUnauthenticated(err);
    throw err;
  }
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'bad_response', `${method} ${path.split('?')[0]} answered with something that is not JSON`);
  }
}

function errorOf(res: Response, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown; code?: unknown; type?: unknown } };
    const e = body.error;
    if (e && typeof e.message === 'string') {
      return new ApiError(res.status, typeof e.code === 'string' ? e.code : typeof e.type === 'string' ? e.type : 'error', e.message);
    }
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(res.status, 'http_error', `${res.status} ${res.statusText}${text.trim() === '' ? '' : `: ${text.trim().slice(0, 200)}`}`);
}
