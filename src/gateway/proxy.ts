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
import type { LedgerEvent, ResolvedKey, RouteStamp } from '../ledger/contract.ts';
import type { GroupCommitter } from '../ledger/group-commit.ts';
import type { PriceQuote, Pricer } from '../pricing/index.ts';
import type { ApiRoute, UsageCapture } from '../providers/contract.ts';
import { adapterFor } from '../providers/index.ts';
import { injectStreamUsage } from '../providers/openai/inject-usage.ts';
import type { SseEvent } from '../providers/sse.ts';
import { SseSplitter } from '../providers/sse.ts';
import type { Admission, Admitted } from './admission.ts';
import type { CostBound } from './cost-bound.ts';
import { clampToBound, costBound, largestFittingMaxTokens } from './cost-bound.ts';
import type { ErrorShape } from './error-shapes.ts';
import { streamErrorEvent } from './error-shapes.ts';
import type { KeyCache } from './key-cache.ts';
import type { ModelRouter, RouteTarget } from './model-router.ts';
import { newRequestId } from './request-id.ts';
import type { EscalationPolicy } from './routing/escalation.ts';
import { escalateAfterAnswer, escalateAfterError } from './routing/escalation.ts';
import type { RoutePlan, RoutingTable } from './routing/routing-table.ts';
import { HINT_HEADER } from './routing/routing-table.ts';
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
  log: { error: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
  /** Routed models (the `routing:` config); absent: every call names its model. */
  routing?: RoutingTable;
  /** Sees every priced call as its row is written (anomaly detection); must be cheap and never throw. */
  observe?: (event: LedgerEvent, requestBody: Record<string, unknown>) => void;
}

/** Request headers forwarded upstream; everything else (client credentials above all) stays here. */
const FORWARD_REQUEST_HEADERS = ['accept', 'user-agent', 'anthropic-version', 'anthropic-beta', 'openai-beta', 'x-stainless-lang', 'x-stainless-package-version'] as const;
/** Test and simulation hooks understood by the built-in simulator; harmless elsewhere. */
const SIMULATOR_HEADER = /^x-sim-/;
/** Response headers not copied back: hop-by-hop, or recomputed by us. */
const DROP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'set-cookie']);
/** Our own response headers (request id, cost, budget state): an upstream must not be able to set them. */
const OWN_HEADER = /^x-tollgate-/;
/** Longest served-model name taken from an upstream; past it (or empty) the routed model is recorded. */
const MAX_MODEL_NAME = 200;
/**
 * Characters tokenized for an estimate (about 0.1 s of tokenizer time, which blocks every other call):
 * past it a text counts one token per character, above any real tokenization, and the bound clamps it.
 */
const MAX_TOKENIZED_CHARS = 256 * 1024;

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

/** What every attempt of one client call shares. */
interface CallBase {
  key: ResolvedKey;
  requestedModel: string;
  stream: boolean;
  traceId: string | null;
  tags: Record<string, string>;
  requestBody: Record<string, unknown>;
}

/** One upstream attempt: a ledger row of its own. A routed call that escalates makes several. */
interface CallContext extends CallBase {
  id: string;
  startedAt: number;
  target: RouteTarget;
  admitted: Admitted | null;
  /** The most this attempt can cost, reserved before it went out: billed usage is held within it. */
  bound: CostBound | null;
  /** Set when the gateway cut this call while it ran (a kill switch, a lost reservation). */
  cutBy: TollgateError | null;
  /** How the cheap-first router placed it; null when the client named a model. */
  routing: RouteStamp | null;
  /** When a failure may send the call to the next tier instead of the client; null on a final attempt. */
  escalation: EscalationPolicy | null;
  /** The escalation deadline timer, and whether it fired. */
  deadline: NodeJS.Timeout | null;
  deadlineHit: boolean;
}

/** A lower tier's failure that sends the call up, and what the client gets should the next tier not be admitted. */
interface Escalation {
  why: string;
  id: string;
  tier: string;
  answer: TollgateError | { status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer; costNano: bigint | null };
}

