/** `GET /api/overview?scope` (read): this month against plan and budget, forecast, anomalies, movers, unit trend. */
import type { FastifyInstance } from 'fastify';
import { overview, overviewJson } from '../../analytics/overview.ts';
import type { DashboardDeps } from './dashboard-deps.ts';
import { viewParam } from './view-param.ts';

export function registerOverviewRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  app.get('/api/overview', { config: { access: 'read' } }, async (req) => {
    const view = await viewParam(req, deps.store.directory);
    return overviewJson(await overview(deps.store, { view, now: deps.now(), counters: deps.counters ?? null }));
  });
}
