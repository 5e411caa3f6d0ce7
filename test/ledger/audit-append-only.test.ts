/**
 * The audit log is append-only in the database itself: an UPDATE, DELETE (or, on PostgreSQL,
 * TRUNCATE) of its rows is refused by a trigger, on both backends, while appending still works.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audit log on SQLite', () => {
  it('refuses UPDATE and DELETE, keeps appending', async () => {
    const file = join(dir, 'audit.db');
    const store = await openSqliteStore(file);
    await store.directory.ensureScope('acme/support', { create: true, actor: 'test' });
    await store.controls.kill('acme/support', 'drill', 'test');
    await store.close();
    const db = new Database(file);
    try {
      expect(() => db.prepare("UPDATE audit_log SET actor = 'someone-else'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
      expect((db.prepare('SELECT actor FROM audit_log').all() as { actor: string }[]).map((r) => r.actor)).toContain('test');
    } finally {
      db.close();
    }
    const again = await openSqliteStore(file);
    await again.controls.revive('acme/support', 'test');
    expect((await again.directory.audit({ limit: 5 })).map((a) => a.action)).toEqual(expect.arrayContaining(['scope.kill', 'scope.revive']));
    await again.close();
  });
});

const pgUp = await postgresAvailable();
describe.runIf(pgUp)('audit log on PostgreSQL', () => {
  const schema = testSchemaName();
  afterAll(() => dropSchema(schema));

  it('refuses UPDATE, DELETE and TRUNCATE, keeps appending', async () => {
    const store = await openPostgresStore(PG_URL, { schema });
    await store.directory.ensureScope('acme/support', { create: true, actor: 'test' });
    await store.controls.kill('acme/support', 'drill', 'test');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`SET search_path TO "${schema}"`);
      await expect(client.query("UPDATE audit_log SET actor = 'someone-else'")).rejects.toThrow(/append-only/);
      await expect(client.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(client.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
    await store.controls.revive('acme/support', 'test');
    expect((await store.directory.audit({ limit: 5 })).map((a) => a.action)).toEqual(expect.arrayContaining(['scope.kill', 'scope.revive']));
    await store.close();
  });
});