interface Attempt {
  ctx: CallContext;
  payload: Buffer;
  injected: boolean;
}

export async function proxyCall(spec: ProxyRoute, req: FastifyRequest, reply: FastifyReply, deps: ProxyDeps): Promise<void> {
  const startedAt = deps.now();
  const id = newRequestId(startedAt);
  void reply.header('x-tollgate-request-id', id);
  const key = await deps.keys.authenticate(presentedKey(req));
  // Read by the metrics' refusal count (gateway/metrics.ts chainOf).
  (req as FastifyRequest & { tollgateKey?: ResolvedKey }).tollgateKey = key;
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
  const degradeTo = deps.admission.degradeTarget(chain, startedAt);
  const stream = requestBody['stream'] === true && spec.route !== 'openai.embeddings';
  const base: CallBase = { key, requestedModel: model, stream, requestBody, ...tagsOf(req) };

  // A routed model (or a soft budget degrading to one) runs on the tier the router picks, escalating on failure.
  const hint = req.headers[HINT_HEADER];
  const plan = deps.routing?.plan({ api: spec.api, route: spec.route, model, body: requestBody, hint: typeof hint === 'string' ? hint : undefined, chain, degradeTo }) ?? null;
  if (plan) return routedCall(plan, base, { id, startedAt }, spec, req, reply, deps);

  // A spent soft budget with a cheaper alias sends the call there; the client is told in a header.
  const target = (degradeTo !== null && degradedTarget(deps, spec, degradeTo)) || deps.router.resolve(spec.api, model);
  if (degradeTo !== null && target.model !== model) void reply.header('x-tollgate-degraded-to', degradeTo);
  const attempt = await admitAttempt(newContext(base, id, startedAt, target, null, null), spec, req, reply, deps);
  await runAttempt(attempt, spec, req, reply, deps);
}

function newContext(base: CallBase, id: string, startedAt: number, target: RouteTarget, routing: RouteStamp | null, escalation: EscalationPolicy | null): CallContext {
  return { ...base, id, startedAt, target, admitted: null, bound: null, cutBy: null, routing, escalation, deadline: null, deadlineHit: false };
}

/**
 * Runs a routed call from its first tier up: each attempt is admitted, forwarded and recorded on its
 * own; a failed one below the ceiling hands over to the next tier, whose row names it in `escalatedFrom`.
 */
async function routedCall(
  plan: RoutePlan,
  base: CallBase,
  first: { id: string; startedAt: number },
  spec: ProxyRoute,
  req: FastifyRequest,
  reply: FastifyReply,
  deps: ProxyDeps,
): Promise<void> {
  if (plan.degradedBy !== null) void reply.header('x-tollgate-degraded-to', plan.degradedBy);
  let { id, startedAt } = first;
  let reason = plan.reason;
  let failed: Escalation | null = null;
  for (let tier = plan.start; ; tier++) {
    const { name, target } = plan.tiers[tier]!;
    const stamp: RouteStamp = { alias: plan.alias, tier: name, reason, escalatedFrom: failed?.id ?? null, frontier: tier === plan.tiers.length - 1 ? null : plan.frontier };
    void reply.header('x-tollgate-route-tier', name);
    let attempt: Attempt;
    try {
      // A kill switch thrown while the tier below ran stops the escalation too.
      if (failed !== null) deps.admission.checkKill(base.key.chain!);
      attempt = await admitAttempt(newContext(base, id, startedAt, target, stamp, tier < plan.ceiling ? plan.escalation : null), spec, req, reply, deps);
    } catch (err) {
      // The next tier is refused (its budget bound does not fit, say): the client gets what the tier below gave.
      if (failed === null) throw err;
      return replyFailed(failed, toTollgateError(err), reply);
    }
    const escalation = await runAttempt(attempt, spec, req, reply, deps);
    if (escalation === null) return;
    failed = escalation;
    reason = `escalated from ${name}: ${escalation.why}`;
    // Strictly after the attempt it replaces, even within one millisecond: reports read attempts in time order.
    startedAt = Math.max(deps.now(), startedAt + 1);
    id = newRequestId(startedAt);
    void reply.header('x-tollgate-request-id', id);
    void reply.header('x-tollgate-escalated-from', failed.id);
  }
}

