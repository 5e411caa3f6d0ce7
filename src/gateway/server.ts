/**
 * The gateway's HTTP server: the OpenAI and Anthropic routes, the models list, the ledger lookup of
 * one call, health. Everything it needs is passed in; `tollgate serve` does the wiring.
 */
import { STATUS_CODES } from 'node:http';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TollgateError, toTollgateError } from '../domain/errors.ts';
import { nanoToDecimalString } from '../domain/money.ts';
import { budgetInput } from '../admin/budgets.ts';
import { budgetJson, budgetStatus } from '../analytics/budget-status.ts';
import type { Counters } from '../counters/contract.ts';
import { MemoryCounters } from '../counters/memory/memory-counters.ts';
import type { Store } from '../ledger/contract.ts';
import type { GroupCommitOptions } from '../ledger/group-commit.ts';
import { GroupCommitter } from '../ledger/group-commit.ts';
import type { LedgerSpool } from '../ledger/spool/ledger-spool.ts';
import type { Pricer } from '../pricing/index.ts';
import type { TollgateConfig } from '../config/config-schema.ts';
import cookie from '@fastify/cookie';
import type { ApiRoute } from './access.ts';
import { actorOf, installAccess, scopeOf, sees } from './access.ts';
import { queryText } from './query-params.ts';
import { registerSessionRoutes } from './session-routes.ts';
import { registerDashboard } from './dashboard-static.ts';
import { SessionCodec } from './session.ts';
import { Admission } from './admission.ts';
import { registerAnomalyRoutes } from './anomaly-routes.ts';
import { registerChargebackRoutes } from './chargeback-routes.ts';
import { ControlsCache } from './controls-cache.ts';
import { registerExportRoutes } from './export-routes.ts';
import { registerOutcomeRoutes } from './outcome-routes.ts';
import { registerShowbackRoutes } from './showback-routes.ts';
import { errorBody, shapeFor } from './error-shapes.ts';
import { KeyCache } from './key-cache.ts';
import type { MetricsOptions } from './metrics.ts';
import { GatewayMetrics, registerMetrics } from './metrics.ts';
import { registerOtlpRoutes } from '../ingest/otlp/otlp-route.ts';
import { ModelRouter } from './model-router.ts';
import type { RoutingConfig } from './routing/routing-config.ts';
import { registerRoutingReportRoutes } from './routing/report-routes.ts';
import { registerDashboardRoutes } from './dashboard/dashboard-routes.ts';
import { registerAdminRoutes } from './dashboard/admin-routes.ts';
import { RoutingTable } from './routing/routing-table.ts';
import type { ProxyDeps, ProxyRoute } from './proxy.ts';
import type { AnomalyWatchOptions } from './anomaly-watch.ts';
import { AnomalyWatch } from './anomaly-watch.ts';
import { forwardUnbilled, presentedKey, proxyCall } from './proxy.ts';
import type { Upstream } from './upstreams.ts';
import { closeUpstreams } from './upstreams.ts';

