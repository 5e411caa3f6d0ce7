/**
 * OpenTelemetry GenAI spans into the ledger: the official SDK and OTLP/HTTP exporter send spans to
 * a real gateway (port 0); each model-call span becomes one priced row marked source=otel, a
 * re-export adds nothing, a call that went through the gateway is not counted twice, and bad
 * input gets a clear OTLP-shaped error.
 */
import type { Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/admin/create-key.ts';
import { usage } from '../../src/domain/usage.ts';
import { createPricer } from '../../src/pricing/index.ts';
import type { Harness } from '../support/gateway.ts';
import { AGENT, startHarness } from '../support/gateway.ts';

let h: Harness;
let exporter: OTLPTraceExporter;
const memory = new InMemorySpanExporter();
let provider: BasicTracerProvider;
const pricer = createPricer();
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);

beforeAll(async () => {
  h = await startHarness();
  exporter = new OTLPTraceExporter({ url: `${h.url}/v1/otlp/traces`, headers: { Authorization: `Bearer ${h.secret}` } });
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'support-agent', 'tollgate.scope': AGENT }),
    spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)],
  });
});
afterAll(async () => {
  await provider?.shutdown();
  await h?.close();
});

/** One ended span with these attributes, exported through the real OTLP exporter. */
async function send(name: string, attributes: Attributes, startMs = T0, durationMs = 1200): Promise<{ id: string; traceId: string }> {
  const span = provider.getTracer('test-instrumentation').startSpan(name, { startTime: startMs, attributes });
  span.end(startMs + durationMs);
  await provider.forceFlush();
  const { traceId, spanId } = span.spanContext();
  return { id: `otel_${traceId}${spanId}`, traceId };
}

async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${h.url}/v1/otlp/traces`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${h.secret}`, ...headers }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** An OTLP JSON export of one span, for the cases the SDK would never produce. */
function rawExport(attrs: Record<string, unknown>, resource: Record<string, unknown> = {}, ids = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }): string {
  const kv = (o: Record<string, unknown>) =>
    Object.entries(o).map(([key, v]) => ({ key, value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v } }));
  const start = BigInt(T0) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: kv(resource) }, scopeSpans: [{ scope: { name: 't' }, spans: [{ ...ids, name: 'chat', kind: 3, startTimeUnixNano: String(start), endTimeUnixNano: String(start + 5_000_000n), attributes: kv(attrs) }] }] }],
  });
}

const CHAT = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'gen_ai.usage.input_tokens': 1000,
  'gen_ai.usage.cache_read.input_tokens': 400,
  'gen_ai.usage.output_tokens': 250,
  'gen_ai.agent.id': 'asst_123',
  'server.address': 'api.openai.com',
  'server.port': 443,
};

