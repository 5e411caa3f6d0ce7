/** `GET /api/rollout?scope` (read; a viewer gets its subtree's part): what is wired and what to do next. */
import type { FastifyInstance } from 'fastify';
import { rollout, rolloutJson } from '../../analytics/rollout.ts';
import type { DashboardDeps } from './dashboard-deps.ts';
import { viewParam } from './view-param.ts';

export function registerRolloutRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  app.get('/api/rollout', { config: { access: 'read' } }, async (req) => {
    const view = await viewParam(req, deps.store.directory);
    return rolloutJson(await rollout(deps.store, { view, now: deps.now(), anomaliesOn: deps.anomaliesOn ?? false, alertSinks: deps.alertSinks ?? 0 }));
  });
}
