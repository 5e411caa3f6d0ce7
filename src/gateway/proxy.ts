/**
 * One proxied model call: authenticate, route, forward, capture usage, price, record, reply.
 * Streams go to the client event by event as they arrive; the usage parser reads the same events
 * on the side. The ledger row is committed before the response's last bytes are sent.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { encode } from 'gpt-tokenizer';
import type { Dispatcher } from 'undici';
import { TollgateError, toTollgateError } from '../domain/errors.ts';
import { nanoToDecimalString } from '../domain/money.ts';
import type { Usage } from '../domain/usage.ts';
import { totalInputTokens, usage as makeUsage } from '../domain/usage.ts';
import type { LedgerEvent, ResolvedKey } from '../ledger/contract.ts';
import type { GroupCommitter } from '../ledger/group-commit.ts';
import type { Pricer } from '../pricing/index.ts';
import type { ApiRoute, UsageCapture } from '../providers/contract.ts';
import { adapterFor } from '../providers/index.ts';
import { injectStreamUsage } from '../providers/openai/inject-usage.ts';
import { SseSplitter } from '../providers/sse.ts';
import type { Admission, Admitted } from './admission.ts';
import { costBound, largestFittingMaxTokens } from './cost-bound.ts';
import type { ErrorShape } from './error-shapes.ts';
import { streamErrorEvent } from './error-shapes.ts';
import type { KeyCache } from './key-cache.ts';
import type { ModelRouter, RouteTarget } from './model-router.ts';
import { newRequestId } from './request-id.ts';
import type { WireApi } from './upstreams.ts';

export interface ProxyRoute {
  route: ApiRoute;
  api: WireApi;
  /** Path after the upstream's base path, e.g. "/chat/completions" (OpenAI) or "/v1/messages" (Anthropic). */
  upstreamPath: string;
  shape: ErrorShape;
}

export interface ProxyDeps {
  keys: KeyCache;
  pricer: Pricer;
  router: ModelRouter;
  writer: GroupCommitter;
  admission: Admission;
  now: () => number;
  log: { error: (obj: object, msg: string) => void };
  /** Sees every priced call as its row is written (anomaly detection); must be cheap and never throw. */
  observe?: (event: LedgerEvent, requestBody: Record<string, unknown>) => void;
}

/** Request headers forwarded upstream; everything else (client credentials above all) stays here. */
const FORWARD_REQUEST_HEADERS = ['accept', 'user-agent', 'anthropic-version', 'anthropic-beta', 'openai-beta', 'x-stainless-lang', 'x-stainless-package-version'] as const;
/** Test and simulation hooks understood by the built-in simulator; harmless elsewhere. */
const SIMULATOR_HEADER = /^x-sim-/;
/** Response headers not copied back: hop-by-hop, or recomputed by us. */
const DROP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'set-cookie']);

export function presentedKey(req: FastifyRequest): string {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.length > 0) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (!m) throw new TollgateError('unauthenticated', 'Authorization header must be "Bearer <virtual key>"');
    return m[1]!.trim();
  }
  const xKey = req.headers['x-api-key'];
  if (typeof xKey === 'string' && xKey.length > 0) return xKey.trim();
  throw new TollgateError('unauthenticated', 'missing virtual key: send it as "Authorization: Bearer tg-…" or "x-api-key: tg-…"');
}

interface CallContext {
  id: string;
  startedAt: number;
  key: ResolvedKey;
  requestedModel: string;
  target: RouteTarget;
  stream: boolean;
  traceId: string | null;
  tags: Record<string, string>;
  requestBody: Record<string, unknown>;
  admitted: Admitted | null;
  /** Set when the gateway cut this call while it ran (a kill switch, a lost reservation). */
  cutBy: TollgateError | null;
}

