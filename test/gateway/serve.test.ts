/**
 * `tollgate serve` as a user runs it (what `npm start` does): a real process in demo mode, a call
 * with the printed key, a graceful stop that leaves the call in the ledger.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tollgate serve (demo mode)', () => {
  it('starts, prints a working key and curl line, serves a call, and stops cleanly on SIGTERM', async () => {
    const db = join(dir, 'serve.db');
    const child = spawn(process.execPath, ['bin/tollgate.js', 'serve', '--port', '0', '--no-traffic'], {
      env: { ...process.env, TOLLGATE_DB: db, TOLLGATE_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => out.includes('Spend so far'), { timeout: 60_000, interval: 100 }).toBe(true);
      const url = /Tollgate gateway on (http:\/\/\S+)/.exec(out)?.[1];
      const key = /shown once:\s+(tg-[A-Za-z0-9_-]{43})/.exec(out)?.[1];
      expect(url).toBeDefined();
      expect(key).toBeDefined();
      expect(out).toContain(`curl -s ${url}/v1/chat/completions -H "Authorization: Bearer ${key}"`);

      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Hello from Tollgate' }] }),
      });
      expect(res.status).toBe(200);
      const id = res.headers.get('x-tollgate-request-id')!;
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('Stopping');
      expect(err).not.toContain(key!);

      const store = await openSqliteStore(db);
      try {
        const row = await store.ledger.get(id);
        expect(row).toMatchObject({ route: 'openai.chat', status: 200, provider: 'openai', servedModel: 'gpt-4.1-mini' });
        expect(row!.effectiveCostNano).toBeGreaterThan(0n);
        // 90 days of demo history came with it.
        expect((await store.ledger.totals({})).calls).toBeGreaterThan(50_000);
      } finally {
        await store.close();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
