import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './outcome-routes.ts';

/** Showback and chargeback reports and adjustments on the admin API. */
export function registerChargebackRoutes(_app: FastifyInstance, _deps: RouteDeps): void {}
