/**
 * Virtual keys over the admin API: list (a viewer sees its subtree's keys, never a secret), issue
 * (the secret is in that one response only), and suspend, resume or revoke. Every change is audited
 * under the caller and reaches this replica's key cache before the response, so a new key works
 * and a revoked one is refused on the very next call (other replicas within their check interval).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createKey } from '../../admin/create-key.ts';
import { parseExpiry } from '../../cli/parse-time.ts';
import { TollgateError } from '../../domain/errors.ts';
import type { KeyKind, KeyRecord, KeyState, Store } from '../../ledger/contract.ts';
import { actorOf, scopeOf, sees } from '../access.ts';
import type { KeyCache } from '../key-cache.ts';
import { queryFlag, queryText } from '../query-params.ts';

export interface KeysRouteDeps {
  store: Store;
  keys: KeyCache;
  now: () => number;
}

/** A key as the admin API shows it: everything but the secret and its hash. */
export function keyJson(k: KeyRecord, now: number) {
  return {
    id: k.id,
    display: k.display,
    kind: k.kind,
    scopePath: k.scopePath,
    name: k.name,
    state: k.state,
    /** Active but past its expiry: refused like a revoked key. */
    expired: k.state === 'active' && k.expiresAt !== null && k.expiresAt <= now,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    revokedAt: k.revokedAt,
  };
}

const CREATE_FIELDS = new Set(['scope', 'name', 'expires', 'kind']);
const KINDS: readonly KeyKind[] = ['agent', 'viewer'];
const MAX_NAME = 100;

const TRANSITIONS: [action: string, state: KeyState][] = [
  ['suspend', 'suspended'],
  ['resume', 'active'],
  ['revoke', 'revoked'],
];

export function registerKeysRoutes(app: FastifyInstance, deps: KeysRouteDeps): void {
  app.get('/api/keys', { config: { access: 'read' } }, async (req) => {
    const under = scopeOf(req, queryText(req, 'scope'));
    const list = await deps.store.directory.listKeys({ ...(under === undefined ? {} : { under }), includeRevoked: queryFlag(req, 'all') === true });
    const now = deps.now();
    return { data: list.filter((k) => sees(req, k.scopePath)).map((k) => keyJson(k, now)) };
  });

  app.post('/api/keys', { config: { access: 'admin' } }, async (req, reply) => {
    const b = bodyOf(req);
    const kind = text(b, 'kind') ?? 'agent';
    if (!(KINDS as readonly string[]).includes(kind)) throw invalid('kind', `"kind" is agent (makes model calls) or viewer (reads one subtree's reports), got "${kind}"`);
    const scope = text(b, 'scope');
    if (scope === undefined) throw invalid('scope', `missing "scope": ${kind === 'agent' ? 'the agent, org/team/project/agent' : 'the subtree the viewer reads, e.g. acme/support'}`);
    const name = text(b, 'name')?.trim();
    if (name !== undefined && (name === '' || name.length > MAX_NAME)) throw invalid('name', `"name" is a label of 1 to ${MAX_NAME} characters`);
    const expires = text(b, 'expires');
    const now = deps.now();
    const res = await createKey(deps.store, {
      scope,
      kind: kind as KeyKind,
      ...(name === undefined ? {} : { name }),
      expiresAt: expires === undefined ? null : parseExpiry(expires, now),
      actor: actorOf(req),
      now,
    });
    await deps.keys.reload();
    // The one response that carries the secret: no cache may keep it.
    return reply.code(201).header('cache-control', 'no-store').send({ key: res.secret, ...keyJson(res.key, now), createdScopes: res.createdScopes });
  });

  for (const [action, state] of TRANSITIONS) {
    app.post(`/api/keys/:id/${action}`, { config: { access: 'admin' } }, async (req) => {
      const { id } = req.params as { id: string };
      const key = await deps.store.directory.setKeyState(id, state, actorOf(req));
      await deps.keys.reload();
      return { key: keyJson(key, deps.now()) };
    });
  }
}

function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new TollgateError('invalid_request', 'send a JSON object, e.g. {"scope": "acme/support/helpdesk/triage-bot"}');
  const unknown = Object.keys(b).filter((k) => !CREATE_FIELDS.has(k));
  if (unknown.length > 0) throw invalid(unknown[0]!, `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')}: a key takes ${[...CREATE_FIELDS].join(', ')}`);
  return b as Record<string, unknown>;
}

function text(b: Record<string, unknown>, name: string): string | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(name, `"${name}" must be a string`);
  return v;
}

function invalid(param: string, message: string): TollgateError {
  return new TollgateError('invalid_request', message, { details: { param } });
}
