/**
 * Kysely's SQLite driver prepares every statement anew; preparing a 900-row insert costs as much as
 * running it. This keeps the most recent prepared statements by SQL text (better-sqlite3 statements
 * are reusable; the driver is single-connection and synchronous, so no two uses overlap).
 */
import type { SqliteDatabase, SqliteStatement } from 'kysely';

export class StatementCache implements SqliteDatabase {
  readonly #db: SqliteDatabase;
  readonly #limit: number;
  readonly #statements = new Map<string, SqliteStatement>();

  constructor(db: SqliteDatabase, limit = 256) {
    this.#db = db;
    this.#limit = limit;
  }

  prepare(sql: string): SqliteStatement {
    let stmt = this.#statements.get(sql);
    if (stmt) {
      // Re-insert to keep the map in least-recently-used order.
      this.#statements.delete(sql);
    } else {
      stmt = this.#db.prepare(sql);
      if (this.#statements.size >= this.#limit) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
    }
    this.#statements.set(sql, stmt);
    return stmt;
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}
