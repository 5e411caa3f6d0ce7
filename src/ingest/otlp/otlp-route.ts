/**
 * `POST /v1/otlp/traces`: OpenTelemetry GenAI spans from agents that call providers directly,
 * priced into the ledger beside the gateway's own rows. OTLP/HTTP with JSON bodies; answers in
 * OTLP's shapes (an `ExportTraceServiceResponse`, or a `google.rpc.Status` on error).
 *
 * Attribution: the agent virtual key in `Authorization: Bearer tg-…` owns every span it sends. A
 * resource attribute `tollgate.scope` may name that agent's path; naming any other scope refuses the
 * resource's spans (a key never books spend on someone else).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TollgateError } from '../../domain/errors.ts';
import type { KeyCache } from '../../gateway/key-cache.ts';
import { presentedKey } from '../../gateway/proxy.ts';
import type { LedgerEvent, Store } from '../../ledger/contract.ts';
import type { Pricer } from '../../pricing/index.ts';
import type { SpanVerdict } from './genai-span.ts';
import { spanToEvent } from './genai-span.ts';
import { readExport } from './otlp-json.ts';

export type SpanOutcome = 'recorded' | 'duplicate' | 'gateway' | 'ignored' | 'rejected';

export interface OtlpRouteDeps {
  store: Store;
  keys: KeyCache;
  pricer: Pricer;
  /** The gateway's own mapping of Fastify errors (body too large, bad JSON, wrong content type). */
  toError: (err: unknown) => TollgateError;
  /** Counts spans by outcome (metrics); must be cheap and never throw. */
  countSpans?: (outcome: SpanOutcome, n: number) => void;
}

/** https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto — what OTLP error bodies carry. */
const GRPC_CODE: Readonly<Record<number, number>> = { 400: 3, 401: 16, 403: 7, 404: 5, 413: 3, 415: 3, 429: 8, 503: 14 };

export const OTLP_TRACES_PATH = '/v1/otlp/traces';

export function registerOtlpRoutes(app: FastifyInstance, deps: OtlpRouteDeps): void {
  const count = deps.countSpans ?? (() => undefined);
  const errorHandler = (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
    let e = deps.toError(err);
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      e = new TollgateError('unsupported_media_type', 'OTLP/HTTP protobuf is not accepted here: export JSON (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json, or @opentelemetry/exporter-trace-otlp-http) with "Content-Type: application/json"');
    }
    void reply.code(e.status).send({ code: GRPC_CODE[e.status] ?? 13, message: e.message });
  };

  // Compressed bodies would fail as "not valid JSON": say what to change instead.
  const onRequest = (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    const encoding = req.headers['content-encoding'];
    if (encoding === undefined || encoding === 'identity') return done();
    done(new TollgateError('unsupported_media_type', `Content-Encoding "${encoding}" is not accepted here: export uncompressed (OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=none)`));
  };

  app.post(OTLP_TRACES_PATH, { errorHandler, onRequest }, async (req) => {
    const key = await deps.keys.authenticate(presentedKey(req));
    const chain = key.chain;
    if (!chain) throw new TollgateError('key_invalid', `${key.display} is not bound to an agent; span ingest needs an agent key`);
    const gatewayHosts = hostsOf(req.headers.host);
    const events: LedgerEvent[] = [];
    const reasons: string[] = [];
    let rejected = 0;
    let ignored = 0;
    let gateway = 0;
    for (const read of readExport(req.body)) {
      if (!read.ok) {
        rejected++;
        reasons.push(read.reason);
        continue;
      }
      const claimed = read.span.resource.get('tollgate.scope');
      if (claimed !== undefined && claimed !== key.scopePath) {
        rejected++;
        reasons.push(`resource attribute tollgate.scope="${String(claimed)}" is not this key's agent (${key.scopePath}); a key books spans on its own agent only`);
        continue;
      }
      let verdict: SpanVerdict;
      try {
        verdict = spanToEvent(read.span, { chain, keyId: key.id, gatewayHosts }, deps.pricer);
      } catch (err) {
        verdict = { kind: 'rejected', reason: (err as Error).message };
      }
      if (verdict.kind === 'event') events.push(verdict.event);
      else if (verdict.kind === 'rejected') {
        rejected++;
        reasons.push(verdict.reason);
      } else if (verdict.kind === 'gateway') gateway++;
      else ignored++;
    }

    let duplicates = 0;
    if (events.length > 0) {
      try {
        // Idempotent by id (trace id + span id): an exporter's retry, or a re-sent batch, adds nothing.
        duplicates = (await deps.store.ledger.record(events)).duplicates;
      } catch (err) {
        // 503 is one of the statuses OTLP exporters retry; the retry is safe for the same reason.
        throw new TollgateError('unavailable', 'the ledger is unreachable; the exporter may retry this batch', { cause: err });
      }
    }
    count('recorded', events.length - duplicates);
    count('duplicate', duplicates);
    count('gateway', gateway);
    count('ignored', ignored);
    count('rejected', rejected);

    if (rejected === 0 && gateway === 0) return {};
    const notes = [...new Set(reasons)].slice(0, 5);
    if (reasons.length > notes.length) notes.push(`… ${reasons.length - notes.length} more`);
    if (gateway > 0) notes.push(`${gateway} span(s) skipped: the call went through this gateway, which already metered it`);
    return { partialSuccess: { rejectedSpans: rejected, errorMessage: notes.join('; ') } };
  });
}

/** The forms a span's `server.address[:server.port]` takes when its call went to the host the exporter reached. */
function hostsOf(host: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!host) return out;
  const h = host.trim().toLowerCase();
  out.add(h);
  if (!/:\d+$/.test(h)) {
    out.add(`${h}:80`);
    out.add(`${h}:443`);
  }
  return out;
}
