/**
 * Report latency over a big ledger: the showback month report and unit-economics queries, on
 * SQLite and on PostgreSQL, over 1M and 10M events (two months of traffic: September and October).
 *
 *   npm run bench:reports               # 1M and 10M events on each backend (about 20 minutes)
 *   npm run bench:reports -- --quick    # 100k and 1M events
 *   npm run bench:reports -- --sizes 1000000 --backends sqlite
 *
 * Seeds through the ledger's own write path (store.ledger.record, so rollups and trace costs are
 * what the gateway would leave) and store.outcomes.record; then times each query, median of 7 runs,
 * and checks that both backends give the same showback to the nano-dollar. Traffic goes only to a
 * temporary SQLite file and the local PostgreSQL (TOLLGATE_BENCH_PG, default
 * postgres://postgres@127.0.0.1:5432/test) in a throwaway schema dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { showback, showbackJson } from '../src/analytics/showback.ts';
import type { ScopeChain } from '../src/domain/scope.ts';
import type { LedgerEvent, Store } from '../src/ledger/contract.ts';
import type { OutcomeInput } from '../src/ledger/outcomes-contract.ts';
import { openPostgresStore } from '../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../src/ledger/sqlite/sqlite-store.ts';
import { syntheticEvent } from './synthetic-event.ts';
import { stopAfter } from './run-deadline.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argAfter = (flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const SIZES = (argAfter('--sizes')?.split(',').map(Number) ?? (quick ? [100_000, 1_000_000] : [1_000_000, 10_000_000])).filter((n) => Number.isSafeInteger(n) && n > 0);
const BACKENDS = (argAfter('--backends')?.split(',') ?? ['sqlite', 'postgres']).filter((b): b is 'sqlite' | 'postgres' => b === 'sqlite' || b === 'postgres');
const PG_URL = process.env['TOLLGATE_BENCH_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The whole run stops by itself after this long, cleaning up what it made. */
const DEADLINE_MS = (quick ? 15 : 60) * 60_000;
const RUNS = 7;

const SEP = Date.UTC(2026, 8, 1);
const NOV = Date.UTC(2026, 10, 1);
const MONTH = '2026-10';
const OCT = Date.UTC(2026, 9, 1);
const MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-4.1', 'gpt-4.1-mini'];
const TEAMS = 20;
const PROJECTS = 5;
const AGENTS_PER_PROJECT = 5;
const AGENT_COUNT = TEAMS * PROJECTS * AGENTS_PER_PROJECT;
/** An agent task (one trace id) is 8 calls; every other task ends in one resolved ticket. */
const CALLS_PER_TRACE = 8;

const runId = randomBytes(4).toString('hex');

/** 20 teams × 5 projects × 5 agents, created through the directory so reports can name them. */
async function makeAgents(store: Store): Promise<ScopeChain[]> {
  const chains: ScopeChain[] = [];
  for (let t = 0; t < TEAMS; t++) {
    // Every team has a month budget (half of them chargeback), so the report reads budgets too.
    const team = `acme/team-${String(t).padStart(2, '0')}`;
    await store.directory.ensureScope(team, { create: true, actor: 'bench' });
    await store.controls.setBudget({ scopePath: team, amountNano: 150_000_000_000n * BigInt(1 + (t % 4)), period: 'month', action: t % 2 === 0 ? 'showback' : 'chargeback', thresholds: [50, 80, 100], timeZone: 'UTC', degradeTo: null }, 'bench');
    for (let p = 0; p < PROJECTS; p++) {
      const project = `${team}/project-${p}`;
      await store.directory.ensureScope(project, { create: true, actor: 'bench' });
      await store.outcomes.setType({ projectPath: project, type: 'resolved_ticket', displayName: 'Resolved ticket', unit: 'ticket', baselineNano: 6_000_000_000n, targetNano: null }, 'bench');
      for (let a = 0; a < AGENTS_PER_PROJECT; a++) {
        const { nodes } = await store.directory.ensureScope(`${project}/agent-${a}`, { create: true, actor: 'bench' });
        const [o, tm, pr, ag] = nodes;
        chains.push({ orgId: o!.id, orgName: o!.slug, teamId: tm!.id, teamName: tm!.slug, projectId: pr!.id, projectName: pr!.slug, agentId: ag!.id, agentName: ag!.slug });
      }
    }
  }
  return chains;
}