export async function proxyCall(spec: ProxyRoute, req: FastifyRequest, reply: FastifyReply, deps: ProxyDeps): Promise<void> {
  const startedAt = deps.now();
  const id = newRequestId(startedAt);
  void reply.header('x-tollgate-request-id', id);
  const key = await deps.keys.authenticate(presentedKey(req));
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TollgateError('invalid_request', 'request body must be a JSON object');
  }
  const requestBody = body as Record<string, unknown>;
  const model = requestBody['model'];
  if (typeof model !== 'string' || model.trim() === '') {
    throw new TollgateError('invalid_request', 'missing "model": every request names the model it calls', { details: { param: 'model' } });
  }
  const chain = key.chain;
  if (!chain) throw new TollgateError('key_invalid', `${key.display} is not bound to an agent; model calls need an agent key`);
  deps.admission.checkKill(chain);
  // A spent soft budget with a cheaper alias sends the call there; the client is told in a header.
  const degradeTo = deps.admission.degradeTarget(chain, startedAt);
  const target = (degradeTo !== null && degradedTarget(deps, spec, degradeTo)) || deps.router.resolve(spec.api, model);
  if (degradeTo !== null && target.model !== model) void reply.header('x-tollgate-degraded-to', degradeTo);
  const stream = requestBody['stream'] === true && spec.route !== 'openai.embeddings';
  const ctx: CallContext = { id, startedAt, key, requestedModel: model, target, stream, requestBody, admitted: null, cutBy: null, ...tagsOf(req) };

  // The body goes upstream byte for byte unless we must change it (resolved alias or prefix, injected usage request).
  let outgoing: Record<string, unknown> = requestBody;
  let injected = false;
  if (target.model !== model) outgoing = { ...outgoing, model: target.model };
  if (stream && spec.route === 'openai.chat') {
    const r = injectStreamUsage(outgoing);
    outgoing = r.body;
    injected = r.injected;
  }
  const raw = (req as FastifyRequest & { rawBody?: Buffer }).rawBody;
  const payload = outgoing === requestBody && raw ? raw : Buffer.from(JSON.stringify(outgoing));

  // Reserve the most this call can cost on every budget and limit of its chain before it goes out.
  const provider = target.upstream.id;
  const bound = costBound(deps.pricer, provider, target.model, spec.route, outgoing, payload.length, startedAt);
  ctx.admitted = await deps.admission.admit({
    id,
    chain,
    at: startedAt,
    costNano: bound.costNano,
    tokens: bound.inputTokens + bound.outputTokens,
    fit: (room) => largestFittingMaxTokens(deps.pricer, provider, target.model, spec.route, outgoing, payload.length, startedAt, room),
  });
  for (const [k, v] of Object.entries(ctx.admitted.headers)) void reply.header(k, v);

  // Only a stream can be cancelled half-way with something to save; a plain call runs to its end.
  const abort = stream ? new AbortController() : null;
  const untrack = abort
    ? deps.admission.track(id, chain, (reason) => {
        ctx.cutBy = reason;
        abort.abort();
      })
    : null;
  try {
    await forward(ctx, spec, deps, req, reply, payload, abort, injected);
  } finally {
    untrack?.();
    // A path that ended without a ledger row (a bug, or a throw while replying) must not hold budget.
    if (ctx.admitted) await deps.admission.settle(ctx.admitted, { costNano: 0n, tokens: 0 });
  }
}

/** The degraded route, or null (logged) when the alias does not resolve here: a misconfigured soft budget must not break calls. */
function degradedTarget(deps: ProxyDeps, spec: ProxyRoute, alias: string): RouteTarget | null {
  try {
    return deps.router.resolve(spec.api, alias);
  } catch (err) {
    deps.log.error({ err, alias }, `soft budget degrade_to "${alias}" does not resolve on the ${spec.api} API; keeping the requested model`);
    return null;
  }
}

async function forward(
  ctx: CallContext,
  spec: ProxyRoute,
  deps: ProxyDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  payload: Buffer,
  abort: AbortController | null,
  injected: boolean,
): Promise<void> {
  const { target } = ctx;
  let res: Dispatcher.ResponseData;
  try {
    res = await target.upstream.pool.request({
      path: target.upstream.basePath + spec.upstreamPath,
      method: 'POST',
      headers: upstreamHeaders(req, target, payload.length),
      body: payload,
      ...(abort ? { signal: abort.signal } : {}),
    });
  } catch (err) {
    const e = ctx.cutBy ?? upstreamFailure(err, target);
    await record(ctx, spec, deps, { status: e.status, errorCode: e.code, capture: null, estimated: false });
    throw e;
  }

  const contentType = String(res.headers['content-type'] ?? '');
  if (abort && res.statusCode < 300 && contentType.includes('text/event-stream')) {
    await relayStream(ctx, spec, deps, req, reply, res, abort, injected);
    return;
  }
  await relayBody(ctx, spec, deps, reply, res);
}

