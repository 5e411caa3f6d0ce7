import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { reissueKey } from '../../admin/create-key.ts';
import { DEMO_KEY_SCOPE } from './demo.ts';
import { DEMO_ROUTING } from '../../demo/demo-routing.ts';
import { seedDemo } from '../../demo/seed-demo.ts';
import { startDemoTraffic } from '../../demo/demo-traffic.ts';
import { TollgateError } from '../../domain/errors.ts';
import { AlertDispatcher, alertsConfigSchema, spoolAlertListener } from '../../alerts/index.ts';
import { Detector } from '../../analytics/anomalies/detector.ts';
import type { DetectorOptionsInput } from '../../analytics/anomalies/options.ts';
import type { TollgateConfig } from '../../config/config-schema.ts';
import type { GatewayOptions } from '../../gateway/server.ts';
import { buildGateway } from '../../gateway/server.ts';
import type { Store } from '../../ledger/contract.ts';
import { LedgerSpool } from '../../ledger/spool/ledger-spool.ts';
import type { ProviderConfig } from '../../gateway/upstreams.ts';
import { createUpstreams } from '../../gateway/upstreams.ts';
import { startSimulator } from '../../providers/simulator/index.ts';
import type { CliContext } from '../context.ts';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('run the gateway (demo mode with the built-in simulator when no provider is configured)')
    .option('--port <n>', 'listen port (default $TOLLGATE_PORT, the config\'s server.port, or 8787)', port)
    .option('--host <host>', 'listen address (default 127.0.0.1)')
    .option('--demo', 'use the built-in simulator as upstream, with a demo organisation, keys and live traffic')
    .option('--no-traffic', 'in demo mode, do not generate live traffic')
    .action(async (o: { port?: number; host?: string; demo?: boolean; traffic: boolean }) => {
      const { config, unsetEnv } = ctx.config();
      const store = await ctx.store();
      const configured = Object.keys(config.providers ?? {}).length > 0;
      const demo = o.demo === true || !configured;
      const listenPort = o.port ?? (ctx.env['TOLLGATE_PORT'] ? port(ctx.env['TOLLGATE_PORT']) : undefined) ?? config.server?.port ?? 8787;
      const host = o.host ?? config.server?.host ?? '127.0.0.1';

      let providers: Record<string, ProviderConfig> = config.providers ?? {};
      const closers: { kind: 'traffic' | 'upstream'; close: () => Promise<void> }[] = [];
      if (demo) {
        const sim = await startSimulator({ latencyMs: 150, chunkDelayMs: 15, recordCalls: false });
        closers.push({ kind: 'upstream', close: () => sim.close() });
        providers = { openai: { base_url: `${sim.url}/v1`, api_key: 'sim-openai' }, anthropic: { base_url: sim.url, api_key: 'sim-anthropic', api: 'anthropic' } };
      } else {
        for (const [id, p] of Object.entries(providers)) {
          if (!p.api_key && !/^http:\/\/(127\.|localhost)/.test(p.base_url)) {
            ctx.io.stderr(`warning: providers.${id} has no api_key${unsetEnv.length > 0 ? ` (unset: ${unsetEnv.join(', ')})` : ''}; its calls will be refused upstream\n`);
          }
        }
      }
      const adminKey = ctx.env['TOLLGATE_ADMIN_KEY'] ?? (demo ? `tga-${randomBytes(24).toString('base64url')}` : null);
      // Demo history goes in before the gateway starts, so the anomaly baselines are seeded from it.
      const seeded = demo ? await seedDemo(store, ctx.pricer(), { now: ctx.now(), days: 90, actor: ctx.actor }) : null;
      const spool = ledgerSpool(config, ctx);
      // One dispatcher for every alert: the anomalies', and the spool's (whose deliveries never wait on the database that is down).
      const alerts = alertDispatcher(config, store, ctx);
      spool?.onAlert(spoolAlertListener(alerts, { database: store.capabilities.dialect }));
      const counters = await ctx.counters({ onError: (err) => ctx.io.stderr(`error: budget counters at ${ctx.redisTarget() ?? ''} unreachable: ${err.message}\n`) });
      const gateway = await buildGateway({
        counters,
        timeZone: ctx.timeZone(),
        ...(config.controls?.lease_ms === undefined ? {} : { leaseMs: config.controls.lease_ms }),
        store,
        ...(spool ? { spool } : {}),
        pricer: ctx.pricer(),
        upstreams: createUpstreams(providers, { headersTimeoutMs: config.gateway?.upstream_timeout_ms }),
        aliases: config.models ?? {},
        // The demo routes too: the triage bot asks for auto-claude, and anyone can try "model": "auto".
        ...(config.routing ? { routing: config.routing } : demo ? { routing: DEMO_ROUTING } : {}),
        adminKey,
        ...(config.gateway?.body_limit ? { bodyLimit: config.gateway.body_limit } : {}),
        logger: { level: ctx.env['TOLLGATE_LOG_LEVEL'] ?? 'warn' },
        anomalies: anomalyWatchOptions(config, alerts),
        ...(config.reconcile ? { reconcile: config.reconcile } : {}),
        metrics: {
          token: ctx.env['TOLLGATE_METRICS_TOKEN'] ?? config.metrics?.token ?? null,
          ...(config.metrics?.max_scopes === undefined ? {} : { maxScopes: config.metrics.max_scopes }),
          ...(config.metrics?.max_models === undefined ? {} : { maxModels: config.metrics.max_models }),
          ...(config.metrics?.max_series === undefined ? {} : { maxSeries: config.metrics.max_series }),
        },
      });
      const address = await gateway.app.listen({ port: listenPort, host }).catch((err: unknown) => {
        throw new TollgateError('unavailable', `cannot listen on ${host}:${listenPort}: ${(err as Error).message} (choose another with --port or TOLLGATE_PORT)`, { cause: err });
      });
      const url = address.replace('[::1]', 'localhost');

      const lines = [`Tollgate gateway on ${url}  (ledger: ${store.location}, ${store.capabilities.dialect}; counters: ${counters.location}${spool ? `; spool: ${spool.path}` : ''})`];
      if (demo) {
        const key = await reissueKey(store, { scope: DEMO_KEY_SCOPE, name: 'demo', actor: ctx.actor });
        await gateway.keys.reload();
        if (o.traffic) {
          const traffic = await startDemoTraffic(store, url, { actor: ctx.actor });
          closers.push({ kind: 'traffic', close: () => traffic.stop() });
        }
        lines.push(
          `Demo mode: upstream is the built-in simulator (no provider configured; no real API is called).`,
          seeded && seeded.inserted > 0
            ? `Seeded ${seeded.inserted.toLocaleString('en')} calls of history (90 days)${seeded.anomalies && seeded.anomalies.found.length > 0 ? `; the anomaly detector found ${seeded.anomalies.found.length} past incidents in it (Anomalies page)` : ''}.`
            : 'Demo history already present.',
          '',
          `Demo key (${DEMO_KEY_SCOPE}), shown once:  ${key.secret}`,
          `Admin key for /api/ (this run only; set TOLLGATE_ADMIN_KEY to fix it):  ${adminKey ?? ''}`,
          '',
          `Dashboard: ${url}/  (sign in with the admin key above; a key that sees one team: tollgate keys create-viewer --scope acme/support)`,
          '',
          'Try it:',
          `  curl -s ${url}/v1/chat/completions -H "Authorization: Bearer ${key.secret}" -H "Content-Type: application/json" \\`,
          `    -d '{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"Hello from Tollgate"}]}'`,
          '',
          `  // OpenAI SDK: new OpenAI({ baseURL: "${url}/v1", apiKey: "${key.secret}" })`,
          `  // Anthropic SDK: new Anthropic({ baseURL: "${url}", apiKey: "${key.secret}" })`,
          '',
          `Each response carries x-tollgate-request-id; the ledger row: curl -s ${url}/api/calls/<id> -H "Authorization: Bearer ${adminKey ?? ''}"`,
          'Spend so far: ./bin/tollgate.js spend --by agent   (Ctrl-C stops the gateway)',
        );
      } else {
        lines.push(`Providers: ${Object.keys(providers).join(', ')}. Point an SDK at ${url}/v1 (OpenAI) or ${url} (Anthropic) with a key from \`tollgate keys create\`.`);
        lines.push(`Dashboard: ${url}/  (sign in with the admin key${adminKey === null ? ': set TOLLGATE_ADMIN_KEY first' : ''} or a viewer key from \`tollgate keys create-viewer\`)`);
      }
      ctx.io.stdout(lines.join('\n') + '\n');

      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const stop = (sig: NodeJS.Signals) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(sig);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      const deadlineMs = config.gateway?.shutdown_timeout_ms ?? 30_000;
      // A second signal while draining means "now": the ledger rows already acknowledged are durable (committed or spooled).
      const again = (sig: NodeJS.Signals) => {
        ctx.io.stderr(`${sig} again: exiting without waiting for calls in flight\n`);
        process.exit(1);
      };
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      ctx.io.stdout(`Stopping (${signal}): no new connections; finishing in-flight calls (up to ${deadlineMs / 1000} s, gateway.shutdown_timeout_ms) and flushing the ledger…\n`);
      // Traffic first, the gateway next (its in-flight calls still need their upstream), the simulator last.
      for (const c of closers.filter((c) => c.kind === 'traffic')) await c.close();
      await gateway.close(deadlineMs);
      // The gateway closed it already when anomaly detection is on (close is idempotent); the spool's last alerts get a few seconds.
      await alerts.close();
      for (const c of closers.filter((c) => c.kind === 'upstream')) await c.close();
      process.off('SIGINT', again);
      process.off('SIGTERM', again);
      const left = spool && spool.bytes > 0 ? ` (${spool.bytes} bytes of ledger rows stay in the spool ${spool.path}, replayed at the next start)` : '';
      ctx.io.stdout(`Stopped: ledger flushed${left}.\n`);
    });
}