/**
 * The i-th of `total` events, spread evenly over September and October in time order. Agent i·7919
 * mod 500 cycles through every agent each 500 events, so an agent's k-th call is event k·500 + …,
 * and its calls k·8 … k·8+7 form one trace.
 */
function event(agents: readonly ScopeChain[], i: number, total: number): LedgerEvent {
  const agentIdx = (i * 7919) % AGENT_COUNT;
  const agent = agents[agentIdx]!;
  const model = MODELS[(agentIdx + (i % 5 === 0 ? 1 : 0)) % MODELS.length]!;
  const startedAt = SEP + Math.floor((i / total) * (NOV - SEP));
  // Heavy tail: one call in 97 is a 20× context blow-up.
  const costFactor = i % 97 === 3 ? 20n : 1n;
  return syntheticEvent({ id: `${runId}-${total}-${i.toString(36).padStart(8, '0')}`, i, chain: agent, model, startedAt, costFactor, traceId: traceOf(i) });
}

function traceOf(i: number): string {
  return `tr-${(i * 7919) % AGENT_COUNT}-${Math.floor(Math.floor(i / AGENT_COUNT) / CALLS_PER_TRACE)}`;
}

/** The last call of every other trace reports one resolved ticket. */
function outcomeOf(agents: readonly ScopeChain[], e: LedgerEvent, i: number): OutcomeInput | null {
  const k = Math.floor(i / AGENT_COUNT);
  if (k % CALLS_PER_TRACE !== CALLS_PER_TRACE - 1 || Math.floor(k / CALLS_PER_TRACE) % 2 !== 0) return null;
  return { chain: agents[(i * 7919) % AGENT_COUNT]!, keyId: null, type: 'resolved_ticket', count: 1, occurredAt: e.startedAt, traceId: e.traceId, valueNano: null, idempotencyKey: `${runId}-o-${i}` };
}

async function fill(store: Store, agents: readonly ScopeChain[], total: number, onProgress: (done: number) => void, batch: number): Promise<{ outcomes: number }> {
  let outcomes = 0;
  for (let i = 0; i < total; i += batch) {
    const events: LedgerEvent[] = [];
    const done: OutcomeInput[] = [];
    for (let j = i; j < Math.min(i + batch, total); j++) {
      const e = event(agents, j, total);
      events.push(e);
      const o = outcomeOf(agents, e, j);
      if (o) done.push(o);
    }
    await store.ledger.record(events);
    if (done.length > 0) outcomes += (await store.outcomes.record(done)).inserted;
    if (i % 500_000 === 0) onProgress(i);
  }
  return { outcomes };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; result: T }> {
  let result: T | undefined;
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    result = await f();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), result: result! };
}

