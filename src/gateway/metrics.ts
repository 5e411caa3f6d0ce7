/**
 * Prometheus metrics for `GET /metrics`: spend, tokens, requests, refusals and latency per agent
 * scope, plus gateway health. Label sets are capped (clients choose model names, and a large org has
 * many agents): past the cap a value is reported as `_other` and the overflow is counted, so a
 * scrape never grows without bound. The hot path is a few map lookups and counter increments.
 *
 * Spend is counted in nano-USD: Prometheus counters are float64, which hold integers exactly up to
 * 2^53, i.e. about $9.0M per series between restarts; past that a step is 2 nano-USD, still exact to
 * the cent. The ledger stays the source of truth for money; these are for dashboards and alerts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorCode } from '../domain/errors.ts';
import { TollgateError } from '../domain/errors.ts';
import type { ScopeChain } from '../domain/scope.ts';
import { hashesEqual, hashKey } from '../domain/virtual-key.ts';
import type { SpanOutcome } from '../ingest/otlp/otlp-route.ts';
import type { LedgerEvent, ResolvedKey } from '../ledger/contract.ts';

export interface MetricsOptions {
  /** Bearer token Prometheus scrapes with (besides the admin key); null or absent: admin key only. */
  token?: string | null;
  /** Distinct agent scopes labelled before the rest report as `_other` (default 1,000). */
  maxScopes?: number;
  /** Distinct models labelled (default 200). */
  maxModels?: number;
  /** Distinct (scope, provider, model) series before new scopes fold into `_other` (default 10,000). */
  maxSeries?: number;
}

/** What the health gauges read at scrape time. */
export interface GatewayHealth {
  countersUp(): boolean;
  ledgerPending(): number;
  /** Bytes of ledger rows waiting in the local spool for the database (0 when it is reachable). */
  spoolBytes(): number;
  inFlight(): number;
  keysCached(): number;
}

export const OTHER = '_other';
const NO_SCOPE = '_none';
const TOKEN_TYPES = ['input', 'cache_read', 'cache_write', 'output', 'reasoning'] as const;

interface CallSeries {
  spend: Counter.Internal;
  tokens: Counter.Internal[];
}

interface ScopeSeries {
  latency: Histogram.Internal<string>;
  requests: Map<string, Counter.Internal>;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #maxScopes: number;
  readonly #maxModels: number;
  readonly #maxSeries: number;
  readonly #spend: Counter<string>;
  readonly #tokens: Counter<string>;
  readonly #requests: Counter<string>;
  readonly #refusals: Counter<string>;
  readonly #latency: Histogram<string>;
  readonly #spans: Counter<string>;
  readonly #overflow: Counter<string>;
  /** agent id → scope label (the agent's path, or `_other` past the cap). */
  readonly #scopes = new Map<string, string>();
  readonly #models = new Set<string>();
  readonly #providers = new Set<string>();
  readonly #calls = new Map<string, CallSeries>();
  readonly #perScope = new Map<string, ScopeSeries>();

  constructor(health: GatewayHealth, opts: MetricsOptions = {}) {
    this.#maxScopes = opts.maxScopes ?? 1_000;
    this.#maxModels = opts.maxModels ?? 200;
    this.#maxSeries = opts.maxSeries ?? 10_000;
    const registers = [this.registry];
    this.#spend = new Counter({ name: 'tollgate_spend_nano_usd_total', help: 'Effective cost of gateway calls, nano-USD (1e-9 USD)', labelNames: ['scope', 'provider', 'model'], registers });
    this.#tokens = new Counter({ name: 'tollgate_tokens_total', help: 'Tokens of gateway calls by type (input is the full-rate part; cache_read and cache_write are apart; reasoning is part of output)', labelNames: ['scope', 'provider', 'model', 'type'], registers });
    this.#requests = new Counter({ name: 'tollgate_requests_total', help: 'Gateway calls that reached a provider, by status class of the answer', labelNames: ['scope', 'status_class'], registers });
    this.#refusals = new Counter({ name: 'tollgate_refusals_total', help: 'Error answers the gateway gave itself (budget_exceeded, rate_limited, killed, key_invalid, upstream_timeout, …)', labelNames: ['scope', 'code'], registers });
    this.#latency = new Histogram({ name: 'tollgate_request_duration_seconds', help: 'Gateway call duration, request to last byte', labelNames: ['scope'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180], registers });
    this.#spans = new Counter({ name: 'tollgate_otel_spans_total', help: 'OpenTelemetry spans received on /v1/otlp/traces, by outcome', labelNames: ['outcome'], registers });
    this.#overflow = new Counter({ name: 'tollgate_metrics_label_overflow_total', help: 'Observations reported as _other because a label cap was reached', labelNames: ['label'], registers });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('tollgate_counters_up', '1 when the budget and rate-limit counters answer, else 0', () => (health.countersUp() ? 1 : 0));
    gauge('tollgate_ledger_pending_rows', 'Ledger rows waiting for their group commit', () => health.ledgerPending());
    gauge('tollgate_ledger_spool_bytes', 'Bytes of ledger rows spooled to local disk while the database is unreachable (alert when above 0)', () => health.spoolBytes());
    gauge('tollgate_in_flight_calls', 'Proxied calls in progress (streams included)', () => health.inFlight());
    gauge('tollgate_virtual_keys_cached', 'Virtual keys held by the in-memory key cache', () => health.keysCached());
    collectDefaultMetrics({ register: this.registry });
  }

