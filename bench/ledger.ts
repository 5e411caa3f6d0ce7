/**
 * Ledger throughput and report latency.
 *
 *   npm run bench:ledger               # full run: 1M and 10M events for the rollup query (several minutes)
 *   npm run bench:ledger -- --quick    # smaller counts, for a smoke run
 *
 * Prints one table. Traffic goes only to the local SQLite file and the local PostgreSQL
 * (TOLLGATE_BENCH_PG, default postgres://postgres@127.0.0.1:5432/test, in a throwaway schema).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ScopeChain } from '../src/domain/scope.ts';
import type { LedgerEvent, Store } from '../src/ledger/contract.ts';
import { openPostgresStore } from '../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../src/ledger/sqlite/sqlite-store.ts';
import { GroupCommitter } from '../src/ledger/group-commit.ts';
import { syntheticEvent } from './synthetic-event.ts';

const quick = process.argv.includes('--quick');
const PG_URL = process.env['TOLLGATE_BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const MONTH_START = Date.UTC(2026, 9, 1);
const MONTH_MS = 31 * 86_400_000;
/** Insert benchmarks write live traffic: 1,000 calls a second, so a batch spans about a second. */
const LIVE_MS_PER_EVENT = 1;
const MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-4.1', 'gpt-4.1-mini'];

// 20 teams × 5 projects × 5 agents = 500 agents; each agent mostly uses one model, sometimes a second.
const AGENTS: ScopeChain[] = [];
for (let t = 0; t < 20; t++)
  for (let p = 0; p < 5; p++)
    for (let a = 0; a < 5; a++)
      AGENTS.push({
        orgId: 'org-acme', orgName: 'acme',
        teamId: `team-${t}`, teamName: `team-${t}`,
        projectId: `project-${t}-${p}`, projectName: `project-${p}`,
        agentId: `agent-${t}-${p}-${a}`, agentName: `agent-${a}`,
      });

const runId = randomBytes(4).toString('hex');
/**
 * The i-th of `total` events spread evenly over `spanMs` from the start of the month, in time order
 * as a gateway writes them, with time-ordered ids (as the gateway's are).
 */
function event(i: number, total: number, spanMs = MONTH_MS): LedgerEvent {
  const agent = AGENTS[(i * 7919) % AGENTS.length]!;
  const model = MODELS[((i * 7919) % AGENTS.length + (i % 5 === 0 ? 1 : 0)) % MODELS.length]!;
  const startedAt = MONTH_START + Math.floor((i / total) * spanMs);
  return syntheticEvent({ id: `${runId}-${total}-${i.toString(36).padStart(8, '0')}`, i, chain: agent, model, startedAt });
}

interface Row { backend: string; measure: string; value: string; unit: string }
const table: Row[] = [];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function singleInserts(store: Store, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await store.ledger.record([event(i, n, n * LIVE_MS_PER_EVENT)]);
  return n / ((performance.now() - t0) / 1000);
}

async function batchedInserts(store: Store, n: number, batch: number): Promise<number> {
  const events = Array.from({ length: n }, (_, i) => event(i, n, n * LIVE_MS_PER_EVENT));
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) await store.ledger.record(events.slice(i, i + batch));
  return n / ((performance.now() - t0) / 1000);
}

/** `callers` concurrent writers, each recording one event at a time and waiting for its commit. */
async function groupCommitted(store: Store, n: number, callers: number): Promise<number> {
  const gc = new GroupCommitter(store.ledger, { maxBatch: 500, maxDelayMs: 2 });
  const events = Array.from({ length: n }, (_, i) => event(i, n, n * LIVE_MS_PER_EVENT));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < n) await gc.record(events[next++]!);
    }),
  );
  await gc.close();
  return n / ((performance.now() - t0) / 1000);
}

async function fill(store: Store, total: number, batch = 5000): Promise<void> {
  for (let i = 0; i < total; i += batch) {
    const events: LedgerEvent[] = [];
    for (let j = i; j < Math.min(i + batch, total); j++) events.push(event(j, total));
    await store.ledger.record(events);
  }
}

