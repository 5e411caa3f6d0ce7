/**
 * PostgreSQL for tests: a fresh schema per suite on the local server. Mandatory when CI=true; on a
 * machine without PostgreSQL the suites skip with a printed notice.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env['TOLLGATE_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (err) {
    if (process.env['CI'] === 'true') {
      throw new Error(`PostgreSQL is required when CI=true but ${PG_URL} is unreachable: ${String(err)}`, { cause: err });
    }
    console.warn(`[skip] PostgreSQL tests skipped: ${PG_URL} unreachable (${String(err)}). Set TOLLGATE_TEST_PG or start PostgreSQL.`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function testSchemaName(): string {
  return `tg_test_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
