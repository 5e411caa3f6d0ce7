/**
 * Dashboard sign-in: `POST /api/session` trades a key typed into the sign-in page for a session
 * cookie; `GET` says who is signed in (and hands the page its CSRF token); `DELETE` signs out.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TollgateError } from '../domain/errors.ts';
import type { AccessDeps, Principal } from './access.ts';
import { fromSecret, fromSession } from './access.ts';
import { SESSION_COOKIE } from './session.ts';

export function registerSessionRoutes(app: FastifyInstance, deps: AccessDeps): void {
  app.post('/api/session', { config: { access: 'public' } }, async (req, reply) => {
    const body = req.body as { key?: unknown } | undefined;
    const key = typeof body?.key === 'string' ? body.key.trim() : '';
    if (key === '') throw new TollgateError('invalid_request', 'send { "key": "<admin key or viewer key tgv-…>" }', { details: { param: 'key' } });
    const principal = await fromSecret(key, 'session', deps);
    const issued = deps.sessions.issue(principal.kind === 'admin' ? { kind: 'admin', adminKey: key } : { kind: 'viewer', keyId: principal.keyId });
    void reply.setCookie(SESSION_COOKIE, issued.cookie, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: isHttps(req),
      maxAge: issued.maxAgeS,
    });
    return sessionJson(principal, deps.sessions.csrfToken(issued.session));
  });

  app.get('/api/session', { config: { access: 'public' } }, async (req) => {
    const cookie = req.cookies[SESSION_COOKIE];
    const session = cookie ? deps.sessions.open(cookie) : null;
    // Signed out is an answer, not an error: the sign-in page asks before it shows itself.
    if (session === null) return { principal: null, csrfToken: null };
    const principal = await fromSession(session, deps);
    return sessionJson(principal, deps.sessions.csrfToken(session));
  });

  app.delete('/api/session', { config: { access: 'public' } }, async (req, reply: FastifyReply) => {
    void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: isHttps(req) });
    return { signedOut: true };
  });
}

function sessionJson(p: Principal, csrfToken: string): Record<string, unknown> {
  const principal = p.kind === 'admin' ? { kind: 'admin' } : { kind: 'viewer', scope: p.scope, display: p.display };
  return { principal, csrfToken };
}

/** Behind a TLS-terminating proxy the browser speaks https even though we do not. */
function isHttps(req: FastifyRequest): boolean {
  return req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';
}

