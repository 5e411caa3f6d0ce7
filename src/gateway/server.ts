/**
 * The gateway's HTTP server: the OpenAI and Anthropic routes, the models list, the ledger lookup of
 * one call, health. Everything it needs is passed in; `tollgate serve` does the wiring.
 */
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TollgateError, toTollgateError } from '../domain/errors.ts';
import { nanoToDecimalString } from '../domain/money.ts';
import type { Store } from '../ledger/contract.ts';
import type { GroupCommitOptions } from '../ledger/group-commit.ts';
import { GroupCommitter } from '../ledger/group-commit.ts';
import type { Pricer } from '../pricing/index.ts';
import { requireAdmin } from './admin-auth.ts';
import { errorBody, shapeFor } from './error-shapes.ts';
import { KeyCache } from './key-cache.ts';
import { ModelRouter } from './model-router.ts';
import type { ProxyDeps, ProxyRoute } from './proxy.ts';
import { presentedKey, proxyCall, upstreamHeaders } from './proxy.ts';
import type { Upstream } from './upstreams.ts';
import { closeUpstreams } from './upstreams.ts';

export interface GatewayOptions {
  store: Store;
  pricer: Pricer;
  upstreams: Map<string, Upstream>;
  aliases?: Record<string, string>;
  /** Admin key for /api/; null disables the admin API. */
  adminKey: string | null;
  /** Largest accepted request body in bytes (default 8 MiB). */
  bodyLimit?: number;
  logger?: boolean | { level: string };
  now?: () => number;
  groupCommit?: GroupCommitOptions;
  keyCheckEveryMs?: number;
}

export interface Gateway {
  app: FastifyInstance;
  keys: KeyCache;
  writer: GroupCommitter;
  /** Stops accepting, lets in-flight calls finish (up to `deadlineMs`, default 30 s), flushes the ledger, closes upstream pools. */
  close(deadlineMs?: number): Promise<void>;
}

const ROUTES: (ProxyRoute & { method: 'POST'; path: string })[] = [
  { method: 'POST', path: '/v1/chat/completions', route: 'openai.chat', api: 'openai', upstreamPath: '/chat/completions', shape: 'openai' },
  { method: 'POST', path: '/v1/responses', route: 'openai.responses', api: 'openai', upstreamPath: '/responses', shape: 'openai' },
  { method: 'POST', path: '/v1/embeddings', route: 'openai.embeddings', api: 'openai', upstreamPath: '/embeddings', shape: 'openai' },
  { method: 'POST', path: '/v1/messages', route: 'anthropic.messages', api: 'anthropic', upstreamPath: '/v1/messages', shape: 'anthropic' },
];