describe('OTLP/HTTP JSON from the official exporter', () => {
  it('prices a GenAI chat span into the ledger, exactly, attributed to the key and marked source=otel', async () => {
    const { id, traceId } = await send('chat gpt-4o', CHAT);
    const e = await h.store.ledger.get(id);
    expect(e).not.toBeNull();
    // input_tokens includes the cache read (semconv): the full-rate part is the rest.
    const u = usage({ inputTokens: 600, cacheReadTokens: 400, outputTokens: 250 });
    expect(e!.usage).toEqual(u);
    const q = pricer.price('openai', 'gpt-4o-2024-08-06', u, T0);
    expect(q.source).toBe('catalog');
    expect(e!.listCostNano).toBe(q.listNano);
    expect(e!.effectiveCostNano).toBe(q.effectiveNano);
    expect(e!.listCostNano).toBeGreaterThan(0n);
    expect(e).toMatchObject({ route: 'otel', provider: 'openai', requestedModel: 'gpt-4o', servedModel: 'gpt-4o-2024-08-06', status: 200, startedAt: T0, latencyMs: 1200, keyId: h.keyId, traceId, priceSource: 'catalog' });
    expect(e!.tags).toEqual({ source: 'otel', otel_service: 'support-agent', otel_agent_id: 'asst_123' });
    expect([e!.chain.orgName, e!.chain.teamName, e!.chain.projectName, e!.chain.agentName].join('/')).toBe(AGENT);
  });

  it('maps provider names and Anthropic cache writes; an input count below its cache parts is read as excluding them', async () => {
    const anthropic = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4-5', 'gen_ai.usage.output_tokens': 80 };
    const inclusive = await send('chat claude', { ...anthropic, 'gen_ai.usage.input_tokens': 3000, 'gen_ai.usage.cache_read.input_tokens': 2000, 'gen_ai.usage.cache_creation.input_tokens': 500 });
    const exclusive = await send('chat claude', { ...anthropic, 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.cache_read.input_tokens': 2000, 'gen_ai.usage.cache_creation.input_tokens': 500 });
    const a = (await h.store.ledger.get(inclusive.id))!;
    const b = (await h.store.ledger.get(exclusive.id))!;
    expect(a.usage).toEqual(usage({ inputTokens: 500, cacheReadTokens: 2000, cacheWrite5mTokens: 500, outputTokens: 80 }));
    expect(a.tags['otel_input']).toBeUndefined();
    expect(b.usage).toEqual(usage({ inputTokens: 10, cacheReadTokens: 2000, cacheWrite5mTokens: 500, outputTokens: 80 }));
    expect(b.tags['otel_input']).toBe('exclusive');
    expect(a.effectiveCostNano).toBe(pricer.price('anthropic', 'claude-sonnet-4-5', a.usage, T0).effectiveNano);

    const bedrock = await send('chat', { 'gen_ai.provider.name': 'aws.bedrock', 'gen_ai.request.model': 'anthropic.claude-3-haiku-20240307-v1:0', 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 10 });
    const r = (await h.store.ledger.get(bedrock.id))!;
    expect(r.provider).toBe('aws');
    expect(r.effectiveCostNano).toBe(pricer.price('aws', 'anthropic.claude-3-haiku-20240307-v1:0', r.usage, T0).effectiveNano);
  });

  it('a re-export of the same spans adds nothing', async () => {
    const before = await h.store.ledger.totals({});
    const spans: ReadableSpan[] = memory.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(2);
    const result = await new Promise<{ code: number }>((resolve) => exporter.export(spans, resolve));
    expect(result.code).toBe(0);
    expect(await h.store.ledger.totals({})).toEqual(before);
  });

  it('ignores spans that are not model calls: agent roll-ups, tools, plain HTTP', async () => {
    const before = await h.store.ledger.totals({});
    await send('invoke_agent support', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 5000, 'gen_ai.usage.output_tokens': 900 });
    await send('execute_tool lookup', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup' });
    await send('GET /health', { 'http.request.method': 'GET' });
    expect(await h.store.ledger.totals({})).toEqual(before);
    const r = await post(rawExport({ 'http.request.method': 'GET' }));
    expect(r).toEqual({ status: 200, json: {} });
  });
});

describe('never counted twice with the gateway', () => {
  it("skips a span of a call made through the gateway: by the gateway's request id, or by the gateway's own address", async () => {
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${h.secret}` }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-tollgate-request-id')!;
    await h.gateway.writer.flush();
    const gatewayRow = (await h.store.ledger.get(requestId))!;
    expect(gatewayRow.tags['source']).toBeUndefined();
    const before = await h.store.ledger.totals({});

    const { hostname, port } = new URL(h.url);
    const usageAttrs = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': gatewayRow.usage.inputTokens, 'gen_ai.usage.output_tokens': gatewayRow.usage.outputTokens };
    const byAddress = await send('chat gpt-4o-mini', { ...usageAttrs, 'server.address': hostname, 'server.port': Number(port) });
    const byId = await send('chat gpt-4o-mini', { ...usageAttrs, 'server.address': 'llm.internal', 'tollgate.request_id': requestId });
    expect(await h.store.ledger.get(byAddress.id)).toBeNull();
    expect(await h.store.ledger.get(byId.id)).toBeNull();
    expect(await h.store.ledger.totals({})).toEqual(before);

    const raw = await post(rawExport({ ...usageAttrs, 'tollgate.request_id': requestId }));
    expect(raw.status).toBe(200);
    expect(raw.json).toEqual({ partialSuccess: { rejectedSpans: 0, errorMessage: expect.stringContaining('went through this gateway') as unknown } });
  });
});

describe('refusals and bad input', () => {
  it('refuses bad spans one by one (OTLP partialSuccess) and records the rest', async () => {
    const good = rawExport(CHAT, {}, { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: 'bbbbbbbbbbbbbbbb' });
    const parsed = JSON.parse(good) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    const spans = parsed.resourceSpans[0]!.scopeSpans[0]!.spans;
    const base = spans[0]!;
    const attrs = base['attributes'] as { key: string; value: unknown }[];
    spans.push({ ...base, spanId: 'cccccccccccccccc', attributes: attrs.map((a) => (a.key === 'gen_ai.usage.output_tokens' ? { key: a.key, value: { intValue: '-5' } } : a)) });
    spans.push({ ...base, spanId: 'dddddddddddddddd', attributes: attrs.filter((a) => !a.key.endsWith('.model')) });
    spans.push({ ...base, spanId: 'xyz' });
    const r = await post(JSON.stringify(parsed));
    expect(r.status).toBe(200);
    const ps = r.json['partialSuccess'] as { rejectedSpans: number; errorMessage: string };
    expect(ps.rejectedSpans).toBe(3);
    expect(ps.errorMessage).toContain('gen_ai.usage.output_tokens must be a whole number');
    expect(ps.errorMessage).toContain('names its model');
    expect(ps.errorMessage).toContain('spanId must be 16 hex digits');
    expect(await h.store.ledger.get('otel_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb')).not.toBeNull();
    expect(await h.store.ledger.get('otel_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaacccccccccccccccc')).toBeNull();
  });

  it("a key books spans on its own agent only: another scope in tollgate.scope is refused", async () => {
    const { secret } = await createKey(h.store, { scope: 'acme/sales/outreach/mailer', name: 'other', actor: 'test' });
    await h.gateway.keys.reload();
    const body = rawExport(CHAT, { 'tollgate.scope': AGENT }, { traceId: 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', spanId: 'ffffffffffffffff' });
    const r = await post(body, { authorization: `Bearer ${secret}` });
    expect(r.status).toBe(200);
    expect(r.json['partialSuccess']).toEqual({ rejectedSpans: 1, errorMessage: expect.stringContaining("is not this key's agent (acme/sales/outreach/mailer)") as unknown });
    expect(await h.store.ledger.get('otel_eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeffffffffffffffff')).toBeNull();
  });

  it('answers malformed exports, protobuf and missing keys with a clear google.rpc.Status', async () => {
    const notJson = await post('{"resourceSpans": [');
    expect(notJson.status).toBe(400);
    expect(notJson.json).toEqual({ code: 3, message: expect.stringContaining('not valid JSON') as unknown });

    const wrongShape = await post('{"resourceSpans": 5}');
    expect(wrongShape).toEqual({ status: 400, json: { code: 3, message: 'resourceSpans must be a JSON array' } });

    const array = await post('[]');
    expect(array.status).toBe(400);
    expect(array.json['message']).toContain('ExportTraceServiceRequest');

    const proto = await fetch(`${h.url}/v1/otlp/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${h.secret}` }, body: new Uint8Array([10, 0]) });
    expect(proto.status).toBe(415);
    expect(await proto.json()).toEqual({ code: 3, message: expect.stringContaining('http/json') as unknown });

    const gzip = await fetch(`${h.url}/v1/otlp/traces`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${h.secret}` }, body: new Uint8Array([31, 139, 8, 0]) });
    expect(gzip.status).toBe(415);
    expect(await gzip.json()).toEqual({ code: 3, message: expect.stringContaining('COMPRESSION=none') as unknown });

    const anonymous = await fetch(`${h.url}/v1/otlp/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: rawExport(CHAT) });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ code: 16, message: expect.stringContaining('missing virtual key') as unknown });
  });
});
