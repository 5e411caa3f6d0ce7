/**
 * Who may call an admin route, and which part of the tree they see.
 *
 * Every `/api/` route declares its access in its route config (`{ config: { access: 'read' } }`);
 * a route without one is refused at start-up, so a new route cannot be forgotten. The principal is
 * found once per request (admin key, viewer key or dashboard session cookie) and put on the request.
 * A viewer reads only its subtree: routes pass every scope they were asked for through `scopeOf`
 * and filter lists through `sees`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TollgateError } from '../domain/errors.ts';
import type { Tier } from '../domain/scope.ts';
import { parseScope, tierOf } from '../domain/scope.ts';
import { hashesEqual, hashKey } from '../domain/virtual-key.ts';
import type { KeyCache } from './key-cache.ts';
import type { Session, SessionCodec } from './session.ts';
import { SESSION_COOKIE } from './session.ts';

/**
 * - `admin`: the admin key (or an admin session); everything, reads and writes.
 * - `read`: the admin, or a viewer key/session restricted to its subtree; never writes.
 * - `public`: no credentials (sign-in, session status).
 * - `agent`: the route authenticates an agent key itself (outcomes, OTLP).
 */
export type Access = 'admin' | 'read' | 'public' | 'agent';

export type Principal =
  | { kind: 'admin'; actor: string; via: 'key' | 'session' }
  | { kind: 'viewer'; actor: string; via: 'key' | 'session'; keyId: string; display: string; scope: { id: string; path: string; tier: Tier } };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AccessDeps {
  adminKey: string | null;
  keys: KeyCache;
  sessions: SessionCodec;
}

/** One admin route and who may call it (the access-control tests enumerate these). */
export interface ApiRoute {
  method: string;
  url: string;
  access: Access;
}

/**
 * Installs the start-up check and the per-request authentication. Call before any route is added.
 * Returns the admin routes as they are added.
 */
