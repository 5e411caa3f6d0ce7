/**
 * Reading an admin route's query string: each parameter once, as text, with errors that name it.
 * A parameter given twice arrives as an array, which is refused rather than guessed at.
 */
import type { FastifyRequest } from 'fastify';
import { TollgateError } from '../domain/errors.ts';

/** The parameter's text; undefined when absent or empty. */
export function queryText(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new TollgateError('invalid_request', `give ${name} once, as text`);
  return v;
}

/** `1`/`true` or `0`/`false`; undefined when absent. */
export function queryFlag(req: FastifyRequest, name: string): boolean | undefined {
  const v = queryText(req, name);
  if (v === undefined) return undefined;
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new TollgateError('invalid_request', `${name} is 1 or 0 (true or false), got "${v}"`);
}

/** A whole number (at most nine digits); undefined when absent. */
export function queryWhole(req: FastifyRequest, name: string): number | undefined {
  const v = queryText(req, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new TollgateError('invalid_request', `${name} must be a whole number, got "${v}"`);
  return Number(v);
}
