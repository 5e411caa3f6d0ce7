/**
 * Long reads as arrays. better-sqlite3 builds each row object property by property; in raw mode it
 * hands back arrays, and the ledger's scan reads twice as fast.
 */
import type Sqlite from 'better-sqlite3';
import type { ReadArrays } from '../kysely-ledger.ts';

export function sqliteArrays(db: Sqlite.Database): ReadArrays {
  // Prepared per page (microseconds, against thousands of rows read), not taken from the statement
  // cache: raw mode would stick to a statement that Kysely reads as objects.
  return (query) => db.prepare(query.sql).raw(true).all(...query.parameters) as unknown[][];
}