async function monthPerTeam(store: Store): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    const rows = await store.ledger.spend({ from: MONTH_START, to: MONTH_START + MONTH_MS, groupBy: 'team' });
    times.push(performance.now() - t0);
    if (rows.length !== 20) throw new Error(`expected 20 teams, got ${rows.length}`);
  }
  return median(times);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const singleN = quick ? 500 : 3000;
  const batchN = quick ? 20_000 : 200_000;
  try {
    // SQLite: inserts on a fresh file.
    {
      const store = await openSqliteStore(join(dir, 'inserts.db'));
      table.push({ backend: 'sqlite', measure: `single inserts, live traffic (1 event / transaction, n=${singleN})`, value: (await singleInserts(store, singleN)).toFixed(0), unit: 'events/s' });
      table.push({ backend: 'sqlite', measure: `batched inserts, live traffic (1000 / transaction, n=${batchN})`, value: (await batchedInserts(store, batchN, 1000)).toFixed(0), unit: 'events/s' });
      table.push({ backend: 'sqlite', measure: `group commit, 64 concurrent single-event writers (n=${batchN / 4})`, value: (await groupCommitted(store, batchN / 4, 64)).toFixed(0), unit: 'events/s' });
      await store.close();
    }
    // PostgreSQL, in a throwaway schema.
    const schema = `tg_bench_${runId}`;
    try {
      const store = await openPostgresStore(PG_URL, { schema });
      table.push({ backend: 'postgres', measure: `single inserts, live traffic (1 event / transaction, n=${singleN})`, value: (await singleInserts(store, singleN)).toFixed(0), unit: 'events/s' });
      table.push({ backend: 'postgres', measure: `batched inserts, live traffic (1000 / transaction, n=${batchN})`, value: (await batchedInserts(store, batchN, 1000)).toFixed(0), unit: 'events/s' });
      table.push({ backend: 'postgres', measure: `group commit, 64 concurrent single-event writers (n=${batchN / 4})`, value: (await groupCommitted(store, batchN / 4, 64)).toFixed(0), unit: 'events/s' });
      await store.close();
    } catch (err) {
      table.push({ backend: 'postgres', measure: 'unavailable', value: String(err).slice(0, 60), unit: '' });
    } finally {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect().then(() => c.query(`drop schema if exists "${schema}" cascade`)).catch(() => undefined);
      await c.end().catch(() => undefined);
    }
    // The month-per-team report over a month of 1M and of 10M events (one ledger each).
    for (const size of quick ? [100_000, 1_000_000] : [1_000_000, 10_000_000]) {
      const store = await openSqliteStore(join(dir, `report-${size}.db`));
      const t0 = performance.now();
      await fill(store, size);
      const rate = size / ((performance.now() - t0) / 1000);
      table.push({ backend: 'sqlite', measure: `backfill a month with ${size.toLocaleString('en')} events (5000 / transaction)`, value: rate.toFixed(0), unit: 'events/s' });
      table.push({ backend: 'sqlite', measure: `month-per-team report over ${size.toLocaleString('en')} events (median of 7)`, value: (await monthPerTeam(store)).toFixed(1), unit: 'ms' });
      await store.close();
      rmSync(join(dir, `report-${size}.db`), { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const w = [Math.max(...table.map((r) => r.backend.length), 7), Math.max(...table.map((r) => r.measure.length), 7), Math.max(...table.map((r) => r.value.length), 5)];
  console.log(`${'backend'.padEnd(w[0]!)}  ${'measure'.padEnd(w[1]!)}  ${'value'.padStart(w[2]!)}  unit`);
  for (const r of table) console.log(`${r.backend.padEnd(w[0]!)}  ${r.measure.padEnd(w[1]!)}  ${r.value.padStart(w[2]!)}  ${r.unit}`);
}

await main();
