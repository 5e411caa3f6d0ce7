/**
 * PostgreSQL through pg's Pool. int8 is parsed to bigint (pg's default is a string); SUM over
 * bigint is numeric and arrives as a string, which the shared code converts with BigInt().
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Store } from '../contract.ts';
import { assembleStore, migrate } from '../kysely-store.ts';
import type { Database } from '../schema.ts';

export const POSTGRES_CAPABILITIES = {
  // The wire protocol counts parameters in an Int16.
  maxBindParameters: 65_535,
  arrayParameters: true,
  dialect: 'postgres',
} as const;

const INT8_OID = 20;

const parseInt8 = (v: string): bigint => BigInt(v);
const typeParser = ((oid: number, format?: 'text' | 'binary'): unknown =>
  oid === INT8_OID ? parseInt8 : (pg.types.getTypeParser(oid, format ?? 'text') as unknown)) as typeof pg.types.getTypeParser;

export async function openPostgresStore(url: string, opts: { schema?: string; max?: number } = {}): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    types: { getTypeParser: typeParser },
    // A partitioned network must fail a connect fast (the ledger spools, the key cache keeps its map)
    // rather than hang every call; keep-alive notices a dead peer on an idle connection.
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    // A schema per test run or tenant, when asked; the default is the connection's search_path.
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  pool.on('error', () => {
    // Idle clients can be dropped by the server (restart, idle timeout); the pool replaces them.
  });
  // A connection that breaks while checked out (the server restarts, the network drops mid-query) emits
  // 'error' on its client, and pg-pool only listens on idle ones: unhandled, it would kill the process.
  // The query in flight is rejected all the same, and the pool discards the broken client on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  if (opts.schema) {
    await pool.query(`create schema if not exists "${opts.schema.replace(/"/g, '""')}"`);
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // The migrator looks for its own tables in one schema: the one asked for, else the connection's current one.
  const schema = opts.schema ?? String((await pool.query<{ s: string }>('select current_schema() as s')).rows[0]?.s ?? 'public');
  await migrate(db, { autoIncrementId: 'bigserial' }, schema);
  return assembleStore(db, POSTGRES_CAPABILITIES, redact(url), () => db.destroy());
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}