async function relayBody(ctx: CallContext, spec: ProxyRoute, deps: ProxyDeps, reply: FastifyReply, res: Dispatcher.ResponseData): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await res.body.arrayBuffer());
  } catch (err) {
    const e = upstreamFailure(err, ctx.target);
    await record(ctx, spec, deps, { status: e.status, errorCode: e.code, capture: null, estimated: false });
    throw e;
  }
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    // Not JSON (an HTML error page from a proxy, say): passed back as is, recorded without usage.
  }
  const ok = res.statusCode < 400;
  const capture = ok && parsed !== null ? adapterFor(spec.route).usageFromBody(parsed) : null;
  const row = await record(ctx, spec, deps, {
    status: res.statusCode,
    errorCode: ok ? null : 'upstream_error',
    capture,
    estimated: false,
  });
  copyHeaders(reply, res.headers);
  if (row) void reply.header('x-tollgate-cost-usd', nanoToDecimalString(row.effectiveCostNano));
  await reply.code(res.statusCode).send(bytes);
}

async function relayStream(
  ctx: CallContext,
  spec: ProxyRoute,
  deps: ProxyDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  res: Dispatcher.ResponseData,
  abort: AbortController,
  injected: boolean,
): Promise<void> {
  reply.hijack();
  const out = reply.raw;
  const headers: Record<string, string | string[]> = { ...ctx.admitted?.headers, 'x-tollgate-request-id': ctx.id };
  const degraded = reply.getHeader('x-tollgate-degraded-to');
  if (typeof degraded === 'string') headers['x-tollgate-degraded-to'] = degraded;
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !DROP_RESPONSE_HEADERS.has(k)) headers[k] = v;
  out.writeHead(res.statusCode, headers);
  out.flushHeaders();

  let clientGone = false;
  const onClose = () => {
    if (!out.writableFinished) {
      clientGone = true;
      abort.abort();
    }
  };
  req.raw.socket?.once('close', onClose);
  out.once('close', onClose);

  const tracker = adapterFor(spec.route).streamTracker({ injectedUsage: injected });
  const splitter = new SseSplitter();
  let failure: TollgateError | null = null;
  // One write per upstream chunk (its complete events), not one per event: fewer syscalls, same bytes.
  const forward = async (events: ReturnType<SseSplitter['push']>) => {
    let pending = '';
    for (const e of events) if (tracker.onEvent(e) === 'forward') pending += e.raw;
    if (pending !== '' && !clientGone && !out.write(pending)) await waitDrain(out);
  };
  try {
    for await (const chunk of res.body) {
      await forward(splitter.push(chunk as Buffer));
      if (clientGone) break;
    }
    await forward(splitter.end());
    const upstreamError = tracker.upstreamError();
    if (upstreamError) failure = new TollgateError('upstream_error', `upstream error mid-stream: ${upstreamError.type}: ${upstreamError.message}`);
    else if (!tracker.finished() && !clientGone) failure = new TollgateError('upstream_error', 'the upstream ended the stream before it was complete');
  } catch (err) {
    if (ctx.cutBy) failure = ctx.cutBy;
    else if (!clientGone) failure = upstreamFailure(err, ctx.target);
  } finally {
    req.raw.socket?.off('close', onClose);
    out.off('close', onClose);
  }
  if (clientGone || ctx.cutBy) res.body.destroy();

  const reported = tracker.reported();
  const cutShort = clientGone || failure !== null || reported === null;
  const capture = cutShort && reported === null ? estimateCapture(ctx, tracker.partial(), tracker.textSeen()) : reported;
  const status = clientGone ? 499 : failure ? failure.status : res.statusCode;
  try {
    await record(ctx, spec, deps, {
      status,
      errorCode: clientGone ? 'client_closed' : failure ? failure.code : null,
      capture,
      estimated: reported === null,
    });
  } finally {
    if (!clientGone && !out.writableEnded) {
      // Never swallow a stream error: the client hears about it in the API's own error-event shape.
      if (failure) out.write(streamErrorEvent(failure, spec.shape));
      out.end();
    }
  }
}

function waitDrain(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
  });
}

/** Bills what a stream cut short had generated: prompt side as reported (or estimated), output counted from the text seen. */
function estimateCapture(ctx: CallContext, partial: UsageCapture | null, textSeen: string): UsageCapture {
  const output = textSeen.length > 0 ? encode(textSeen).length : 0;
  const prompt: Usage = partial?.usage ?? makeUsage({ inputTokens: estimatePromptTokens(ctx.requestBody) });
  return { usage: { ...prompt, outputTokens: Math.max(prompt.outputTokens, output), reasoningTokens: 0 }, servedModel: partial?.servedModel ?? null };
}

function estimatePromptTokens(body: Record<string, unknown>): number {
  const parts = [body['system'], body['messages'], body['input'], body['instructions'], body['tools']].filter((p) => p !== undefined);
  return parts.length === 0 ? 0 : encode(JSON.stringify(parts)).length;
}