async function replyFailed(failed: Escalation, refusal: TollgateError, reply: FastifyReply): Promise<void> {
  void reply.removeHeader('x-tollgate-escalated-from');
  void reply.header('x-tollgate-request-id', failed.id).header('x-tollgate-route-tier', failed.tier).header('x-tollgate-escalation-refused', refusal.code);
  const a = failed.answer;
  if (a instanceof TollgateError) throw a;
  copyHeaders(reply, a.headers);
  if (a.costNano !== null) void reply.header('x-tollgate-cost-usd', nanoToDecimalString(a.costNano));
  await reply.code(a.status).send(a.bytes);
}

/** Prepares the body for the attempt's target and reserves its cost bound; throws the refusal when it does not fit. */
async function admitAttempt(ctx: CallContext, spec: ProxyRoute, req: FastifyRequest, reply: FastifyReply, deps: ProxyDeps): Promise<Attempt> {
  const { target, requestBody, id, startedAt } = ctx;
  const chain = ctx.key.chain!;
  // The body goes upstream byte for byte unless we must change it (resolved alias or prefix, injected usage request).
  let outgoing: Record<string, unknown> = requestBody;
  let injected = false;
  if (target.model !== ctx.requestedModel) outgoing = { ...outgoing, model: target.model };
  if (ctx.stream && spec.route === 'openai.chat') {
    const r = injectStreamUsage(outgoing);
    outgoing = r.body;
    injected = r.injected;
  }
  const raw = (req as FastifyRequest & { rawBody?: Buffer }).rawBody;
  const payload = outgoing === requestBody && raw ? raw : Buffer.from(serialize(outgoing));

  // Reserve the most this call can cost on every budget and limit of its chain before it goes out.
  const provider = target.upstream.id;
  const bound = costBound(deps.pricer, provider, target.model, spec.route, outgoing, payload.length, startedAt);
  ctx.bound = bound;
  ctx.admitted = await deps.admission.admit({
    id,
    chain,
    at: startedAt,
    costNano: bound.costNano,
    tokens: bound.inputTokens + bound.outputTokens,
    fit: (room) => largestFittingMaxTokens(deps.pricer, provider, target.model, spec.route, outgoing, payload.length, startedAt, room),
  });
  for (const [k, v] of Object.entries(ctx.admitted.headers)) void reply.header(k, v);
  return { ctx, payload, injected };
}

/** Forwards an admitted attempt; resolves to the escalation when it failed below the ceiling, else null (answered). */
async function runAttempt({ ctx, payload, injected }: Attempt, spec: ProxyRoute, req: FastifyRequest, reply: FastifyReply, deps: ProxyDeps): Promise<Escalation | null> {
  const chain = ctx.key.chain!;
  const deadlineMs = ctx.escalation?.timeoutMs ?? null;
  // Only a stream can be cancelled half-way with something to save; a plain call runs to its end unless a routing deadline abandons it.
  const abort = ctx.stream || deadlineMs !== null ? new AbortController() : null;
  const untrack =
    abort && ctx.stream
      ? deps.admission.track(ctx.id, chain, (reason) => {
          ctx.cutBy = reason;
          abort.abort();
        })
      : null;
  if (abort && deadlineMs !== null) {
    ctx.deadline = setTimeout(() => {
      ctx.deadlineHit = true;
      abort.abort();
    }, deadlineMs);
  }
  try {
    return await forward(ctx, spec, deps, req, reply, payload, abort, injected);
  } finally {
    if (ctx.deadline) clearTimeout(ctx.deadline);
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
): Promise<Escalation | null> {
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
    return upstreamFailed(ctx, spec, deps, ctx.cutBy ?? (ctx.deadlineHit ? deadlineError(ctx) : upstreamFailure(err, target)));
  }

  const contentType = String(res.headers['content-type'] ?? '');
  if (ctx.stream && abort && res.statusCode < 300 && contentType.includes('text/event-stream')) {
    // The first byte is about to reach the client: from here the stream is the answer, whatever its tier.
    if (ctx.deadline) clearTimeout(ctx.deadline);
    await relayStream(ctx, spec, deps, req, reply, res, abort, injected);
    return null;
  }
  return relayBody(ctx, spec, deps, reply, res);
}

