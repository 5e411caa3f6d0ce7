import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { TollgateError } from '../domain/errors.ts';

/** Checks `Authorization: Bearer <admin key>` in constant time (hashes first, so lengths never leak). */
export function requireAdmin(req: FastifyRequest, adminKey: string | null): void {
  if (adminKey === null) throw new TollgateError('forbidden', 'the admin API is disabled: set TOLLGATE_ADMIN_KEY to enable it');
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new TollgateError('unauthenticated', 'the admin API needs "Authorization: Bearer <admin key>"');
  const a = createHash('sha256').update(m[1]!.trim()).digest();
  const b = createHash('sha256').update(adminKey).digest();
  if (!timingSafeEqual(a, b)) throw new TollgateError('unauthenticated', 'wrong admin key');
}
