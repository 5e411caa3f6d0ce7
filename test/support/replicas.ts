/**
 * Gateway replicas as an operator runs them: several `tollgate serve` processes on port 0 sharing one
 * PostgreSQL schema (ledger, keys, budgets, kill switches) and one Redis (budget counters), in front
 * of one simulator; the CLI runs in-process against the same store. Children are SIGKILLed on close
 * and, failing that, when the test process exits (see gateway-process.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { run } from '../../src/cli/main.ts';
import { RedisCounters } from '../../src/counters/redis/redis-counters.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openStore } from '../../src/ledger/open-store.ts';
import type { Simulator } from '../../src/providers/simulator/index.ts';
import { startSimulator } from '../../src/providers/simulator/index.ts';
import type { GatewayProcess } from './gateway-process.ts';
import { startGatewayProcess } from './gateway-process.ts';
import { dropSchema, PG_URL, testSchemaName } from './postgres.ts';
import { REDIS_URL } from './redis.ts';

export const REPLICA_ADMIN_KEY = 'tga-replicas-admin-key';
/** The hash tag `tollgate serve` puts on its Redis keys: it has no option for another one. */
export const SERVE_REDIS_PREFIX = 'tollgate';

export interface Replica {
  name: string;
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends a signal; resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface Cluster {
  /** `postgres://…?schema=tg_test_…`: what the replicas and the CLI get as TOLLGATE_DB. */
  db: string;
  sim: Simulator;
  /** The replicas started so far, killed or not, in the order they came up. */
  replicas: Replica[];
  /** The test's own view of the shared state. */
  store: Store;
  /** The counters the replicas share, read with the same prefix they use. */
  counters: RedisCounters;
  /** Starts one more `tollgate serve` on the same ledger, counters and config. */
  startReplica(name: string): Promise<Replica>;
  /** Runs the CLI in-process with the replicas' environment. */
  cli(...args: string[]): Promise<CliResult>;
  /** Runs the CLI with `--json`; throws with its stderr unless it succeeds. */
  cliJson<T>(...args: string[]): Promise<T>;
  /** Kills every replica, stops the simulator, deletes this run's counters and drops the schema (once). */
  close(): Promise<void>;
}

/** Opens the shared state and the simulator; replicas start with `startReplica`, once keys and budgets exist. */
export async function startCluster(opts: { leaseMs: number; simLatencyMs: number }): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-replicas-'));
  const schema = testSchemaName();
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  const db = url.toString();
  const sim = await startSimulator({ latencyMs: opts.simLatencyMs, recordCalls: false });
  const config = join(dir, 'tollgate.yaml');
  writeFileSync(config, `providers:\n  openai:\n    base_url: ${sim.url}/v1\n    api_key: x\ncontrols:\n  lease_ms: ${opts.leaseMs}\n`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TOLLGATE_DB: db,
    TOLLGATE_REDIS: REDIS_URL,
    TOLLGATE_CONFIG: config,
    TOLLGATE_ADMIN_KEY: REPLICA_ADMIN_KEY,
    USER: 'replica-test',
  };
  const replicas: Replica[] = [];
  const processes: GatewayProcess[] = [];

  let store: Store;
  let counters: RedisCounters;
  try {
    // Migrations run once here, not concurrently in every replica.
    store = await openStore(db);
    counters = await RedisCounters.open({ url: REDIS_URL, prefix: SERVE_REDIS_PREFIX });
  } catch (err) {
    await sim.close();
    await dropSchema(schema).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const cli = async (...args: string[]): Promise<CliResult> => {
    let out = '';
    let err = '';
    const code = await run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) }, env);
    return { code, out, err };
  };

  let closing: Promise<void> | undefined;
  const cluster: Cluster = {
    db,
    sim,
    replicas,
    store,
    counters,
    async startReplica(name) {
      const gw = await startGatewayProcess(env).catch((err: unknown) => {
        throw new Error(`replica ${name}: ${(err as Error).message}`, { cause: err });
      });
      processes.push(gw);
      const replica: Replica = {
        name,
        url: gw.url,
        output: () => gw.output(),
        async kill(signal) {
          await gw.kill(signal);
        },
      };
      replicas.push(replica);
      return replica;
    },
    cli,
    async cliJson<T>(...args: string[]): Promise<T> {
      const r = await cli(...args, '--json');
      if (r.code !== 0) throw new Error(`tollgate ${args.join(' ')} failed (${r.code}): ${r.err}`);
      return JSON.parse(r.out) as T;
    },
    close() {
      closing ??= (async () => {
        await Promise.all(processes.map((p) => p.kill('SIGKILL')));
        const budgetIds = (await store.controls.listBudgets().catch(() => [])).map((b) => b.id);
        await deleteCounters(budgetIds);
        await store.close();
        await counters.close();
        await sim.close();
        await dropSchema(schema);
        rmSync(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
  return cluster;
}

/** Deletes the budget counters of this run under the shared `{tollgate}` tag (budget ids are unique to the run). */
async function deleteCounters(budgetIds: readonly string[]): Promise<void> {
  if (budgetIds.length === 0) return;
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
  try {
    for (const id of budgetIds) {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `{${SERVE_REDIS_PREFIX}}:c:b:${id}:*`, 'COUNT', 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
}