/** Records a call that got no answer; throws its error, or returns the escalation when the router may go up a tier. */
async function upstreamFailed(ctx: CallContext, spec: ProxyRoute, deps: ProxyDeps, e: TollgateError): Promise<Escalation> {
  const why = ctx.escalation && !ctx.cutBy ? escalateAfterError(ctx.escalation, e, ctx.deadlineHit) : null;
  if (why !== null) noteEscalation(ctx, why);
  await record(ctx, spec, deps, { status: e.status, errorCode: e.code, capture: null, estimated: false });
  if (why === null) throw e;
  return { why, id: ctx.id, tier: ctx.routing?.tier ?? '', answer: e };
}

function noteEscalation(ctx: CallContext, why: string): void {
  if (ctx.routing) ctx.routing = { ...ctx.routing, reason: `${ctx.routing.reason} — escalated: ${why}` };
}

function deadlineError(ctx: CallContext): TollgateError {
  return new TollgateError('upstream_timeout', `${ctx.target.upstream.id}/${ctx.target.model} gave no answer within ${ctx.escalation?.timeoutMs ?? 0} ms (routing escalate_on.timeout_ms)`);
}

async function relayBody(ctx: CallContext, spec: ProxyRoute, deps: ProxyDeps, reply: FastifyReply, res: Dispatcher.ResponseData): Promise<Escalation | null> {
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await res.body.arrayBuffer());
  } catch (err) {
    return upstreamFailed(ctx, spec, deps, ctx.cutBy ?? (ctx.deadlineHit ? deadlineError(ctx) : upstreamFailure(err, ctx.target)));
  }
  if (ctx.deadline) clearTimeout(ctx.deadline);
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    // Not JSON (an HTML error page from a proxy, say): passed back as is, recorded without usage.
  }
  const ok = res.statusCode < 400;
  const read = ok && parsed !== null ? adapterFor(spec.route).usageFromBody(parsed) : null;
  // A success without usage is not a free call: it is estimated, and flagged.
  const unreported = res.statusCode >= 200 && res.statusCode < 300 && read === null;
  const capture = unreported ? estimateBodyCapture(ctx, bytes) : read;
  const why = ctx.escalation ? escalateAfterAnswer(ctx.escalation, spec.route, res.statusCode, parsed) : null;
  if (why !== null) noteEscalation(ctx, why);
  const row = await record(ctx, spec, deps, {
    status: res.statusCode,
    errorCode: ok ? null : 'upstream_error',
    capture,
    estimated: unreported,
    suspect: unreported ? 'no usage in a successful response' : null,
  });
  if (why !== null) return { why, id: ctx.id, tier: ctx.routing?.tier ?? '', answer: { status: res.statusCode, headers: res.headers, bytes, costNano: row?.effectiveCostNano ?? null } };
  copyHeaders(reply, res.headers);
  if (row) void reply.header('x-tollgate-cost-usd', nanoToDecimalString(row.effectiveCostNano));
  await reply.code(res.statusCode).send(bytes);
  return null;
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
  for (const name of ['x-tollgate-degraded-to', 'x-tollgate-route-tier', 'x-tollgate-escalated-from']) {
    const v = reply.getHeader(name);
    if (typeof v === 'string') headers[name] = v;
  }
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !DROP_RESPONSE_HEADERS.has(k) && !OWN_HEADER.test(k)) headers[k] = v;
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
  // The closing event, and anything after it, waits for the row's commit like the end of the body does:
  // a client that stops reading at `[DONE]` has then been recorded too.
  let held = '';
  // One write per upstream chunk (its complete events), not one per event: fewer syscalls, same bytes.
  const forward = async (events: ReturnType<SseSplitter['push']>) => {
    let pending = '';
    for (const e of events) {
      if (tracker.onEvent(e) !== 'forward') continue;
      if (held !== '' || isClosingEvent(e)) held += e.raw;
      else pending += e.raw;
    }
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
  const partial = cutShort && reported === null ? tracker.partial() : null;
  const capture = cutShort && reported === null ? estimateCapture(ctx, partial, tracker.textSeen()) : reported;
  const status = clientGone ? 499 : failure ? failure.status : res.statusCode;
  try {
    await record(ctx, spec, deps, {
      status,
      errorCode: clientGone ? 'client_closed' : failure ? failure.code : null,
      capture,
      estimated: reported === null,
      suspect: partial?.usage === null ? partial.suspicious : null,
    });
  } finally {
    if (!clientGone && !out.writableEnded) {
      if (held !== '') out.write(held);
      // Never swallow a stream error: the client hears about it in the API's own error-event shape.
      if (failure) out.write(streamErrorEvent(failure, spec.shape));
      out.end();
    }
  }
}

