import type { FastifyInstance } from 'fastify';
import type { Store } from '../ledger/contract.ts';
import type { KeyCache } from './key-cache.ts';

export interface RouteDeps {
  store: Store;
  keys: KeyCache;
  adminKey: string | null;
  now: () => number;
}

/** POST /v1/outcomes and the unit-economics and board reports of the admin API. */
export function registerOutcomeRoutes(_app: FastifyInstance, _deps: RouteDeps): void {}
