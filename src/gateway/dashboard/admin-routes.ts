/** The dashboard's administrative API: keys, the audit log, the forecast and the reconciliation. */
import type { FastifyInstance } from 'fastify';
import { registerAuditRoutes } from './audit-routes.ts';
import type { ForecastRouteDeps } from './forecast-routes.ts';
import { registerForecastRoutes } from './forecast-routes.ts';
import type { KeysRouteDeps } from './keys-routes.ts';
import { registerKeysRoutes } from './keys-routes.ts';
import type { ReconcileRouteDeps } from './reconcile-routes.ts';
import { registerReconcileRoutes } from './reconcile-routes.ts';

export type AdminRouteDeps = KeysRouteDeps & ForecastRouteDeps & ReconcileRouteDeps;

export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  registerKeysRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerForecastRoutes(app, deps);
  registerReconcileRoutes(app, deps);
}
