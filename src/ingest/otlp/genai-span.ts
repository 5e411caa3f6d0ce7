/**
 * One OpenTelemetry GenAI span as a priced ledger row, or why it is not one.
 *
 * https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ — `gen_ai.usage.input_tokens`
 * "SHOULD include all types of input tokens, including cached tokens", and the cache read and cache
 * creation counts "SHOULD be included in gen_ai.usage.input_tokens". The ledger's input buckets are
 * disjoint, so full-rate input = input_tokens − cache_read − cache_creation. An input_tokens smaller
 * than the cache parts cannot be that total (older instrumentations copied Anthropic's own
 * `input_tokens`, which excludes the cache): it is then taken as the full-rate part as it stands and
 * the row is tagged `otel_input=exclusive`. Either way every token is priced once.
 */
import type { ScopeChain } from '../../domain/scope.ts';
import type { Usage } from '../../domain/usage.ts';
import { usage as makeUsage } from '../../domain/usage.ts';
import type { LedgerEvent } from '../../ledger/contract.ts';
import type { Pricer } from '../../pricing/index.ts';
import type { Attrs, OtlpSpan } from './otlp-json.ts';

/** What a span became: a row, a span that is not a model call (ignored), one the gateway already metered, or a refusal. */
export type SpanVerdict =
  | { kind: 'event'; event: LedgerEvent }
  | { kind: 'ignored' }
  | { kind: 'gateway'; requestId: string | null }
  | { kind: 'rejected'; reason: string };

export interface SpanContext {
  chain: ScopeChain;
  keyId: string;
  /** `host:port` (and `host` alone) the exporter reached this gateway at: a span whose server is this one was metered here. */
  gatewayHosts: ReadonlySet<string>;
}

// gen_ai.provider.name (and the deprecated gen_ai.system) → the price catalog's provider id. Unlisted names are passed as they are.
const PROVIDERS: Readonly<Record<string, string>> = {
  'aws.bedrock': 'aws',
  'az.ai.openai': 'azure',
  'azure.ai.openai': 'azure',
  'azure.ai.inference': 'azure',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  gemini: 'google',
  vertex_ai: 'google',
  mistral_ai: 'mistral',
  x_ai: 'x-ai',
  xai: 'x-ai',
};

/** Operations that are model calls; agent and tool spans (invoke_agent, execute_tool, …) may carry roll-ups of their children's usage. */
const MODEL_CALLS = new Set(['chat', 'text_completion', 'generate_content', 'embeddings']);

/** Prefix of ledger ids made from spans; the rest is the trace and span id, so a re-sent span is the same row. */
export const OTEL_ID_PREFIX = 'otel_';

export function spanToEvent(span: OtlpSpan, ctx: SpanContext, pricer: Pricer): SpanVerdict {
  const a = span.attributes;
  const input = count(a, 'gen_ai.usage.input_tokens');
  const output = count(a, 'gen_ai.usage.output_tokens');
  if (input === undefined && output === undefined) return { kind: 'ignored' };
  const operation = str(a, 'gen_ai.operation.name');
  if (operation !== undefined && !MODEL_CALLS.has(operation)) return { kind: 'ignored' };

  // Never counted twice: a call made through this gateway already has its row (see README, "OpenTelemetry spans").
  const requestId = str(a, 'tollgate.request_id');
  if (requestId !== undefined) return { kind: 'gateway', requestId };
  const server = str(a, 'server.address');
  if (server !== undefined) {
    const port = a.get('server.port');
    const target = (port === undefined ? server : `${server}:${String(port)}`).toLowerCase();
    if (ctx.gatewayHosts.has(target)) return { kind: 'gateway', requestId: null };
  }

  const where = `span ${span.traceId}/${span.spanId}`;
  const cacheRead = count(a, 'gen_ai.usage.cache_read.input_tokens');
  const cacheWrite = count(a, 'gen_ai.usage.cache_creation.input_tokens');
  const reasoning = count(a, 'gen_ai.usage.reasoning.output_tokens');
  for (const [name, v] of [['input_tokens', input], ['output_tokens', output], ['cache_read.input_tokens', cacheRead], ['cache_creation.input_tokens', cacheWrite], ['reasoning.output_tokens', reasoning]] as const) {
    if (v === null) return { kind: 'rejected', reason: `${where}: gen_ai.usage.${name} must be a whole number of tokens, 0 or more` };
  }
  const requestModel = str(a, 'gen_ai.request.model');
  const responseModel = str(a, 'gen_ai.response.model');
  const model = responseModel ?? requestModel;
  if (model === undefined) return { kind: 'rejected', reason: `${where}: a priced span names its model (gen_ai.response.model or gen_ai.request.model)` };
  const providerName = str(a, 'gen_ai.provider.name') ?? str(a, 'gen_ai.system');
  if (providerName === undefined) return { kind: 'rejected', reason: `${where}: a priced span names its provider (gen_ai.provider.name)` };

  // Null (malformed) was refused above; `?? 0` only fills in absent counts.
  const [totalIn, out, read, write] = [input ?? 0, output ?? 0, cacheRead ?? 0, cacheWrite ?? 0];
  const inclusive = totalIn >= read + write;
  const u: Usage = makeUsage({
    inputTokens: inclusive ? totalIn - read - write : totalIn,
    cacheReadTokens: read,
    // OTel has one cache-write count; Anthropic's default (5-minute) TTL is the one it prices.
    cacheWrite5mTokens: write,
    outputTokens: out,
    reasoningTokens: Math.min(reasoning ?? 0, out),
  });
  const provider = PROVIDERS[providerName.toLowerCase()] ?? providerName.toLowerCase();
  const startedAt = Number(span.startNano / 1_000_000n);
  const endedAt = Number(span.endNano / 1_000_000n);
  const quote = pricer.price(provider, model, u, startedAt);
  const httpStatus = a.get('http.response.status_code');
  const status = typeof httpStatus === 'bigint' && httpStatus >= 100n && httpStatus < 600n ? Number(httpStatus) : span.statusCode === 2 ? 500 : 200;
  const errorType = str(a, 'error.type');
  const tags: Record<string, string> = { source: 'otel' };
  const service = str(span.resource, 'service.name');
  if (service !== undefined) tags['otel_service'] = service.slice(0, 200);
  const agentId = str(a, 'gen_ai.agent.id') ?? str(span.resource, 'gen_ai.agent.id');
  if (agentId !== undefined) tags['otel_agent_id'] = agentId.slice(0, 200);
  if (!inclusive) tags['otel_input'] = 'exclusive';
  return {
    kind: 'event',
    event: {
      id: `${OTEL_ID_PREFIX}${span.traceId}${span.spanId}`,
      startedAt,
      endedAt,
      chain: ctx.chain,
      keyId: ctx.keyId,
      provider,
      requestedModel: requestModel ?? model,
      servedModel: model,
      route: 'otel',
      status,
      errorCode: errorType ?? (status >= 400 ? 'upstream_error' : null),
      usage: u,
      listCostNano: quote.listNano,
      effectiveCostNano: quote.effectiveNano,
      priceSource: quote.source,
      latencyMs: endedAt - startedAt,
      stream: false,
      estimated: false,
      traceId: span.traceId,
      tags,
    },
  };
}

function str(a: Attrs, key: string): string | undefined {
  const v = a.get(key);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** A token count: undefined when absent, null when present but not a non-negative safe integer. */
function count(a: Attrs, key: string): number | null | undefined {
  const v = a.get(key);
  if (v === undefined) return undefined;
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}