function percentile(sorted: readonly bigint[], p: number): bigint {
  if (sorted.length === 0) return 0n;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Unit economics per project for the month: cost from the rollups, outcomes from the outcomes store, $/outcome. */
async function unitEconomics(store: Store, orgId: string): Promise<{ projects: number; outcomes: bigint }> {
  const within = { tier: 'org' as const, id: orgId };
  const [spend, counts] = await Promise.all([store.ledger.spend({ from: OCT, to: NOV, groupBy: 'project', within }), store.outcomes.counts({ from: OCT, to: NOV, within })]);
  const outcomes = new Map<string, bigint>();
  for (const c of counts) outcomes.set(c.projectId, (outcomes.get(c.projectId) ?? 0n) + c.outcomes);
  let total = 0n;
  const rows = spend.map((r) => {
    const n = outcomes.get(r.key) ?? 0n;
    total += n;
    return { project: r.key, cost: r.effectiveCostNano, outcomes: n, perOutcome: n > 0n ? r.effectiveCostNano / n : null };
  });
  return { projects: rows.length, outcomes: total };
}

/** Per-trace cost per outcome (trace_costs joined to outcomes) and its p50/p90/p99. */
async function traceDistribution(store: Store, within: { tier: 'org' | 'project'; id: string }): Promise<{ traces: number; p50: bigint; p90: bigint; p99: bigint }> {
  const rows = await store.outcomes.traceOutcomes({ from: OCT, to: NOV, within });
  const per = rows.filter((r) => r.costNano !== null && r.outcomes > 0n).map((r) => r.costNano! / r.outcomes);
  per.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { traces: per.length, p50: percentile(per, 50), p90: percentile(per, 90), p99: percentile(per, 99) };
}

interface Row {
  backend: string;
  events: string;
  measure: string;
  value: string;
  unit: string;
}
const table: Row[] = [];
const log = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
const fmtN = (n: number) => n.toLocaleString('en');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

interface Opened {
  backend: 'sqlite' | 'postgres';
  store: Store;
  sizeOf: () => Promise<string>;
  /** After the bulk load: what the database does by itself soon after (PostgreSQL's autovacuum sets statistics and the visibility map). */
  settle?: () => Promise<void>;
  agents: ScopeChain[];
}

async function seed(o: Opened, size: number): Promise<void> {
  const events = fmtN(size);
  o.agents = await makeAgents(o.store);
  const t0 = performance.now();
  const { outcomes } = await fill(o.store, o.agents, size, (done) => log(`${o.backend} ${events}: ${fmtN(done)} events written`), o.backend === 'postgres' ? 20_000 : 5000);
  const seconds = (performance.now() - t0) / 1000;
  table.push({ backend: o.backend, events, measure: `seed: events (two months, ${fmtN(size / CALLS_PER_TRACE)} traces) + ${fmtN(outcomes)} outcomes, through record()`, value: (size / seconds).toFixed(0), unit: 'events/s' });
  if (o.settle) {
    const t1 = performance.now();
    await o.settle();
    table.push({ backend: o.backend, events, measure: 'then VACUUM ANALYZE of the schema, as autovacuum would after a bulk load', value: ((performance.now() - t1) / 1000).toFixed(1), unit: 's' });
  }
}

async function measure(o: Opened, size: number): Promise<unknown> {
  const { backend, store, agents } = o;
  const events = fmtN(size);
  const add = (measure: string, value: string, unit: string) => table.push({ backend, events, measure, value, unit });
  add('ledger size on disk (events, rollups, trace costs, outcomes, indexes)', await o.sizeOf(), '');
  const orgId = agents[0]!.orgId;
  const org = await timed(() => showback(store, { month: MONTH, scope: 'acme' }));
  if (org.result.lines.length !== TEAMS) throw new Error(`expected ${TEAMS} teams, got ${org.result.lines.length}`);
  add(`showback ${MONTH}, 20 teams of acme (spend, vs last month, budgets, top 3s, $/outcome)`, org.ms.toFixed(1), 'ms');
  const team = await timed(() => showback(store, { month: MONTH, scope: 'acme/team-00' }));
  add(`showback ${MONTH}, the 5 projects of one team`, team.ms.toFixed(1), 'ms');
  const ue = await timed(() => unitEconomics(store, orgId));
  add(`unit economics ${MONTH}: cost, outcomes, $/outcome per project (${ue.result.projects} projects)`, ue.ms.toFixed(1), 'ms');
  const oneProject = await timed(() => traceDistribution(store, { tier: 'project', id: agents[0]!.projectId }));
  add(`per-trace $/outcome p50/p90/p99, one project (${fmtN(oneProject.result.traces)} traces)`, oneProject.ms.toFixed(1), 'ms');
  const wholeOrg = await timed(() => traceDistribution(store, { tier: 'org', id: orgId }));
  add(`per-trace $/outcome p50/p90/p99, whole org (${fmtN(wholeOrg.result.traces)} traces)`, wholeOrg.ms.toFixed(1), 'ms');
  log(`${backend} ${events}: showback total ${org.result.totalNano} nano, trace p50/p90/p99 ${wholeOrg.result.p50}/${wholeOrg.result.p90}/${wholeOrg.result.p99}`);
  return { showback: showbackJson(org.result), team: showbackJson(team.result), ue: ue.result, trace: wholeOrg.result };
}

async function dropPgSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query(`drop schema if exists "${schema}" cascade`);
  } catch {
    // Nothing to drop, or no PostgreSQL: nothing was made there.
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-reports-'));
  const schemas: string[] = [];
  const cleanup = async () => {
    rmSync(dir, { recursive: true, force: true });
    for (const s of schemas) await dropPgSchema(s);
  };
  const disarm = stopAfter(DEADLINE_MS, cleanup, log);
  try {
    for (const size of SIZES) {
      const opened: Opened[] = [];
      try {
        for (const backend of BACKENDS) {
          if (backend === 'sqlite') {
            const file = join(dir, `reports-${size}.db`);
            const sizeOf = () => Promise.resolve(mib(['', '-wal'].reduce((s, x) => s + (statSync(file + x, { throwIfNoEntry: false })?.size ?? 0), 0)));
            opened.push({ backend, store: await openSqliteStore(file), sizeOf, agents: [] });
            continue;
          }
          const schema = `tg_bench_reports_${runId}_${size}`;
          schemas.push(schema);
          try {
            const sizeOf = async () => {
              const c = new pg.Client({ connectionString: PG_URL });
              await c.connect();
              try {
                const r = await c.query<{ b: string }>(
                  `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::text as b from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'`,
                  [schema],
                );
                return mib(Number(r.rows[0]?.b ?? 0));
              } finally {
                await c.end();
              }
            };
            const settle = async () => {
              const c = new pg.Client({ connectionString: PG_URL });
              await c.connect();
              try {
                const tables = await c.query<{ t: string }>('select tablename as t from pg_tables where schemaname = $1', [schema]);
                for (const { t } of tables.rows) await c.query(`vacuum analyze "${schema}"."${t}"`);
              } finally {
                await c.end();
              }
            };
            opened.push({ backend, store: await openPostgresStore(PG_URL, { schema }), sizeOf, settle, agents: [] });
          } catch (err) {
            table.push({ backend, events: fmtN(size), measure: 'unavailable', value: String(err).slice(0, 60), unit: '' });
          }
        }
        const seen = new Map<string, unknown>();
        for (const o of opened) {
          await seed(o, size);
          seen.set(o.backend, await measure(o, size));
          await o.store.close();
          if (o.backend === 'sqlite') rmSync(join(dir, `reports-${size}.db`), { force: true });
          else for (const s of schemas.splice(0)) await dropPgSchema(s);
        }
        if (seen.size === 2) {
          const same = isDeepStrictEqual(seen.get('sqlite'), seen.get('postgres'));
          table.push({ backend: 'both', events: fmtN(size), measure: 'showback, unit economics and trace percentiles identical on SQLite and PostgreSQL', value: same ? 'yes' : 'NO', unit: '' });
          if (!same) process.exitCode = 1;
        }
      } finally {
        for (const o of opened) await o.store.close().catch(() => undefined);
        rmSync(join(dir, `reports-${size}.db`), { force: true });
        rmSync(join(dir, `reports-${size}.db-wal`), { force: true });
        for (const s of schemas.splice(0)) await dropPgSchema(s);
      }
    }
  } finally {
    disarm();
    await cleanup();
  }
  const order = (r: Row) => SIZES.indexOf(Number(r.events.replace(/,/g, ''))) * 10 + ['sqlite', 'postgres', 'both'].indexOf(r.backend);
  table.sort((a, b) => order(a) - order(b));
  const w = [7, 6, 7, 5].map((min, i) => Math.max(min, ...table.map((r) => [r.backend, r.events, r.measure, r.value][i]!.length)));
  console.log(`${'backend'.padEnd(w[0]!)}  ${'events'.padStart(w[1]!)}  ${'measure'.padEnd(w[2]!)}  ${'value'.padStart(w[3]!)}  unit`);
  for (const r of table) console.log(`${r.backend.padEnd(w[0]!)}  ${r.events.padStart(w[1]!)}  ${r.measure.padEnd(w[2]!)}  ${r.value.padStart(w[3]!)}  ${r.unit}`);
  console.log(`Each query: median of ${RUNS} runs. Aim: showback under 300 ms at 10M events on SQLite.`);
}

await main();
