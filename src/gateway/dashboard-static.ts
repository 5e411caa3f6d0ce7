/**
 * The dashboard's files (the Vite build in web/dist) served at `/`. Hashed assets are cached for a
 * year; index.html never is, so a new build is picked up on reload. Pages carry a strict CSP: the
 * dashboard loads nothing from anywhere else (ECharts sets inline styles, hence style-src 'unsafe-inline').
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build:web` writes the dashboard. */
export const DEFAULT_DASHBOARD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function registerDashboard(app: FastifyInstance, dir: string = DEFAULT_DASHBOARD_DIR): Promise<{ built: boolean }> {
  const built = existsSync(join(dir, 'index.html'));
  const secure = (reply: FastifyReply) =>
    reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
  if (!built) {
    app.get('/', async (_req, reply) =>
      secure(reply)
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><meta charset="utf-8"><title>Tollgate</title><body style="font-family:system-ui;max-width:40rem;margin:3rem auto">' +
            '<h1>Tollgate is running</h1><p>The dashboard has not been built in this checkout. Run <code>npm run build:web</code> ' +
            '(or start with <code>npm start</code>, which builds it) and reload.</p><p>The API is at <code>/api/</code>, the proxy at <code>/v1/</code>.</p></body>',
        ),
    );
    return { built };
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: ['index.html'],
    // The build writes .br and .gz beside each asset (web/precompress.ts): served as the browser accepts.
    preCompressed: true,
    // Our own cache-control below (a year for hashed assets, none for index.html), not the plugin's max-age=0.
    cacheControl: false,
    // Files are looked up per request, so a rebuild (npm run build:web) is served without a restart.
    wildcard: true,
    setHeaders(res, path) {
      res.setHeader('cache-control', /[/\\]assets[/\\]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      // The same URL is sent as br, gzip or plain by Accept-Encoding: shared caches must key on it.
      res.setHeader('vary', 'accept-encoding');
      res.setHeader('content-security-policy', CSP);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('x-frame-options', 'DENY');
    },
  });
  return { built };
}