/** The event that tells a client the stream is complete: OpenAI chat's `[DONE]`, Anthropic's `message_stop`, the Responses API's `response.completed`. */
function isClosingEvent(e: SseEvent): boolean {
  return e.data === '[DONE]' || e.event === 'message_stop' || e.event === 'response.completed';
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
  const output = estimateTokens(textSeen);
  const prompt: Usage = partial?.usage ?? makeUsage({ inputTokens: estimatePromptTokens(ctx) });
  return { usage: { ...prompt, outputTokens: Math.max(prompt.outputTokens, output), reasoningTokens: 0 }, servedModel: partial?.servedModel ?? null };
}

/** A successful JSON answer without usage: the prompt estimated, the output at most the answer's own tokens (its JSON included). */
function estimateBodyCapture(ctx: CallContext, bytes: Buffer): UsageCapture {
  const output = ctx.bound?.outputTokens === 0 ? 0 : estimateTokens(bytes.toString('utf8'));
  return { usage: makeUsage({ inputTokens: estimatePromptTokens(ctx), outputTokens: output }), servedModel: null };
}

function estimatePromptTokens(ctx: CallContext): number {
  const body = ctx.requestBody;
  const parts = [body['system'], body['messages'], body['input'], body['instructions'], body['tools']].filter((p) => p !== undefined);
  if (parts.length === 0) return 0;
  try {
    return estimateTokens(JSON.stringify(parts));
  } catch {
    // Nested too deep to serialise (JSON.stringify recurses): the bound of the body's bytes stands in.
    return ctx.bound?.inputTokens ?? 0;
  }
}

/** The JSON of a body the gateway changed; a body nested too deep for JSON.stringify is the client's error, not ours. */
function serialize(body: Record<string, unknown>): string {
  try {
    return JSON.stringify(body);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new TollgateError('invalid_request', 'request body is nested too deeply to forward (JSON arrays or objects thousands of levels deep); flatten it', { cause: err });
  }
}

function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  return text.length > MAX_TOKENIZED_CHARS ? text.length : encode(text).length;
}

interface Outcome {
  status: number;
  errorCode: string | null;
  capture: UsageCapture | null;
  estimated: boolean;
  /** Why the usage is suspect beyond what the capture says (none reported, an unreadable prompt side); null when nothing is. */
  suspect?: string | null;
}

