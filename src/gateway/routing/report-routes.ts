/** `GET /api/reports/routing?days=30|month=YYYY-MM&scope=…` (admin key): the routing report as JSON. */
import type { FastifyInstance } from 'fastify';
import { routingJson, routingPeriod, routingReport } from '../../analytics/routing.ts';
import { TollgateError } from '../../domain/errors.ts';
import type { Pricer } from '../../pricing/index.ts';
import { queryText } from '../query-params.ts';
import { scopeOf } from '../access.ts';
import type { RouteDeps } from '../outcome-routes.ts';

export function registerRoutingReportRoutes(app: FastifyInstance, deps: RouteDeps & { pricer: Pricer }): void {
  app.get('/api/reports/routing', { config: { access: 'read' } }, async (req) => {
    const text = (name: string) => queryText(req, name);
    const days = text('days');
    if (days !== undefined && !/^\d{1,4}$/.test(days)) throw new TollgateError('invalid_request', `days must be a whole number from 1 to 3660, got "${days}"`);
    const month = text('month');
    const scope = scopeOf(req, text('scope'));
    const period = routingPeriod({ ...(days === undefined ? {} : { days: Number(days) }), ...(month === undefined ? {} : { month }) }, deps.now());
    const r = await routingReport(deps.store, deps.pricer, { from: period.from, to: period.to, ...(scope === undefined ? {} : { scope }) });
    return { period: period.label, ...routingJson(r) };
  });
}
