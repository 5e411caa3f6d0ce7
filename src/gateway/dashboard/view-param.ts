/** The scope a dashboard read is about, from its `scope` parameter, checked against what the caller may see. */
import type { FastifyRequest } from 'fastify';
import type { View } from '../../analytics/view-scope.ts';
import { resolveView } from '../../analytics/view-scope.ts';
import type { Directory } from '../../ledger/contract.ts';
import { scopeOf } from '../access.ts';
import { queryText } from '../query-params.ts';

/** A viewer gets its own scope by default and 403 outside it; the admin gets what it asked for, or its only org, or everything. */
export function viewParam(req: FastifyRequest, directory: Pick<Directory, 'getScope' | 'listScopes'>, name = 'scope'): Promise<View> {
  return resolveView(directory, scopeOf(req, queryText(req, name)));
}
