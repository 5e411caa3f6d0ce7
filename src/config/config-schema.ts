/**
 * tollgate.yaml. Every section is optional: with no file at all Tollgate runs on the embedded
 * default (SQLite file, in-process counters, built-in simulator upstream).
 */
import { z } from 'zod';
import { alertsConfigSchema } from '../alerts/config.ts';
import { routingConfigSchema } from '../gateway/routing/routing-config.ts';
import { pricingConfigSchema } from '../pricing/index.ts';

/** A port as a number, or as the digits `${PORT}` expands to (expansion always yields a string). */
const port = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
  z
    .number({ error: (iss) => `port must be a whole number from 0 to 65535, got ${JSON.stringify(iss.input)}` })
    .int('port must be a whole number from 0 to 65535')
    .min(0, 'port must be a whole number from 0 to 65535')
    .max(65_535, 'port must be a whole number from 0 to 65535'),
);

const provider = z.strictObject({
  /** Where the upstream API lives, e.g. https://api.openai.com/v1. */
  base_url: z.url({ protocol: /^https?$/, error: 'base_url must be an http(s) URL' }),
  /** The provider credential; usually `${OPENAI_API_KEY}`. Never returned or logged. */
  api_key: z.string().optional(),
  /** Wire format the upstream speaks; defaults to the provider id's own (openai-compatible otherwise). */
  api: z.enum(['openai', 'anthropic']).optional(),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      port: port.optional(),
      host: z.string().optional(),
    })
    .optional(),
  /** A file path (SQLite) or postgres:// URL; TOLLGATE_DB and --db take precedence. */
  database: z.string().optional(),
  /** redis:// URL for counters shared across replicas; TOLLGATE_REDIS takes precedence. */
  redis: z.string().optional(),
  // zod 4 reports a bad record key as a bare "Invalid key in record": the message goes on the record itself.
  providers: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), provider, {
      error: (iss) => (iss.code === 'invalid_key' ? `provider ids are lower-case slugs (a-z, 0-9, "-", "_"), got ${JSON.stringify(iss.input)}` : undefined),
    })
    .optional(),
  pricing: pricingConfigSchema.optional(),
  /** Model aliases: `fast: openai/gpt-4.1-mini` routes requests for model "fast" there. */
  models: z.record(z.string().min(1), z.string().regex(/^[a-z0-9][a-z0-9_-]*\/.+$/, 'an alias target is provider/model, e.g. openai/gpt-4.1-mini')).optional(),
  /** Routed models: `auto: { tiers: [{ name: budget, model: … }, { name: frontier, model: … }], rules, escalate_on, policies }`. */
  routing: routingConfigSchema.optional(),
  gateway: z
    .strictObject({
      /** Largest request body accepted, in bytes (default 8 MiB). */
      body_limit: z.number().int().positive().optional(),
      /** Upstream time to first byte before giving up, in ms (default 600 000: long generations are normal). */
      upstream_timeout_ms: z.number().int().positive().optional(),
      /** On SIGTERM/SIGINT, how long calls in flight may take to finish before they are cut, in ms (default 30 000). */
      shutdown_timeout_ms: z.number().int().min(0).max(3_600_000).optional(),
    })
    .optional(),
  /** The ledger writer. */
  ledger: z
    .strictObject({
      /** Where ledger rows wait, fsync'd, while the database is unreachable; replayed exactly once when it is back. */
      spool: z
        .strictObject({
          /** false: no spool, a row the database cannot take is logged and lost (default true). */
          enabled: z.boolean().optional(),
          /** Local directory of the spool files (default: `spool/` beside a SQLite file, else ./tollgate-data/spool). */
          dir: z.string().min(1).optional(),
          /** Spool size from which model calls are refused with 503 rather than go unrecorded, in bytes (default 268 435 456: 256 MiB). */
          max_bytes: z.number().int().min(1024).optional(),
          /** A ledger write not committed within this many ms is spooled instead (default 10 000). */
          write_timeout_ms: z.number().int().min(100).max(600_000).optional(),
          /** How often replaying the spool is tried while rows wait in it, in ms (default 2 000). */
          retry_ms: z.number().int().min(50).max(600_000).optional(),
        })
        .optional(),
    })
    .optional(),
  controls: z
    .strictObject({
      /** IANA zone calendar budget periods are aligned in when a budget names none (default UTC). */
      time_zone: z.string().optional(),
      /** Hash tag of the counters' Redis keys, so several deployments can share one Redis (default tollgate). */
      redis_prefix: z.string().regex(/^[\w.:-]+$/, 'redis_prefix is letters, digits, "_", ".", ":" or "-"').optional(),
      /** How long a reservation lives unless its call renews it, in ms (default 60 000). */
      lease_ms: z.number().int().min(500).max(3_600_000).optional(),
    })
    .optional(),
  anomalies: z
    .strictObject({
      /** Watch every team, project and agent against its own baseline (default true). */
      enabled: z.boolean().optional(),
      /** How often the detector is evaluated, in seconds (default 60). */
      evaluate_every_s: z.number().min(1).max(3600).optional(),
      /** Detector bands and minimum volumes, snake_case (e.g. `tiers: { agent: { spend_spike_ratio: 3 } }`); checked at start-up. */
      detector: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  /** Where anomaly notifications go: signed webhooks and Slack-compatible incoming webhooks. */
  alerts: alertsConfigSchema.optional(),
  /** `GET /metrics` (Prometheus): who may scrape, and the label caps. */
  metrics: z
    .strictObject({
      /** Bearer token Prometheus scrapes with, e.g. `${TOLLGATE_METRICS_TOKEN}`; the admin key works too. Without either, loopback only. */
      token: z.string().min(16, 'metrics.token must be at least 16 characters (is its ${VAR} set?)').optional(),
      /** Agent scopes labelled before the rest report as `_other` (default 1,000). */
      max_scopes: z.number().int().min(1).max(100_000).optional(),
      /** Models labelled (default 200). */
      max_models: z.number().int().min(1).max(10_000).optional(),
      /** (scope, provider, model) series before new scopes fold into `_other` (default 10,000). */
      max_series: z.number().int().min(1).max(1_000_000).optional(),
    })
    .optional(),
  /** Which provider keys, projects and workspaces are the gateway's own: billed usage on any other is a bypass. */
  reconcile: z
    .strictObject({
      openai: z.strictObject({ gateway_api_key_ids: z.array(z.string().min(1)).optional(), gateway_project_ids: z.array(z.string().min(1)).optional() }).optional(),
      anthropic: z.strictObject({ gateway_api_key_ids: z.array(z.string().min(1)).optional(), gateway_workspace_ids: z.array(z.string().min(1)).optional() }).optional(),
      /** How far billed and recorded tokens or cost may differ before it is a finding, in percent (default 1). */
      tolerance_pct: z.number().min(0).max(100).optional(),
    })
    .optional(),
});

export type TollgateConfig = z.output<typeof configSchema>;
