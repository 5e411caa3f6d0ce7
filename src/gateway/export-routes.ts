import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './outcome-routes.ts';

/** FOCUS export on the admin API. */
export function registerExportRoutes(_app: FastifyInstance, _deps: RouteDeps): void {}
