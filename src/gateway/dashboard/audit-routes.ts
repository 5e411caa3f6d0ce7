/** `GET /api/audit?limit&target` (admin): the audit log of administrative changes, newest first. */
import type { FastifyInstance } from 'fastify';
import { TollgateError } from '../../domain/errors.ts';
import type { Store } from '../../ledger/contract.ts';
import { queryText, queryWhole } from '../query-params.ts';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export function registerAuditRoutes(app: FastifyInstance, deps: { store: Store }): void {
  app.get('/api/audit', { config: { access: 'admin' } }, async (req) => {
    const limit = queryWhole(req, 'limit') ?? DEFAULT_LIMIT;
    if (limit < 1 || limit > MAX_LIMIT) throw new TollgateError('invalid_request', `limit is a whole number from 1 to ${MAX_LIMIT}, got ${limit}`, { details: { param: 'limit' } });
    const target = queryText(req, 'target');
    const entries = await deps.store.directory.audit({ limit, ...(target === undefined ? {} : { target }) });
    return { data: entries };
  });
}
