import type { FastifyInstance } from 'fastify';
import { monthContaining, showback, showbackCsv, showbackJson } from '../analytics/showback.ts';
import { toCsv } from '../cli/output.ts';
import { TollgateError } from '../domain/errors.ts';
import { queryText } from './query-params.ts';
import { scopeOf } from './access.ts';
import type { RouteDeps } from './outcome-routes.ts';

/** `GET /api/reports/showback?month=YYYY-MM&scope=org|org/team&format=json|csv` (admin key). */
export function registerShowbackRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/api/reports/showback', { config: { access: 'read' } }, async (req, reply) => {
    const text = (name: string) => queryText(req, name);
    const format = text('format') ?? 'json';
    if (format !== 'json' && format !== 'csv') throw new TollgateError('invalid_request', `format must be json or csv, got "${format}"`);
    const scope = scopeOf(req, text('scope'));
    const r = await showback(deps.store, { month: text('month') ?? monthContaining(deps.now()).label, ...(scope === undefined ? {} : { scope }) });
    if (format === 'json') return showbackJson(r);
    const { headers, rows } = showbackCsv(r);
    const name = `showback-${r.scope.path.replace(/\//g, '_')}-${r.month.label}.csv`;
    return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(toCsv(headers, rows));
  });
}
