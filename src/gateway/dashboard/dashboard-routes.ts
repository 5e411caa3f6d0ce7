/**
 * The dashboard's read API, part one: scopes, spend (table and series), the calls behind a figure,
 * the overview and the rollout status. Every route is `read`: the admin sees everything, a viewer
 * its own subtree (see access.ts).
 */
import type { FastifyInstance } from 'fastify';
import { registerCallsRoutes } from './calls-routes.ts';
import type { DashboardDeps } from './dashboard-deps.ts';
import { registerOverviewRoutes } from './overview-routes.ts';
import { registerRolloutRoutes } from './rollout-routes.ts';
import { registerScopeRoutes } from './scope-routes.ts';
import { registerSpendRoutes } from './spend-routes.ts';

export type { DashboardDeps } from './dashboard-deps.ts';

export function registerDashboardRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  registerScopeRoutes(app, deps);
  registerSpendRoutes(app, deps);
  registerCallsRoutes(app, deps);
  registerOverviewRoutes(app, deps);
  registerRolloutRoutes(app, deps);
}