export interface GatewayOptions {
  store: Store;
  pricer: Pricer;
  upstreams: Map<string, Upstream>;
  aliases?: Record<string, string>;
  /** Routed models (cheap-first router); their tiers must resolve against `upstreams` and `aliases`. */
  routing?: RoutingConfig;
  /** Admin key for /api/; null disables the admin API. */
  adminKey: string | null;
  /** Largest accepted request body in bytes (default 8 MiB). */
  bodyLimit?: number;
  logger?: boolean | { level: string };
  now?: () => number;
  groupCommit?: GroupCommitOptions;
  /** Where ledger rows go while the database is unreachable, replayed when it is back; the gateway starts and closes it. Absent: such rows fail (and are logged). */
  spool?: LedgerSpool;
  keyCheckEveryMs?: number;
  /** Budget and rate-limit counters; default in-process (one replica). The caller closes counters it passes. */
  counters?: Counters;
  /** Reservation lease, ms (default 60 000); live calls renew it. */
  leaseMs?: number;
  /** How often budgets and kill switches are re-checked, ms (default 250). */
  controlsPollMs?: number;
  /** Calendar budget periods' zone when a budget names none (default UTC). */
  timeZone?: string;
  /** Anomaly detection on every call; absent or null: off. The gateway closes the dispatcher's pending deliveries on close. */
  anomalies?: Pick<AnomalyWatchOptions, 'detector' | 'dispatcher' | 'evaluateEveryMs' | 'seedDays'> | null;
  /** `GET /metrics`: scrape token and label caps (see gateway/metrics.ts). */
  metrics?: MetricsOptions;
  /** The config's reconcile: section (gateway provider ids, tolerance) for GET /api/reconcile. */
  reconcile?: TollgateConfig['reconcile'];
  /** The built dashboard served at `/` (default web/dist); null serves none. */
  dashboardDir?: string | null;
  /** Signs dashboard session cookies; default derived from the admin key (shared by replicas), else random per process. */
  sessionSecret?: string | null;
}