export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export async function buildGateway(opts: GatewayOptions): Promise<Gateway> {
  const now = opts.now ?? Date.now;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit,
    return503OnClosing: true,
    // Long generations: no server-side request timeout; upstream timeouts apply instead.
    requestTimeout: 0,
  });
  const keys = new KeyCache(opts.store.directory, { checkEveryMs: opts.keyCheckEveryMs ?? 1000, now });
  const writer = new GroupCommitter(opts.store.ledger, opts.groupCommit);
  const router = new ModelRouter(opts.upstreams, opts.aliases);
  const deps: ProxyDeps = {
    keys,
    pricer: opts.pricer,
    router,
    writer,
    now,
    log: { error: (o, m) => app.log.error(o, m) },
  };

  // Keep the exact bytes as well as the parsed body: an unchanged request is forwarded byte for byte.
  // JSON only: any other content type is refused with 415 rather than half-parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    (req as FastifyRequest & { rawBody?: Buffer }).rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch (err) {
      done(new TollgateError('invalid_request', `request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => sendError(reply, req, fromFastify(err, bodyLimit), app));
  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      req,
      new TollgateError('not_found', `no route ${req.method} ${req.url.split('?')[0]}: Tollgate serves POST /v1/chat/completions, /v1/responses, /v1/embeddings, /v1/messages, GET /v1/models and /api/`),
      app,
    ),
  );

  // Calls in flight, streams included (Fastify does not track hijacked replies): close() waits for them.
  const inFlight = new Set<Promise<void>>();
  for (const r of ROUTES) {
    app.post(r.path, (req, reply) => {
      const call = proxyCall(r, req, reply, deps);
      const tracked = call.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked));
      return call;
    });
  }

  // Token counting is free at Anthropic and free here: passed through, never billed.
  app.post('/v1/messages/count_tokens', async (req, reply) => {
    await keys.authenticate(presentedKey(req));
    const model = (req.body as { model?: unknown } | undefined)?.model;
    if (typeof model !== 'string') throw new TollgateError('invalid_request', 'missing "model"');
    const target = router.resolve('anthropic', model);
    const raw = (req as FastifyRequest & { rawBody?: Buffer }).rawBody ?? Buffer.from(JSON.stringify(req.body));
    const res = await target.upstream.pool.request({
      path: `${target.upstream.basePath}/v1/messages/count_tokens`,
      method: 'POST',
      headers: upstreamHeaders(req, target, raw.length),
      body: raw,
    });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    await reply.code(res.statusCode).header('content-type', String(res.headers['content-type'] ?? 'application/json')).send(bytes);
  });

  app.get('/v1/models', async (req) => {
    await keys.authenticate(presentedKey(req));
    // The Anthropic SDK sends anthropic-version; answer each client in its own list shape.
    if (req.headers['anthropic-version'] !== undefined) {
      const data = router.models('anthropic').map((m) => ({ type: 'model', id: m.id, display_name: m.id, created_at: '1970-01-01T00:00:00Z' }));
      return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    }
    return { object: 'list', data: router.models('openai').map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.ownedBy })) };
  });

  app.get('/api/calls/:id', async (req) => {
    requireAdmin(req, opts.adminKey);
    const { id } = req.params as { id: string };
    const e = await opts.store.ledger.get(id);
    if (!e) throw new TollgateError('not_found', `no call ${id} in the ledger`);
    return {
      ...e,
      listCostNano: e.listCostNano.toString(),
      effectiveCostNano: e.effectiveCostNano.toString(),
      listCostUsd: nanoToDecimalString(e.listCostNano),
      effectiveCostUsd: nanoToDecimalString(e.effectiveCostNano),
      scope: `${e.chain.orgName}/${e.chain.teamName}/${e.chain.projectName}/${e.chain.agentName}`,
    };
  });

  app.get('/healthz', () => ({ ok: true }));

  await keys.refreshIfStale();
  return {
    app,
    keys,
    writer,
    async close(deadlineMs = 30_000) {
      // Stop accepting; then let in-flight calls (streams above all) finish and record their rows, up to a deadline.
      const closing = app.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(inFlight), new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
      clearTimeout(timer);
      // What is left open is idle keep-alive (or past the deadline): without this, close() waits for keep-alive timeouts.
      app.server.closeAllConnections();
      await closing;
      await writer.close();
      await closeUpstreams(opts.upstreams);
    },
  };
}

function sendError(reply: FastifyReply, req: FastifyRequest, err: TollgateError, app: FastifyInstance): FastifyReply {
  if (err.code === 'internal') app.log.error({ err: err.cause ?? err }, 'internal error');
  return reply.code(err.status).send(errorBody(err, shapeFor(req.url)));
}

/** Fastify's own errors (body too large, wrong content type, …) in our closed set of codes. */
function fromFastify(err: unknown, bodyLimit: number): TollgateError {
  if (err instanceof TollgateError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TollgateError('payload_too_large', `request body is over the ${bodyLimit.toLocaleString('en')}-byte limit (gateway.body_limit in tollgate.yaml)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TollgateError('unsupported_media_type', 'send the request body as JSON with "Content-Type: application/json"');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TollgateError('invalid_request', 'request body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TollgateError('invalid_request', 'Content-Length does not match the body');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new TollgateError('invalid_request', e.message ?? 'bad request');
  }
  return toTollgateError(err);
}
