/**
 * `GET /api/calls` (read): the ledger rows behind a figure, newest first, paged by an opaque cursor,
 * with exact totals of the whole filter straight from the events, so a figure can be checked against
 * its rows. Pass the `from`/`to` of the `/api/spend` answer (whole hours) to get that row's calls.
 */
import type { FastifyInstance } from 'fastify';
import { TollgateError } from '../../domain/errors.ts';
import { nanoToDecimalString } from '../../domain/money.ts';
import type { EventQuery, LedgerEvent } from '../../ledger/contract.ts';
import { queryText, queryWhole } from '../query-params.ts';
import type { DashboardDeps } from './dashboard-deps.ts';
import { filterParams, periodParams } from './period-params.ts';
import { viewParam } from './view-param.ts';

export const DEFAULT_CALLS_PAGE = 50;
export const MAX_CALLS_PAGE = 200;

export function registerCallsRoutes(app: FastifyInstance, deps: Pick<DashboardDeps, 'store' | 'now'>): void {
  app.get('/api/calls', { config: { access: 'read' } }, async (req) => {
    const view = await viewParam(req, deps.store.directory);
    const { from, to } = periodParams(req, deps.now());
    const status = queryText(req, 'status');
    if (status !== undefined && status !== 'ok' && status !== 'error') throw new TollgateError('invalid_request', `status is ok or error; got "${status}"`, { details: { param: 'status' } });
    const limit = queryWhole(req, 'limit') ?? DEFAULT_CALLS_PAGE;
    if (limit < 1 || limit > MAX_CALLS_PAGE) throw new TollgateError('invalid_request', `limit is a whole number from 1 to ${MAX_CALLS_PAGE}; got ${limit}`, { details: { param: 'limit' } });
    const trace = queryText(req, 'trace');
    const cursor = queryText(req, 'cursor');
    const filter: Omit<EventQuery, 'cursor' | 'limit'> = {
      from,
      to,
      ...(view.within ? { within: view.within } : {}),
      ...filterParams(req),
      ...(trace === undefined ? {} : { traceId: trace }),
      ...(status === undefined ? {} : { status }),
    };
    const [page, totals] = await Promise.all([deps.store.ledger.events({ ...filter, limit, ...(cursor === undefined ? {} : { cursor }) }), deps.store.ledger.totals(filter)]);
    return {
      from,
      to,
      rows: page.rows.map(callJson),
      nextCursor: page.nextCursor,
      totals: { calls: totals.calls, spendUsd: nanoToDecimalString(totals.effectiveCostNano), spendNano: totals.effectiveCostNano.toString(), listUsd: nanoToDecimalString(totals.listCostNano) },
    };
  });
}

function callJson(e: LedgerEvent) {
  const u = e.usage;
  return {
    id: e.id,
    startedAt: e.startedAt,
    // The owner chain as stamped on the row (the same path `GET /api/calls/:id` shows).
    scope: `${e.chain.orgName}/${e.chain.teamName}/${e.chain.projectName}/${e.chain.agentName}`,
    provider: e.provider,
    requestedModel: e.requestedModel,
    servedModel: e.servedModel,
    route: e.route,
    status: e.status,
    errorCode: e.errorCode,
    stream: e.stream,
    estimated: e.estimated,
    traceId: e.traceId,
    customer: e.tags['customer'] ?? null,
    inputTokens: u.inputTokens,
    cacheReadTokens: u.cacheReadTokens,
    cacheWriteTokens: u.cacheWrite5mTokens + u.cacheWrite1hTokens,
    outputTokens: u.outputTokens,
    reasoningTokens: u.reasoningTokens,
    spendUsd: nanoToDecimalString(e.effectiveCostNano),
    spendNano: e.effectiveCostNano.toString(),
    listUsd: nanoToDecimalString(e.listCostNano),
    latencyMs: e.latencyMs,
    priceSource: e.priceSource,
    routeTier: e.routing?.tier ?? null,
  };
}