export function installAccess(app: FastifyInstance, deps: AccessDeps): readonly ApiRoute[] {
  const routes: ApiRoute[] = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const access = route.config?.access;
    if (access === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no access: add { config: { access: 'admin' | 'read' | 'public' } }`);
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, access });
    if (access === 'public' || access === 'agent') return;
    // On the admin routes only: the proxy's hot path never runs it.
    const check = async (req: FastifyRequest): Promise<void> => {
      const principal = await authenticate(req, deps);
      if (access === 'admin' && principal.kind !== 'admin') {
        throw new TollgateError('forbidden', `${principal.actor} is a viewer: it reads ${principal.scope.path} and cannot change anything; use the admin key`);
      }
      req.principal = principal;
    };
    route.onRequest = [check, ...(route.onRequest === undefined ? [] : [route.onRequest].flat())];
  });
  return routes;
}

/** The caller behind a request: a bearer key first, then the session cookie. Throws 401/403 otherwise. */
export async function authenticate(req: FastifyRequest, deps: AccessDeps): Promise<Principal> {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  if (bearer !== undefined) return fromSecret(bearer, 'key', deps);
  const cookie = req.cookies?.[SESSION_COOKIE];
  if (cookie !== undefined && cookie !== '') {
    const session = deps.sessions.open(cookie);
    if (session === null) throw new TollgateError('unauthenticated', 'your dashboard session has expired or was signed out; sign in again');
    const method = req.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') deps.sessions.checkCsrf(req, session);
    return fromSession(session, deps);
  }
  if (deps.adminKey === null) throw new TollgateError('unauthenticated', 'sign in with a viewer key (the admin API is disabled: set TOLLGATE_ADMIN_KEY to enable it)');
  throw new TollgateError('unauthenticated', 'the admin API needs "Authorization: Bearer <admin key or viewer key>", or a dashboard session');
}

/** Who a valid session belongs to, if its admin key or viewer key still holds. */
export async function fromSession(session: Session, deps: AccessDeps): Promise<Principal> {
  if (session.kind === 'admin') {
    if (deps.adminKey === null || !deps.sessions.adminMatches(session, deps.adminKey)) {
      throw new TollgateError('unauthenticated', 'the admin key changed since you signed in; sign in again');
    }
    return { kind: 'admin', actor: 'admin', via: 'session' };
  }
  return viewerFromKeyId(session.keyId, deps, 'session');
}

/** A presented secret as a principal: the admin key (compared in constant time) or an active viewer key. */
export async function fromSecret(secret: string, via: 'key' | 'session', deps: Pick<AccessDeps, 'adminKey' | 'keys'>): Promise<Principal> {
  // Hash both sides first so the comparison takes the same time whatever the lengths.
  if (deps.adminKey !== null && hashesEqual(hashKey(secret), hashKey(deps.adminKey))) return { kind: 'admin', actor: 'admin', via };
  if (!secret.startsWith('tgv-')) {
    throw new TollgateError('unauthenticated', secret.startsWith('tg-') ? 'that is an agent key: it makes model calls; the admin API takes the admin key or a viewer key (tgv-…)' : 'wrong admin key');
  }
  const key = await deps.keys.resolve(secret);
  return viewerPrincipal(key, via);
}

async function viewerFromKeyId(keyId: string, deps: AccessDeps, via: 'session'): Promise<Principal> {
  const key = await deps.keys.byId(keyId);
  if (key === null) throw new TollgateError('unauthenticated', 'the viewer key behind this session was revoked; ask for a new one and sign in again');
  return viewerPrincipal(key, via);
}

function viewerPrincipal(key: { id: string; kind: string; display: string; scopeId: string; scopePath: string }, via: 'key' | 'session'): Principal {
  if (key.kind !== 'viewer') throw new TollgateError('unauthenticated', `${key.display} is an agent key: the admin API takes the admin key or a viewer key (tgv-…)`);
  return { kind: 'viewer', actor: `viewer:${key.display}`, via, keyId: key.id, display: key.display, scope: { id: key.scopeId, path: key.scopePath, tier: tierOf(parseScope(key.scopePath)) } };
}

/** The principal `installAccess` found; routes declared `public` or `agent` have none. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new TollgateError('internal', `route ${req.url} reads the principal but is not declared admin or read`);
  return req.principal;
}

/** True when `path` is `root` or inside its subtree. */
export function within(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

/** True when the caller may see `path` (the admin sees everything). */
export function sees(req: FastifyRequest, path: string): boolean {
  const p = principalOf(req);
  return p.kind === 'admin' || within(path, p.scope.path);
}

/**
 * The scope a read is about: what the caller asked for, checked against what it may see. A viewer
 * who asks for nothing gets its own scope; the admin gets `undefined` (everything).
 */
export function scopeOf(req: FastifyRequest, requested: string | undefined): string | undefined {
  const p = principalOf(req);
  if (p.kind === 'admin') return requested;
  if (requested === undefined) return p.scope.path;
  const path = requested.replace(/\/+$/, '');
  if (!within(path, p.scope.path)) throw new TollgateError('forbidden', `${p.actor} reads ${p.scope.path} and below; ${path} is outside it`);
  return path;
}

/** The principal's own scope for a viewer, or null for the admin. */
export function viewerScope(req: FastifyRequest): string | null {
  const p = principalOf(req);
  return p.kind === 'admin' ? null : p.scope.path;
}

/** Who an administrative change is attributed to in the audit log. */
export function actorOf(req: FastifyRequest): string {
  const p = principalOf(req);
  const who = req.headers['x-tollgate-actor'];
  const named = typeof who === 'string' && who.trim() !== '' ? who.trim().slice(0, 120) : null;
  if (p.kind === 'viewer') return p.actor;
  return `${p.via === 'session' ? 'dashboard' : 'api'}:${named ?? 'admin'}`;
}
