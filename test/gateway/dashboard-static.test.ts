/**
 * The dashboard's files as the gateway serves them: precompressed assets by Accept-Encoding, a year's
 * cache for hashed assets and none for index.html, the security headers, and a clear page when the
 * dashboard was never built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { registerDashboard } from '../../src/gateway/dashboard-static.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-static-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const js = 'console.log("tollgate dashboard");\n'.repeat(100);

describe('dashboard files', () => {
  it('serves precompressed assets by Accept-Encoding, cached for a year; index.html never cached', async () => {
    const dist = join(dir, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Tollgate</title><script type="module" src="/assets/app-1a2b.js"></script>');
    writeFileSync(join(dist, 'assets', 'app-1a2b.js'), js);
    writeFileSync(join(dist, 'assets', 'app-1a2b.js.br'), brotliCompressSync(js));
    writeFileSync(join(dist, 'assets', 'app-1a2b.js.gz'), gzipSync(js));
    const app = Fastify();
    expect(await registerDashboard(app, dist)).toEqual({ built: true });
    try {
      const br = await app.inject({ url: '/assets/app-1a2b.js', headers: { 'accept-encoding': 'gzip, br' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.rawPayload.length).toBeLessThan(js.length / 10);
      const gz = await app.inject({ url: '/assets/app-1a2b.js', headers: { 'accept-encoding': 'gzip' } });
      expect(gz.headers['content-encoding']).toBe('gzip');
      const plain = await app.inject({ url: '/assets/app-1a2b.js' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body).toBe(js);
      for (const r of [br, gz, plain]) {
        expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(r.headers['vary']).toBe('accept-encoding');
      }
      const index = await app.inject({ url: '/' });
      expect(index.statusCode).toBe(200);
      expect(index.headers['cache-control']).toBe('no-cache');
      expect(index.headers['content-security-policy']).toContain("default-src 'self'");
      expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(index.headers['x-content-type-options']).toBe('nosniff');
    } finally {
      await app.close();
    }
  });

  it('says how to build the dashboard when web/dist is missing', async () => {
    const app = Fastify();
    expect(await registerDashboard(app, join(dir, 'never-built'))).toEqual({ built: false });
    try {
      const res = await app.inject({ url: '/' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('npm run build:web');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    } finally {
      await app.close();
    }
  });
});
