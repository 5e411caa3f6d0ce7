import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger, LedgerEvent, Store } from '../../src/ledger/contract.ts';
import { GroupCommitter } from '../../src/ledger/group-commit.ts';
import type { SpoolAlert } from '../../src/ledger/spool/ledger-spool.ts';
import { LedgerSpool } from '../../src/ledger/spool/ledger-spool.ts';
import { eventLine } from '../../src/ledger/spool/event-line.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { chainOf, makeEvent } from '../support/events.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-gc-'));
let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(dir, 'gc.db'));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Counts transactions by wrapping the real ledger. */
function counting(ledger: Ledger): Ledger & { batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    record: (events) => {
      batches.push(events.length);
      return ledger.record(events);
    },
    spend: (q) => ledger.spend(q),
    series: (q) => ledger.series(q),
    get: (id) => ledger.get(id),
    events: (q) => ledger.events(q),
    totals: (q) => ledger.totals(q),
    scan: (q) => ledger.scan(q),
  };
}

describe('GroupCommitter', () => {
  it('commits 1000 concurrent single-row callers in a handful of transactions, every row once', async () => {
    const ledger = counting(store.ledger);
    const gc = new GroupCommitter(ledger, { maxBatch: 300, maxDelayMs: 5 });
    const c = chainOf('gc/t/p/a');
    const events = Array.from({ length: 1000 }, (_, i) => makeEvent(c, { listCostNano: BigInt(i), effectiveCostNano: BigInt(i) }));
    await Promise.all(events.map((e) => gc.record(e)));
    expect(ledger.batches.reduce((s, n) => s + n, 0)).toBe(1000);
    expect(ledger.batches.length).toBeLessThanOrEqual(6);
    expect(Math.max(...ledger.batches)).toBeLessThanOrEqual(300);
    const t = await store.ledger.totals({ within: { tier: 'org', id: c.orgId } });
    expect(t).toEqual({ calls: 1000, listCostNano: 499_500n, effectiveCostNano: 499_500n });
    await gc.close();
  });

  it('by default writes at once when idle and batches what arrives meanwhile', async () => {
    const ledger = counting(store.ledger);
    const gc = new GroupCommitter(ledger, { maxBatch: 400 });
    const c = chainOf('gc-now/t/p/a');
    await gc.record(makeEvent(c));
    expect(ledger.batches).toEqual([1]);
    await Promise.all(Array.from({ length: 1000 }, () => gc.record(makeEvent(c))));
    expect(ledger.batches.slice(1)).toEqual([400, 400, 200]);
    expect((await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).calls).toBe(1001);
    await gc.close();
  });

  it('resolves only after the row is committed', async () => {
    const gc = new GroupCommitter(store.ledger, { maxDelayMs: 20 });
    const c = chainOf('gc2/t/p/a');
    const e = makeEvent(c);
    const p = gc.record(e);
    expect(gc.pending).toBe(1);
    await p;
    expect((await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).calls).toBe(1);
    await gc.close();
    await expect(gc.record(makeEvent(c))).rejects.toThrow('closed');
  });

  it('fails only the bad row of a batch; its neighbours are committed once', async () => {
    const gc = new GroupCommitter(store.ledger, { maxBatch: 50, maxDelayMs: 50 });
    const c = chainOf('gc3/t/p/a');
    const good = Array.from({ length: 10 }, () => makeEvent(c, { listCostNano: 7n, effectiveCostNano: 7n }));
    const bad: LedgerEvent = makeEvent(c, { provider: null as unknown as string });
    const results = await Promise.allSettled([...good.slice(0, 5), bad, ...good.slice(5)].map((e) => gc.record(e)));
    expect(results.filter((r) => r.status === 'rejected').length).toBe(1);
    expect(results[5]?.status).toBe('rejected');
    expect(await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).toEqual({ calls: 10, listCostNano: 70n, effectiveCostNano: 70n });
    await gc.close();
  });

  it('flush() writes what is queued without waiting for the timer', async () => {
    const gc = new GroupCommitter(store.ledger, { maxDelayMs: 60_000 });
    const c = chainOf('gc4/t/p/a');
    const p = Promise.all([gc.record(makeEvent(c)), gc.record(makeEvent(c))]);
    await gc.flush();
    await p;
    expect((await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).calls).toBe(2);
    await gc.close();
  });
});

/** The real ledger behind a switch: `down` fails writes as an unreachable PostgreSQL does, `hang` never answers. */
function switchable(ledger: Ledger): Ledger & { mode: 'up' | 'down' | 'hang'; failAfter: number | null; writes: number } {
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const s = {
    mode: 'up' as 'up' | 'down' | 'hang',
    /** Writes left before the database goes down (a replay cut half-way). */
    failAfter: null as number | null,
    writes: 0,
    record: (events: readonly LedgerEvent[]) => {
      if (s.failAfter !== null && s.failAfter-- <= 0) s.mode = 'down';
      if (s.mode === 'down') return Promise.reject(refused());
      if (s.mode === 'hang') return new Promise<never>(() => undefined);
      s.writes++;
      return ledger.record(events);
    },
    spend: ledger.spend.bind(ledger),
    series: ledger.series.bind(ledger),
    get: (id: string) => (s.mode === 'up' ? ledger.get(id) : Promise.reject(refused())),
    events: ledger.events.bind(ledger),
    totals: ledger.totals.bind(ledger),
    scan: ledger.scan.bind(ledger),
  };
  return s;
}