export interface Gateway {
  app: FastifyInstance;
  keys: KeyCache;
  admission: Admission;
  controls: ControlsCache;
  writer: GroupCommitter;
  /** The anomaly watcher, when detection is on. */
  anomalies: AnomalyWatch | null;
  /** Prometheus metrics served on /metrics. */
  metrics: GatewayMetrics;
  /** Every /api/ route with its declared access. */
  apiRoutes: readonly ApiRoute[];
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

const REDACTED_HEADERS = ['authorization', 'x-api-key', 'cookie', 'set-cookie', 'x-csrf-token'].flatMap((h) => [`req.headers["${h}"]`, `res.headers["${h}"]`, `headers["${h}"]`]);

export async function buildGateway(opts: GatewayOptions): Promise<Gateway> {
  const now = opts.now ?? Date.now;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    // Fastify does not log headers by default; should a serializer ever add them, keys and cookies stay out.
    logger: opts.logger ? { ...(opts.logger === true ? {} : opts.logger), redact: { paths: REDACTED_HEADERS, censor: '[redacted]' } } : false,
    bodyLimit,
    return503OnClosing: true,
    // Long generations: no server-side request timeout; upstream timeouts apply instead.
    requestTimeout: 0,
    // A URL that does not decode is refused before routing: in the route's own shape all the same.
    frameworkErrors: (err, req, reply) => void sendError(reply, req, fromFastify(err, bodyLimit), app),
    // The HTTP parser refuses a request (headers past Node's 16 KiB, a malformed request line) before its
    // URL is known: one body every client reads (OpenAI's error.message/type/code, Anthropic's
    // type "error", the admin API's error.code, OTLP's code and message).
    clientErrorHandler: (err, socket) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const message = status === 431 ? "request headers are over the server's 16 KiB limit: send the key and the usual headers only" : status === 408 ? 'the request took too long to arrive' : 'malformed HTTP request';
      const body = JSON.stringify({ type: 'error', code: 3, message, error: { type: 'invalid_request_error', code: 'invalid_request', message } });
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  });
  const keys = new KeyCache(opts.store.directory, { checkEveryMs: opts.keyCheckEveryMs ?? 1000, now });
  const writer = new GroupCommitter(opts.store.ledger, { ...opts.groupCommit, ...(opts.spool ? { spool: opts.spool, log: { error: (o: object, m: string) => app.log.error(o, m), warn: (o: object, m: string) => app.log.warn(o, m) } } : {}) });
  const router = new ModelRouter(opts.upstreams, opts.aliases);
  const routing = opts.routing ? new RoutingTable(opts.routing, router, opts.aliases) : undefined;
  const log = { error: (o: object, m: string) => app.log.error(o, m), warn: (o: object, m: string) => app.log.warn(o, m) };
  const counters = opts.counters ?? new MemoryCounters();
  const controls = new ControlsCache(opts.store.controls, opts.store.directory, { pollMs: opts.controlsPollMs ?? 250, log });
  const admission = new Admission({
    counters,
    cache: controls,
    controls: opts.store.controls,
    ledger: opts.store.ledger,
    now,
    ...(opts.leaseMs === undefined ? {} : { leaseMs: opts.leaseMs }),
    log,
  });
  const anomalies = opts.anomalies ? new AnomalyWatch({ ...opts.anomalies, store: opts.store, now, log }) : null;
  const metrics = new GatewayMetrics({ countersUp: () => admission.countersUp, ledgerPending: () => writer.pending, spoolBytes: () => writer.spoolBytes, inFlight: () => inFlight.size, keysCached: () => keys.size }, opts.metrics);
  const observe: NonNullable<ProxyDeps['observe']> = anomalies
    ? (event, body) => {
        metrics.observe(event);
        anomalies.observe(event, body);
      }
    : (event) => metrics.observe(event);
  const deps: ProxyDeps = { keys, pricer: opts.pricer, router, writer, admission, now, log, observe, ...(routing ? { routing } : {}) };
  const timeZone = opts.timeZone ?? 'UTC';

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
  // Who may call each /api/ route is declared on the route; installed before any route is added.
  const sessions = new SessionCodec({ secret: opts.sessionSecret ?? process.env['TOLLGATE_SESSION_SECRET'] ?? null, adminKey: opts.adminKey, now });
  await app.register(cookie);
  const apiRoutes = installAccess(app, { adminKey: opts.adminKey, keys, sessions });
  registerSessionRoutes(app, { adminKey: opts.adminKey, keys, sessions });
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
  // A full ledger spool pauses model calls (503) rather than lose their rows; admin, health and metrics stay up.
  const accepting = (_req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    try {
      writer.assertAccepting();
      done();
    } catch (err) {
      done(err as Error);
    }
  };
  for (const r of ROUTES) {
    app.post(r.path, { onRequest: accepting }, (req, reply) => {
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
    await forwardUnbilled(req, reply, target, '/v1/messages/count_tokens', raw);
  });

  app.get('/v1/models', async (req) => {
    await keys.authenticate(presentedKey(req));
    // The Anthropic SDK sends anthropic-version; answer each client in its own list shape.
    if (req.headers['anthropic-version'] !== undefined) {
      const data = [...(routing?.models('anthropic') ?? []), ...router.models('anthropic')].map((m) => ({ type: 'model', id: m.id, display_name: m.id, created_at: '1970-01-01T00:00:00Z' }));
      return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    }
    return { object: 'list', data: [...(routing?.models('openai') ?? []), ...router.models('openai')].map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.ownedBy })) };
  });

  app.get('/api/calls/:id', { config: { access: 'read' } }, async (req) => {
    const { id } = req.params as { id: string };
    const e = await opts.store.ledger.get(id);
    const path = e ? `${e.chain.orgName}/${e.chain.teamName}/${e.chain.projectName}/${e.chain.agentName}` : '';
    // A viewer asking for a call outside its subtree learns nothing, not even that it exists.
    if (!e || !sees(req, path)) throw new TollgateError('not_found', `no call ${id} in the ledger`);
    return {
      ...e,
      listCostNano: e.listCostNano.toString(),
      effectiveCostNano: e.effectiveCostNano.toString(),
      listCostUsd: nanoToDecimalString(e.listCostNano),
      effectiveCostUsd: nanoToDecimalString(e.effectiveCostNano),
      scope: `${e.chain.orgName}/${e.chain.teamName}/${e.chain.projectName}/${e.chain.agentName}`,
    };
  });

  registerControlsApi(app, opts, { controls, admission, counters, now, timeZone });
  const routeDeps = { store: opts.store, keys, adminKey: opts.adminKey, now, pricer: opts.pricer };
  registerOutcomeRoutes(app, routeDeps);
  registerChargebackRoutes(app, routeDeps);
  registerExportRoutes(app, routeDeps);
  registerShowbackRoutes(app, routeDeps);
  registerRoutingReportRoutes(app, routeDeps);
  registerDashboardRoutes(app, { ...routeDeps, counters, anomaliesOn: anomalies !== null, alertSinks: opts.anomalies?.dispatcher?.sinks.length ?? 0 });
  registerAdminRoutes(app, { ...routeDeps, reconcile: opts.reconcile });
  const dispatcher = opts.anomalies?.dispatcher ?? null;
  registerAnomalyRoutes(app, { ...routeDeps, alerts: dispatcher, dashboardUrl: dispatcher?.dashboardUrl ?? null });

  registerOtlpRoutes(app, { store: opts.store, keys, pricer: opts.pricer, toError: (err) => fromFastify(err, bodyLimit), countSpans: (outcome, n) => metrics.spans(outcome, n) });
  registerMetrics(app, metrics, { adminKey: opts.adminKey, token: opts.metrics?.token ?? null, toError: (err) => fromFastify(err, bodyLimit) });

  app.get('/healthz', () => ({ ok: true, counters: admission.countersUp ? 'up' : 'down', ledger: writer.spooling ? 'spooling' : 'up', spoolBytes: writer.spoolBytes }));
  if (opts.dashboardDir !== null) await registerDashboard(app, opts.dashboardDir);

  await keys.refreshIfStale();
  await controls.start();
  admission.start();
  await anomalies?.start();
  return {
    app,
    keys,
    admission,
    controls,
    writer,
    anomalies,
    metrics,
    apiRoutes,
    async close(deadlineMs = 30_000) {
      // Stop accepting; then let in-flight calls (streams above all) finish and record their rows, up to a deadline.
      const closing = app.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(inFlight), new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
      clearTimeout(timer);
      // What is left open is idle keep-alive (or past the deadline): without this, close() waits for keep-alive timeouts.
      app.server.closeAllConnections();
      await closing;
      // Calls cut at the deadline still record what they used: let them reach the writer before it closes.
      await Promise.race([Promise.all(inFlight), new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
      await writer.close();
      await anomalies?.close();
      controls.close();
      admission.close();
      if (!opts.counters) await counters.close();
      await closeUpstreams(opts.upstreams);
    },
  };
}

function sendError(reply: FastifyReply, req: FastifyRequest, err: TollgateError, app: FastifyInstance): FastifyReply {
  if (err.code === 'internal') app.log.error({ err: err.cause ?? err }, 'internal error');
  // The SDKs retry 429s by default: a spent budget or a kill switch will not clear on a retry, a rate limit will.
  if (err.code === 'budget_exceeded' || err.code === 'killed') void reply.header('x-should-retry', 'false');
  const retryAfter = err.details?.['retry_after_seconds'];
  if (err.code === 'rate_limited' && typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
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

interface ControlsApiDeps {
  controls: ControlsCache;
  admission: Admission;
  counters: Counters;
  now: () => number;
  timeZone: string;
}

/** Budgets, rate limits and kill switches over the admin API (the CLI's budgets, limits, kill, revive). */
function registerControlsApi(app: FastifyInstance, opts: GatewayOptions, d: ControlsApiDeps): void {
  const store = opts.store;
  const body = (req: FastifyRequest) => {
    const b = req.body;
    if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new TollgateError('invalid_request', 'send a JSON object');
    return b as Record<string, unknown>;
  };
  const str = (b: Record<string, unknown>, name: string, required = true): string | undefined => {
    const v = b[name];
    if (v === undefined || v === null) {
      if (required) throw new TollgateError('invalid_request', `missing "${name}"`, { details: { param: name } });
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') throw new TollgateError('invalid_request', `"${name}" must be a string`, { details: { param: name } });
    return String(v);
  };
  const optionalCount = (b: Record<string, unknown>, name: string): number | null => {
    const v = b[name];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new TollgateError('invalid_request', `"${name}" must be a whole number above 0 or null`, { details: { param: name } });
    return v;
  };
  const query = (req: FastifyRequest) => req.query as Record<string, string | undefined>;

  app.get('/api/budgets', { config: { access: 'read' } }, async (req) => {
    const under = scopeOf(req, queryText(req, 'scope'));
    const policies = await store.controls.listBudgets(under ? { under } : {});
    const states = await budgetStatus(policies, { ledger: store.ledger, counters: d.counters, now: d.now() });
    return { data: states.map(budgetJson) };
  });

  app.put('/api/budgets', { config: { access: 'admin' } }, async (req) => {
    const b = body(req);
    const thresholds = b['thresholds'];
    if (thresholds !== undefined && !Array.isArray(thresholds) && typeof thresholds !== 'string') throw new TollgateError('invalid_request', '"thresholds" is a list of percentages, e.g. [50, 80, 100]');
    const input = budgetInput(
      {
        scope: str(b, 'scope')!,
        amount: str(b, 'amount_usd')!,
        period: str(b, 'period')!,
        action: str(b, 'action', false),
        thresholds: thresholds as string | number[] | undefined,
        timeZone: str(b, 'time_zone', false),
        degradeTo: str(b, 'degrade_to', false) ?? null,
      },
      d.timeZone,
    );
    const { budget, before } = await store.controls.setBudget(input, actorOf(req));
    await d.controls.reload();
    const [state] = await budgetStatus([budget], { ledger: store.ledger, counters: d.counters, now: d.now() });
    return { budget: budgetJson(state!), replaced: before !== null };
  });

  app.delete('/api/budgets', { config: { access: 'admin' } }, async (req) => {
    const q = query(req);
    if (!q['scope'] || !q['period']) throw new TollgateError('invalid_request', 'give ?scope=…&period=… of the budget to delete');
    const gone = await store.controls.deleteBudget(q['scope'], q['period'], actorOf(req));
    await d.controls.reload();
    return { deleted: { id: gone.id, scope: gone.scopePath, period: gone.period } };
  });

  app.get('/api/budget-alerts', { config: { access: 'read' } }, async (req) => {
    const alerts = (await store.controls.alerts({ limit: 200 })).filter((a) => sees(req, a.scopePath));
    return { data: alerts.map((a) => ({ ...a, spentUsd: nanoToDecimalString(a.spentNano), limitUsd: nanoToDecimalString(a.limitNano), spentNano: a.spentNano.toString(), limitNano: a.limitNano.toString() })) };
  });

  app.get('/api/limits', { config: { access: 'read' } }, async (req) => {
    return { data: (await store.controls.listRateLimits()).filter((l) => sees(req, l.scopePath)) };
  });

  app.put('/api/limits', { config: { access: 'admin' } }, async (req) => {
    const b = body(req);
    const limit = await store.controls.setRateLimit(str(b, 'scope')!, { rpm: optionalCount(b, 'rpm'), tpm: optionalCount(b, 'tpm') }, actorOf(req));
    await d.controls.reload();
    return { limit };
  });

  app.get('/api/kills', { config: { access: 'read' } }, async (req) => {
    return { data: (await store.controls.listKills()).filter((k) => sees(req, k.scopePath)) };
  });

  app.post('/api/kill', { config: { access: 'admin' } }, async (req) => {
    const b = body(req);
    const kill = await store.controls.kill(str(b, 'scope')!, str(b, 'reason', false) ?? '', actorOf(req));
    await d.controls.reload();
    return { kill };
  });

  app.post('/api/revive', { config: { access: 'admin' } }, async (req) => {
    const revived = await store.controls.revive(str(body(req), 'scope')!, actorOf(req));
    await d.controls.reload();
    return { revived };
  });
}