interface Outcome {
  status: number;
  errorCode: string | null;
  capture: UsageCapture | null;
  estimated: boolean;
}

/** Prices and commits the call's ledger row; resolves once it is durable. */
async function record(ctx: CallContext, spec: ProxyRoute, deps: ProxyDeps, o: Outcome): Promise<LedgerEvent | null> {
  const chain = ctx.key.chain;
  if (!chain) return null;
  const endedAt = deps.now();
  const u = o.capture?.usage ?? makeUsage({ requests: o.status < 400 ? 1 : 0 });
  const servedModel = o.capture?.servedModel ?? ctx.target.model;
  const quote = deps.pricer.price(ctx.target.upstream.id, servedModel, u, ctx.startedAt);
  const tags = o.capture?.suspicious ? { ...ctx.tags, suspicious: o.capture.suspicious } : ctx.tags;
  const event: LedgerEvent = {
    id: ctx.id,
    startedAt: ctx.startedAt,
    endedAt,
    chain,
    keyId: ctx.key.id,
    provider: ctx.target.upstream.id,
    requestedModel: ctx.requestedModel,
    servedModel,
    route: spec.route,
    status: o.status,
    errorCode: o.errorCode,
    usage: u,
    listCostNano: quote.listNano,
    effectiveCostNano: quote.effectiveNano,
    priceSource: quote.source,
    latencyMs: endedAt - ctx.startedAt,
    stream: ctx.stream,
    estimated: o.estimated,
    traceId: ctx.traceId,
    tags,
  };
  const admitted = ctx.admitted;
  ctx.admitted = null;
  const settled = admitted ? deps.admission.settle(admitted, { costNano: event.effectiveCostNano, tokens: totalInputTokens(u) + u.outputTokens }) : null;
  deps.observe?.(event, ctx.requestBody);
  try {
    await deps.writer.record(event);
  } catch (err) {
    // The client already has (or is getting) its answer; losing the row is the worst outcome, so say so loudly.
    deps.log.error({ err, requestId: ctx.id }, 'ledger write failed for a completed call');
  }
  await settled;
  return event;
}

/** Headers for the upstream request: the provider's own credential, never the client's key. */
export function upstreamHeaders(req: FastifyRequest, target: RouteTarget, length: number): Record<string, string> {
  // identity: usage is read from the bytes as they pass, so they must not arrive compressed.
  const h: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(length), 'accept-encoding': 'identity' };
  for (const name of FORWARD_REQUEST_HEADERS) {
    const v = req.headers[name];
    if (typeof v === 'string') h[name] = v;
  }
  for (const [name, v] of Object.entries(req.headers)) if (SIMULATOR_HEADER.test(name) && typeof v === 'string') h[name] = v;
  const { upstream } = target;
  if (upstream.api === 'anthropic') {
    h['anthropic-version'] ??= '2023-06-01';
    if (upstream.apiKey) h['x-api-key'] = upstream.apiKey;
  } else if (upstream.apiKey) {
    h['authorization'] = `Bearer ${upstream.apiKey}`;
  }
  return h;
}

function copyHeaders(reply: FastifyReply, headers: Record<string, string | string[] | undefined>): void {
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !DROP_RESPONSE_HEADERS.has(k)) void reply.header(k, v);
}

function tagsOf(req: FastifyRequest): { traceId: string | null; tags: Record<string, string> } {
  const tags: Record<string, string> = {};
  const list = req.headers['x-tollgate-tags'];
  if (typeof list === 'string') {
    for (const pair of list.split(',')) {
      const eq = pair.indexOf('=');
      const k = pair.slice(0, eq).trim();
      if (eq > 0 && /^[a-z0-9_.-]{1,64}$/i.test(k)) tags[k] = pair.slice(eq + 1).trim().slice(0, 256);
    }
  }
  const customer = req.headers['x-tollgate-customer'];
  if (typeof customer === 'string' && customer.trim() !== '') tags['customer'] = customer.trim().slice(0, 256);
  const trace = req.headers['x-tollgate-trace-id'];
  return { traceId: typeof trace === 'string' && trace.trim() !== '' ? trace.trim().slice(0, 256) : null, tags };
}

function upstreamFailure(err: unknown, target: RouteTarget): TollgateError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new TollgateError('upstream_timeout', `${target.upstream.id} did not answer in time`, { cause: err });
  }
  const e = toTollgateError(err);
  if (e.code !== 'internal') return e;
  return new TollgateError('upstream_error', `cannot reach ${target.upstream.id} (${target.upstream.origin}): ${e.message}`, { cause: err });
}