/** Prices and commits the call's ledger row; resolves once it is durable. */
async function record(ctx: CallContext, spec: ProxyRoute, deps: ProxyDeps, o: Outcome): Promise<LedgerEvent | null> {
  const chain = ctx.key.chain;
  if (!chain) return null;
  const endedAt = deps.now();
  const { usage: u, servedModel, quote, suspect } = billed(ctx, deps, o);
  const tags = suspect.length > 0 ? { ...ctx.tags, usage_suspect: suspect.join('; ').slice(0, 256) } : ctx.tags;
  if (suspect.length > 0) {
    deps.log.warn({ requestId: ctx.id, provider: ctx.target.upstream.id, model: ctx.target.model, suspect }, 'upstream usage is suspect: billed within the request\'s bound and flagged usage_suspect');
  }
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
    estimated: o.estimated || suspect.length > 0,
    traceId: ctx.traceId,
    tags,
    ...(ctx.routing ? { routing: ctx.routing } : {}),
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

interface Billed {
  usage: Usage;
  servedModel: string;
  quote: PriceQuote;
  /** Why the usage or model the upstream reported was not billed as reported; empty when it was. */
  suspect: string[];
}

/**
 * What a row bills. The upstream's word is taken only within what the request allowed: counts it got
 * wrong are salvaged, counts past the request's bound are held to it, and a served model that would
 * cost more than the bound reserved for the routed one is not believed. Each departure is a reason.
 */
function billed(ctx: CallContext, deps: ProxyDeps, o: Outcome): Billed {
  const suspect: string[] = o.suspect ? [o.suspect] : [];
  let u: Usage;
  if (o.capture === null) u = makeUsage({ requests: o.status < 400 ? 1 : 0 });
  else if (o.capture.usage === null) {
    suspect.push(o.capture.suspicious);
    u = o.capture.salvaged;
  } else u = o.capture.usage;
  if (ctx.bound !== null) {
    // The provider's own counts are believed up to what no request could pass (a window per turn);
    // salvaged or estimated ones only up to the tighter bound admission reserved from the body.
    const trusted = o.capture?.usage != null && !o.estimated;
    const held = clampToBound(u, trusted ? ctx.bound : { inputCeiling: ctx.bound.inputTokens, outputTokens: ctx.bound.outputTokens });
    u = held.usage;
    suspect.push(...held.over);
  }
  const provider = ctx.target.upstream.id;
  const routed = ctx.target.model;
  let servedModel = o.capture?.servedModel ?? routed;
  if (servedModel.trim() === '' || servedModel.length > MAX_MODEL_NAME) {
    suspect.push(`served model name ${servedModel.trim() === '' ? 'is empty' : `is ${servedModel.length} characters long`}`);
    servedModel = routed;
  }
  const quote = deps.pricer.price(provider, servedModel, u, ctx.startedAt);
  if (servedModel === routed) return { usage: u, servedModel, quote, suspect };
  const asRouted = deps.pricer.price(provider, routed, u, ctx.startedAt);
  // The name alone took the cost past the reservation: the routed model's price of the same usage did not.
  const overBound = ctx.bound !== null && quote.effectiveNano > ctx.bound.costNano && quote.effectiveNano > asRouted.effectiveNano;
  // An unknown name is no reason to bill nothing; but with the routed model unpriced too there is nothing better.
  const unpriced = quote.source === 'unpriced' && asRouted.source !== 'unpriced';
  if (!overBound && !unpriced) return { usage: u, servedModel, quote, suspect };
  suspect.push(`served model ${JSON.stringify(servedModel.slice(0, 64))} ${overBound ? 'costs more than the bound reserved for' : 'has no price; billed as'} ${routed}`);
  return { usage: u, servedModel: routed, quote: asRouted, suspect };
}

/**
 * Forwards a call that is never billed (Anthropic's free `count_tokens`) and relays the answer as it
 * came; an upstream that cannot be reached, times out or drops the answer is a 502/504 like any call's.
 */
export async function forwardUnbilled(req: FastifyRequest, reply: FastifyReply, target: RouteTarget, upstreamPath: string, payload: Buffer): Promise<void> {
  let res: Dispatcher.ResponseData;
  let bytes: Buffer;
  try {
    res = await target.upstream.pool.request({ path: target.upstream.basePath + upstreamPath, method: 'POST', headers: upstreamHeaders(req, target, payload.length), body: payload });
    bytes = Buffer.from(await res.body.arrayBuffer());
  } catch (err) {
    throw upstreamFailure(err, target);
  }
  copyHeaders(reply, res.headers);
  await reply.code(res.statusCode).send(bytes);
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
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !DROP_RESPONSE_HEADERS.has(k) && !OWN_HEADER.test(k)) void reply.header(k, v);
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

