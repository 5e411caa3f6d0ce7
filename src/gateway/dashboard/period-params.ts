/**
 * The query parameters the dashboard's reads share: the period (`from`, `to` as an ISO date, an ISO
 * date-time or epoch ms; `to` exclusive; by default this UTC month up to now), the provider, model
 * and customer filters, and `groupBy`.
 */
import type { FastifyRequest } from 'fastify';
import type { SpendFilters } from '../../analytics/spend-table.ts';
import { monthContaining } from '../../analytics/showback.ts';
import { parseInstant } from '../../analytics/unit-period.ts';
import { TollgateError } from '../../domain/errors.ts';
import type { GroupBy } from '../../ledger/contract.ts';
import { queryText } from '../query-params.ts';

const DAY_MS = 86_400_000;
/** Longest period a read covers. */
const MAX_PERIOD_MS = 3 * 366 * DAY_MS;
const GROUPS = ['org', 'team', 'project', 'agent', 'model', 'provider'] as const satisfies readonly GroupBy[];

/** An instant parameter: `2026-11-01`, `2026-11-01T00:00:00Z` or epoch ms; undefined when absent. */
export function instantParam(req: FastifyRequest, name: string): number | undefined {
  const v = queryText(req, name);
  if (v === undefined) return undefined;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  return parseInstant(v, name);
}

/** `from`/`to` (to exclusive), by default the current UTC month up to now. */
export function periodParams(req: FastifyRequest, now: number): { from: number; to: number } {
  const from = instantParam(req, 'from') ?? monthContaining(now).from;
  const to = instantParam(req, 'to') ?? now;
  if (to <= from) throw new TollgateError('invalid_request', `"to" (${new Date(to).toISOString()}) must be after "from" (${new Date(from).toISOString()}); to is exclusive`, { details: { param: 'to' } });
  if (to - from > MAX_PERIOD_MS) throw new TollgateError('invalid_request', 'a period covers at most three years; narrow from/to', { details: { param: 'from' } });
  return { from, to };
}

/** `provider`, `model` (the served model) and `customer`, each when given. */
export function filterParams(req: FastifyRequest): SpendFilters {
  const out: SpendFilters = {};
  for (const name of ['provider', 'model', 'customer'] as const) {
    const v = queryText(req, name);
    if (v === undefined) continue;
    if (v.length > 200) throw new TollgateError('invalid_request', `${name} is at most 200 characters`, { details: { param: name } });
    out[name] = v;
  }
  return out;
}

/** `groupBy`: org, team, project, agent, model or provider; undefined when absent. */
export function groupByParam(req: FastifyRequest): GroupBy | undefined {
  const v = queryText(req, 'groupBy');
  if (v === undefined) return undefined;
  if (!(GROUPS as readonly string[]).includes(v)) throw new TollgateError('invalid_request', `groupBy is one of ${GROUPS.join(', ')}; got "${v}"`, { details: { param: 'groupBy' } });
  return v as GroupBy;
}