/** Calls and cost from the events and from the rollups: a row replayed twice would show in the rollups. */
async function counted(chainPath: string): Promise<{ events: number; rollups: number; cost: bigint }> {
  const c = chainOf(chainPath);
  const within = { tier: 'org' as const, id: c.orgId };
  const t = await store.ledger.totals({ within });
  const spend = await store.ledger.spend({ from: Date.UTC(2026, 0, 1), to: Date.UTC(2027, 0, 1), groupBy: 'org', within });
  return { events: t.calls, rollups: spend.reduce((n, r) => n + r.calls, 0), cost: t.effectiveCostNano };
}

/** Runs test/support/spool-child.ts; resolves to the signal that ended it. */
function child(...args: string[]): Promise<NodeJS.Signals | null> {
  const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../support/spool-child.ts', import.meta.url)), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve) => p.once('exit', (_code, signal) => resolve(signal)));
}

function spoolDir(): string {
  return mkdtempSync(join(dir, 'spool-'));
}

describe('GroupCommitter with a spool', () => {
  it('spools what the database cannot take, resolves callers once durable, and replays every row exactly once', async () => {
    const ledger = switchable(store.ledger);
    const alerts: SpoolAlert[] = [];
    const spool = LedgerSpool.open({ dir: spoolDir(), database: 'db-a', replayEveryMs: 50, onAlert: (a) => alerts.push(a) });
    const gc = new GroupCommitter(ledger, { maxBatch: 100, spool });
    const c = chainOf('sp1/t/p/a');
    await gc.record(makeEvent(c, { effectiveCostNano: 1n }));
    ledger.mode = 'down';
    await Promise.all(Array.from({ length: 250 }, () => gc.record(makeEvent(c, { effectiveCostNano: 1n }))));
    expect(gc.spooling).toBe(true);
    expect(gc.spoolBytes).toBeGreaterThan(250 * 300);
    expect(readdirSync(spool.path).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
    expect(alerts.map((a) => a.kind)).toEqual(['spooling']);
    expect(alerts[0]!.message).toContain(spool.path);
    expect(await counted('sp1/t/p/a')).toEqual({ events: 1, rollups: 1, cost: 1n });
    // While spooling, rows go straight to the spool without trying the database.
    const writes = ledger.writes;
    await gc.record(makeEvent(c, { effectiveCostNano: 1n }));
    expect(ledger.writes).toBe(writes);

    ledger.mode = 'up';
    await expect.poll(() => gc.spoolBytes, { timeout: 5000, interval: 20 }).toBe(0);
    expect(gc.spooling).toBe(false);
    expect(await counted('sp1/t/p/a')).toEqual({ events: 252, rollups: 252, cost: 252n });
    expect(spool.stats).toMatchObject({ spooled: 251, replayed: 251, duplicates: 0, rejected: 0 });
    expect(alerts.map((a) => a.kind)).toEqual(['spooling', 'replayed']);
    expect(readdirSync(spool.path)).toEqual([]);
    await gc.close();
  });

  it('spools a write that hangs past the write timeout; the late commit and the replay count once', async () => {
    const ledger = switchable(store.ledger);
    const spool = LedgerSpool.open({ dir: spoolDir(), database: 'db-a', replayEveryMs: 50, writeTimeoutMs: 100 });
    const gc = new GroupCommitter(ledger, { spool });
    const c = chainOf('sp2/t/p/a');
    ledger.mode = 'hang';
    const started = Date.now();
    await Promise.all(Array.from({ length: 20 }, () => gc.record(makeEvent(c))));
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(gc.spooling).toBe(true);
    ledger.mode = 'up';
    await expect.poll(() => gc.spoolBytes, { timeout: 5000, interval: 20 }).toBe(0);
    expect(await counted('sp2/t/p/a')).toMatchObject({ events: 20, rollups: 20 });
    await gc.close();
  });

  it('a replay cut by a crash is finished by the next process, without counting a row twice', async () => {
    const d = spoolDir();
    const db = join(dir, 'gc.db');
    // A gateway spools 1,000 rows while the database is down, and is killed.
    expect(await child('spool', d, 'db-a', '1000', 'sp3/t/p/a')).toBe('SIGKILL');
    // The next one claims the spool at start-up, commits 3 chunks of 100, and is killed mid-replay.
    expect(await child('replay', d, 'db-a', db, '3')).toBe('SIGKILL');
    expect(await counted('sp3/t/p/a')).toMatchObject({ events: 300, rollups: 300 });
    // This one replays the whole file again: the 300 already in are skipped by id.
    const spool = LedgerSpool.open({ dir: d, database: 'db-a', replayEveryMs: 50 });
    expect(spool.bytes).toBeGreaterThan(1000 * 300);
    const gc = new GroupCommitter(store.ledger, { maxBatch: 100, spool });
    await expect.poll(() => spool.bytes, { timeout: 5000, interval: 20 }).toBe(0);
    expect(spool.stats).toMatchObject({ replayed: 700, duplicates: 300, unreadable: 0 });
    expect(await counted('sp3/t/p/a')).toEqual({ events: 1000, rollups: 1000, cost: 499_500n });
    expect(readdirSync(d)).toEqual([]);
    await gc.close();
  }, 30_000);

  it('refuses new calls with a clear 503 once the spool is full, and accepts again after the replay', async () => {
    const ledger = switchable(store.ledger);
    const alerts: SpoolAlert[] = [];
    const spool = LedgerSpool.open({ dir: spoolDir(), database: 'db-a', maxBytes: 10_000, replayEveryMs: 50, onAlert: (a) => alerts.push(a) });
    const gc = new GroupCommitter(ledger, { spool });
    const c = chainOf('sp4/t/p/a');
    ledger.mode = 'down';
    expect(() => gc.assertAccepting()).not.toThrow();
    // Rows of calls already admitted are still spooled past the bound: the bound refuses new calls, it never drops rows.
    await Promise.all(Array.from({ length: 60 }, () => gc.record(makeEvent(c))));
    expect(gc.spoolBytes).toBeGreaterThan(10_000);
    let refusal: unknown;
    try {
      gc.assertAccepting();
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toMatchObject({ code: 'unavailable', status: 503 });
    expect((refusal as Error).message).toMatch(/fill the local spool \(.+: 0\.0 of 0\.0 MiB, ledger\.spool\.max_bytes\)/);
    expect(alerts.map((a) => a.kind)).toEqual(['spooling', 'spool_full']);
    ledger.mode = 'up';
    await expect.poll(() => gc.spoolBytes, { timeout: 5000, interval: 20 }).toBe(0);
    expect(() => gc.assertAccepting()).not.toThrow();
    expect(spool.stats).toMatchObject({ spooled: 60, replayed: 60 });
    expect((await counted('sp4/t/p/a')).events).toBe(60);
    await gc.close();
  });

  it('keeps a row the database refuses outright out of the replay loop, in the rejected file', async () => {
    const d = spoolDir();
    const ledger = switchable(store.ledger);
    ledger.mode = 'down';
    const spool = LedgerSpool.open({ dir: d, database: 'db-a', replayEveryMs: 50 });
    const gc = new GroupCommitter(ledger, { spool });
    const c = chainOf('sp5/t/p/a');
    const bad = makeEvent(c, { provider: null as unknown as string });
    await Promise.all([makeEvent(c), bad, makeEvent(c)].map((e) => gc.record(e)));
    ledger.mode = 'up';
    await expect.poll(() => gc.spoolBytes, { timeout: 5000, interval: 20 }).toBe(0);
    expect(spool.stats).toMatchObject({ replayed: 2, rejected: 1 });
    const rejected = readdirSync(d).filter((f) => f.startsWith('rejected-'));
    expect(rejected).toHaveLength(1);
    expect(readFileSync(join(d, rejected[0]!), 'utf8')).toContain(bad.id);
    expect((await counted('sp5/t/p/a')).events).toBe(2);
    await gc.close();
  });

  it('claims the files of dead processes of its database, never those of a live process or another database', async () => {
    const d = spoolDir();
    const tag = (db: string) => createHash('sha256').update(db).digest('hex').slice(0, 12);
    // 99999999 is above Linux's largest pid: no such process.
    const line = eventLine(makeEvent(chainOf('sp6/t/p/a')));
    writeFileSync(join(d, `ledger-${tag('db-b')}-99999999-abcd-000001.jsonl`), line);
    writeFileSync(join(d, `ledger-${tag('db-a')}-${process.ppid}-abcd-000001.jsonl`), line);
    writeFileSync(join(d, `ledger-${tag('db-a')}-99999999-abcd-000002.jsonl`), line);
    const mine = LedgerSpool.open({ dir: d, database: 'db-a', replayEveryMs: 60_000 });
    expect(mine.bytes).toBe(Buffer.byteLength(line));
    const names = readdirSync(d);
    expect(names).toContain(`ledger-${tag('db-b')}-99999999-abcd-000001.jsonl`);
    expect(names).toContain(`ledger-${tag('db-a')}-${process.ppid}-abcd-000001.jsonl`);
    expect(names.filter((n) => n.startsWith(`ledger-${tag('db-a')}-${process.pid}-`))).toHaveLength(1);
    await mine.close();
  });
});