/** The spool ledger rows wait in while the database is unreachable; undefined when turned off or for an in-memory database. */
function ledgerSpool(config: TollgateConfig, ctx: CliContext): LedgerSpool | undefined {
  const c = config.ledger?.spool;
  const target = ctx.dbTarget();
  if (c?.enabled === false || target === ':memory:') return undefined;
  const postgres = /^postgres(ql)?:\/\//.test(target);
  // The spool's files are tagged with the database they belong to, so they are never replayed into another.
  const database = postgres ? withoutPassword(target) : resolve(target);
  const dir = c?.dir ?? (postgres ? resolve('tollgate-data', 'spool') : resolve(dirname(database), 'spool'));
  return LedgerSpool.open({
    dir,
    database,
    ...(c?.max_bytes === undefined ? {} : { maxBytes: c.max_bytes }),
    ...(c?.write_timeout_ms === undefined ? {} : { writeTimeoutMs: c.write_timeout_ms }),
    ...(c?.retry_ms === undefined ? {} : { replayEveryMs: c.retry_ms }),
  });
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** The sinks of the config's `alerts` section; anomaly deliveries are logged in the store, the others on stderr. */
function alertDispatcher(config: TollgateConfig, store: Store, ctx: CliContext): AlertDispatcher {
  return AlertDispatcher.fromConfig(config.alerts ?? alertsConfigSchema.parse({}), {
    deliveries: store.anomalies,
    log: {
      info: (o, m) => ctx.io.stderr(`info: ${m} ${JSON.stringify(o)}\n`),
      warn: (o, m) => ctx.io.stderr(`warning: ${m} ${JSON.stringify(o)}\n`),
      error: (o, m) => ctx.io.stderr(`error: ${m} ${JSON.stringify(o)}\n`),
    },
  });
}

/** The detector from the config's `anomalies` section, alerting through `dispatcher`; null when detection is off. */
function anomalyWatchOptions(config: TollgateConfig, dispatcher: AlertDispatcher): NonNullable<GatewayOptions['anomalies']> | null {
  const a = config.anomalies;
  if (a?.enabled === false) return null;
  const detector = new Detector(camelKeys(a?.detector ?? {}) as DetectorOptionsInput);
  return { detector, dispatcher, ...(a?.evaluate_every_s === undefined ? {} : { evaluateEveryMs: a.evaluate_every_s * 1000 }) };
}

/** `spend_spike_ratio` → `spendSpikeRatio`, at every depth: YAML speaks snake_case, the detector camelCase. */
function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), camelKeys(x)]));
}

