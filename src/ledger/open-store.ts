/**
 * Wiring: picks the backend from `TOLLGATE_DB` (a file path → SQLite, `postgres://…` → PostgreSQL).
 * The only place besides tests that names a concrete backend.
 */
import { resolve } from 'node:path';
import type { Store } from './contract.ts';

export const DEFAULT_DB_FILE = './tollgate-data/tollgate.db';

export async function openStore(target: string = process.env['TOLLGATE_DB'] ?? DEFAULT_DB_FILE): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(target)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.ts');
    // `?schema=name` keeps Tollgate's tables in their own schema (created when missing).
    const url = new URL(target);
    const schema = url.searchParams.get('schema');
    url.searchParams.delete('schema');
    return schema ? openPostgresStore(url.toString(), { schema }) : openPostgresStore(target);
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.ts');
  return openSqliteStore(target === ':memory:' ? target : resolve(target));
}