  /** One priced gateway call, as its ledger row is written: the proxy's observe hook. */
  observe(event: LedgerEvent): void {
    const scope = this.#scope(event.chain);
    const provider = this.#capped(this.#providers, event.provider, 50, 'provider');
    const model = this.#capped(this.#models, event.servedModel, this.#maxModels, 'model');
    const calls = this.#series(scope, provider, model);
    calls.spend.inc(Number(event.effectiveCostNano));
    const u = event.usage;
    const counts = [u.inputTokens, u.cacheReadTokens, u.cacheWrite5mTokens + u.cacheWrite1hTokens, u.outputTokens, u.reasoningTokens];
    for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) calls.tokens[i]!.inc(counts[i]);
    const s = this.#scopeSeries(scope);
    const status = `${Math.floor(event.status / 100)}xx`;
    let requests = s.requests.get(status);
    if (!requests) s.requests.set(status, (requests = this.#requests.labels(scope, status)));
    requests.inc();
    s.latency.observe(event.latencyMs / 1000);
  }

  /** An error the gateway answered itself; `chain` when the caller's key was known. */
  refusal(code: ErrorCode, chain: ScopeChain | null): void {
    this.#refusals.labels(chain ? this.#scope(chain) : NO_SCOPE, code).inc();
  }

  /** Spans received on the OTLP route, by outcome. */
  spans(outcome: SpanOutcome, n: number): void {
    if (n > 0) this.#spans.labels(outcome).inc(n);
  }

  #scope(chain: ScopeChain): string {
    let label = this.#scopes.get(chain.agentId);
    if (label === undefined) {
      if (this.#scopes.size >= this.#maxScopes) {
        this.#overflow.labels('scope').inc();
        return OTHER;
      }
      label = `${chain.orgName}/${chain.teamName}/${chain.projectName}/${chain.agentName}`;
      this.#scopes.set(chain.agentId, label);
    }
    return label;
  }

  #capped(seen: Set<string>, value: string, max: number, label: string): string {
    if (seen.has(value)) return value;
    if (seen.size >= max) {
      this.#overflow.labels(label).inc();
      return OTHER;
    }
    seen.add(value);
    return value;
  }

  #series(scope: string, provider: string, model: string): CallSeries {
    const key = `${scope}\0${provider}\0${model}`;
    let s = this.#calls.get(key);
    if (s) return s;
    if (this.#calls.size >= this.#maxSeries && scope !== OTHER) {
      this.#overflow.labels('series').inc();
      return this.#series(OTHER, provider, model);
    }
    s = { spend: this.#spend.labels(scope, provider, model), tokens: TOKEN_TYPES.map((t) => this.#tokens.labels(scope, provider, model, t)) };
    this.#calls.set(key, s);
    return s;
  }

  #scopeSeries(scope: string): ScopeSeries {
    let s = this.#perScope.get(scope);
    if (!s) this.#perScope.set(scope, (s = { latency: this.#latency.labels(scope), requests: new Map() }));
    return s;
  }
}

export interface MetricsRouteDeps {
  adminKey: string | null;
  /** The dedicated scrape token; null: the admin key only. */
  token: string | null;
  /** The gateway's mapping of anything thrown to the error the client sees. */
  toError: (err: unknown) => TollgateError;
}

/** The agent chain of the key a request authenticated with, as the proxy leaves it on the request. */
export function chainOf(req: FastifyRequest): ScopeChain | null {
  return (req as FastifyRequest & { tollgateKey?: ResolvedKey }).tollgateKey?.chain ?? null;
}

/**
 * `GET /metrics` in the Prometheus text format, and the count of every error answer by code.
 * Scrapes authenticate with `Authorization: Bearer` and the metrics token or the admin key; with
 * neither configured, only loopback callers are served.
 */
export function registerMetrics(app: FastifyInstance, metrics: GatewayMetrics, deps: MetricsRouteDeps): void {
  const secrets = [deps.adminKey, deps.token].filter((s): s is string => s !== null && s !== '').map(hashKey);
  // onError runs for every error answer (before the error handler renders it), hooks never for 404s of unknown routes.
  app.addHook('onError', async (req, _reply, err) => {
    metrics.refusal(deps.toError(err).code, chainOf(req));
  });
  app.get('/metrics', async (req, reply) => {
    allowScrape(req, secrets);
    const body = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
}

function allowScrape(req: FastifyRequest, secrets: string[]): void {
  if (secrets.length === 0) {
    const from = req.socket.remoteAddress ?? '';
    if (from === '127.0.0.1' || from === '::1' || from === '::ffff:127.0.0.1') return;
    throw new TollgateError('forbidden', '/metrics is served to loopback only: set metrics.token (or TOLLGATE_METRICS_TOKEN) or TOLLGATE_ADMIN_KEY to scrape it from elsewhere');
  }
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new TollgateError('unauthenticated', '/metrics needs "Authorization: Bearer <metrics token or admin key>"');
  const presented = hashKey(m[1]!.trim());
  // Both compared, always: timing never tells which secret was close.
  let ok = false;
  for (const s of secrets) ok = hashesEqual(presented, s) || ok;
  if (!ok) throw new TollgateError('unauthenticated', 'wrong metrics token');
}
