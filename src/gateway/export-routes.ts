/**
 * FOCUS 1.2 export on the admin API: `GET /api/export/focus?from=2026-10-01&to=2026-11-01[&scope=acme]`
 * streams CSV page by page. The query (and the first page) is checked before the response starts,
 * so a bad request gets the admin API's JSON error rather than a truncated file.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { focusCsv, parseFocusDay } from '../analytics/focus.ts';
import { TollgateError } from '../domain/errors.ts';
import type { Pricer } from '../pricing/index.ts';
import { createPricer } from '../pricing/index.ts';
import { scopeOf } from './access.ts';
import type { RouteDeps } from './outcome-routes.ts';

/** `pricer`: the gateway's (custom prices, discounts); without it the bundled catalog gives unit prices. */
export type ExportRouteDeps = RouteDeps & { pricer?: Pricer };

export function registerExportRoutes(app: FastifyInstance, deps: ExportRouteDeps): void {
  const pricer = deps.pricer ?? createPricer();

  app.get('/api/export/focus', { config: { access: 'read' } }, async (req, reply) => {
    const raw = req.query as Record<string, string | undefined>;
    const q: Record<string, string | undefined> = { ...raw, scope: scopeOf(req, raw['scope']) };
    if (!q['from'] || !q['to']) throw new TollgateError('invalid_request', 'give ?from=YYYY-MM-DD&to=YYYY-MM-DD (whole UTC days, to exclusive), e.g. ?from=2026-10-01&to=2026-11-01');
    const from = parseFocusDay(q['from'], 'from');
    const to = parseFocusDay(q['to'], 'to');
    const chunks = focusCsv(deps.store, pricer, { from, to, ...(q['scope'] ? { scope: q['scope'] } : {}) });
    // The header comes only after the first page was read: errors so far are still answerable as JSON.
    const head = await chunks.next();
    async function* body(): AsyncGenerator<string> {
      if (!head.done) yield head.value;
      yield* chunks;
    }
    const name = `focus-${q['from'].slice(0, 10)}-${q['to'].slice(0, 10)}.csv`.replace(/[^\w.-]/g, '_');
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(Readable.from(body()));
  });
}
