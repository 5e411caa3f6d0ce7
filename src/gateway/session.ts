/**
 * Dashboard sessions: a signed, expiring cookie (HttpOnly, SameSite=Strict) instead of a key kept in
 * the browser. Stateless, so any replica can read it: the signing secret is TOLLGATE_SESSION_SECRET,
 * or derived from the admin key (which all replicas share), or random per process when neither is set.
 * A viewer session holds the key id (a revoked key ends it on the next request); an admin session
 * holds a fingerprint of the admin key (rotating the key ends it).
 *
 * Writes through a session also need the CSRF token (double submit: `x-csrf-token`), which only
 * pages of this origin can read from `GET /api/session`; SameSite=Strict is the first line, the
 * token the second, and the Origin check the third.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { TollgateError } from '../domain/errors.ts';
import { hashesEqual, hashKey } from '../domain/virtual-key.ts';

export const SESSION_COOKIE = 'tollgate_session';
export const CSRF_HEADER = 'x-csrf-token';
/** How long a dashboard session lasts without signing in again. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export type Session = { kind: 'admin'; fp: string; exp: number; nonce: string } | { kind: 'viewer'; keyId: string; exp: number; nonce: string };

export class SessionCodec {
  readonly #secret: Buffer;
  readonly #now: () => number;

  constructor(opts: { secret?: string | null; adminKey: string | null; now?: () => number }) {
    this.#now = opts.now ?? Date.now;
    const material = opts.secret ?? (opts.adminKey === null ? null : `admin-key:${opts.adminKey}`);
    this.#secret = material === null ? randomBytes(32) : createHmac('sha256', 'tollgate-session-v1').update(material).digest();
  }

  /** A new session for a principal that just proved its key. */
  issue(who: { kind: 'admin'; adminKey: string } | { kind: 'viewer'; keyId: string }): { cookie: string; session: Session; maxAgeS: number } {
    const base = { exp: this.#now() + SESSION_TTL_MS, nonce: randomBytes(12).toString('base64url') };
    const session: Session = who.kind === 'admin' ? { kind: 'admin', fp: fingerprint(who.adminKey), ...base } : { kind: 'viewer', keyId: who.keyId, ...base };
    const body = Buffer.from(JSON.stringify(session)).toString('base64url');
    return { cookie: `${body}.${this.#sign(body)}`, session, maxAgeS: Math.floor(SESSION_TTL_MS / 1000) };
  }

  /** The session in a cookie value, or null when it is forged, malformed or expired. */
  open(cookie: string): Session | null {
    const dot = cookie.indexOf('.');
    if (dot <= 0 || cookie.length > 1024) return null;
    const body = cookie.slice(0, dot);
    if (!hashesEqual(this.#sign(body), cookie.slice(dot + 1))) return null;
    let s: unknown;
    try {
      s = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    const v = s as Partial<Session> | null;
    if (v === null || typeof v !== 'object' || typeof v.exp !== 'number' || typeof v.nonce !== 'string' || v.exp <= this.#now()) return null;
    if (v.kind === 'admin' && typeof v.fp === 'string') return v as Session;
    if (v.kind === 'viewer' && typeof v.keyId === 'string') return v as Session;
    return null;
  }

  /** The CSRF token that goes with a session (never stored; recomputed from the nonce). */
  csrfToken(session: Session): string {
    return this.#sign(`csrf:${session.nonce}`);
  }

  /** Refuses a cookie-authenticated write without this session's CSRF token or from another origin. */
  checkCsrf(req: FastifyRequest, session: Session): void {
    const origin = req.headers.origin;
    if (typeof origin === 'string' && origin !== 'null') {
      if (hostOf(origin) !== req.headers.host) throw new TollgateError('forbidden', `cross-site request refused: Origin ${origin} is not this dashboard`);
    }
    const token = req.headers[CSRF_HEADER];
    if (typeof token !== 'string' || !hashesEqual(token, this.csrfToken(session))) {
      throw new TollgateError('forbidden', `missing or wrong ${CSRF_HEADER} header: dashboard writes carry the token from GET /api/session (reload the page)`);
    }
  }

  /** True when an admin session was issued for this admin key. */
  adminMatches(session: Session, adminKey: string): boolean {
    return session.kind === 'admin' && hashesEqual(session.fp, fingerprint(adminKey));
  }

  #sign(text: string): string {
    return createHmac('sha256', this.#secret).update(text).digest('hex');
  }
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

function fingerprint(adminKey: string): string {
  return hashKey(`fp:${adminKey}`).slice(0, 32);
}
