import type { FastifyRequest } from 'fastify';
import { TollgateError } from '../domain/errors.ts';
import { hashesEqual, hashKey } from '../domain/virtual-key.ts';

/** Checks `Authorization: Bearer <admin key>` in constant time (hashes first, so lengths never leak). */
export function requireAdmin(req: FastifyRequest, adminKey: string | null): void {
  if (adminKey === null) throw new TollgateError('forbidden', 'the admin API is disabled: set TOLLGATE_ADMIN_KEY to enable it');
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new TollgateError('unauthenticated', 'the admin API needs "Authorization: Bearer <admin key>"');
  if (!hashesEqual(hashKey(m[1]!.trim()), hashKey(adminKey))) throw new TollgateError('unauthenticated', 'wrong admin key');
}
