/**
 * A process that dies with ledger rows in its spool, for the spool's crash tests. Run with
 * `node --import tsx test/support/spool-child.ts <mode> …`; it SIGKILLs itself when done, as a crash would.
 *
 *   spool  <dir> <database> <rows> <scope>          spools <rows> events (the database is down), then dies
 *   replay <dir> <database> <sqlite file> <writes>  replays the spool it finds, lets <writes> chunks of 100 commit, then dies
 */
import type { Ledger, LedgerEvent } from '../../src/ledger/contract.ts';
import { GroupCommitter } from '../../src/ledger/group-commit.ts';
import { LedgerSpool } from '../../src/ledger/spool/ledger-spool.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { chainOf, makeEvent } from './events.ts';

const [mode, dir, database, a, b] = process.argv.slice(2);
if (!dir || !database || !a || !b) throw new Error('usage: spool-child.ts spool|replay <dir> <database> …');

if (mode === 'spool') {
  const down: Ledger = new Proxy({} as Ledger, {
    get: () => () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
  });
  const gc = new GroupCommitter(down, { spool: LedgerSpool.open({ dir, database, replayEveryMs: 60_000 }) });
  const chain = chainOf(b);
  await Promise.all(Array.from({ length: Number(a) }, (_, i) => gc.record(makeEvent(chain, { effectiveCostNano: BigInt(i) }))));
} else if (mode === 'replay') {
  const store = await openSqliteStore(a);
  let left = Number(b);
  const cut: Ledger = {
    ...store.ledger,
    get: (id) => store.ledger.get(id),
    // After <writes> commits the database "hangs": the process dies with the replay half done.
    record: (events: readonly LedgerEvent[]) => (left-- > 0 ? store.ledger.record(events) : new Promise<never>(() => undefined)),
  };
  const spool = LedgerSpool.open({ dir, database, replayEveryMs: 60_000 });
  new GroupCommitter(cut, { maxBatch: 100, spool });
  while (spool.stats.replayed < Number(b) * 100) await new Promise((r) => setTimeout(r, 10));
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.kill(process.pid, 'SIGKILL');
