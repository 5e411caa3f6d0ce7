/** `GET /api/scopes?under=<path>` (read): every live scope the caller may see, in path order. */
import type { FastifyInstance } from 'fastify';
import { TollgateError } from '../../domain/errors.ts';
import { formatScope, parseScope } from '../../domain/scope.ts';
import { scopeOf, sees } from '../access.ts';
import { queryText } from '../query-params.ts';
import type { DashboardDeps } from './dashboard-deps.ts';

export function registerScopeRoutes(app: FastifyInstance, deps: Pick<DashboardDeps, 'store'>): void {
  app.get('/api/scopes', { config: { access: 'read' } }, async (req) => {
    const asked = scopeOf(req, queryText(req, 'under'));
    const under = asked === undefined ? undefined : formatScope(parseScope(asked));
    const nodes = await deps.store.directory.listScopes(under === undefined ? {} : { under });
    if (under !== undefined && nodes.length === 0) throw new TollgateError('not_found', `scope "${under}" does not exist or is archived (see \`tollgate scopes list\`)`);
    return {
      data: nodes
        .filter((n) => sees(req, n.path))
        .map((n) => ({ id: n.id, path: n.path, tier: n.tier, name: n.name, parentPath: n.path.includes('/') ? n.path.slice(0, n.path.lastIndexOf('/')) : null })),
    };
  });
}
