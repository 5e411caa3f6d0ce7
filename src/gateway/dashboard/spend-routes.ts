/**
 * `GET /api/spend` (the explore table) and `GET /api/spend/series` (its time series), both read:
 * a viewer reads its own subtree (its own scope by default) and gets 403 outside it.
 */
import type { FastifyInstance } from 'fastify';
import type { SeriesBucket } from '../../analytics/spend-series.ts';
import { spendSeries, spendSeriesJson } from '../../analytics/spend-series.ts';
import { spendTable, spendTableJson } from '../../analytics/spend-table.ts';
import { childGroup } from '../../analytics/view-scope.ts';
import { TollgateError } from '../../domain/errors.ts';
import { queryText } from '../query-params.ts';
import type { DashboardDeps } from './dashboard-deps.ts';
import { filterParams, groupByParam, periodParams } from './period-params.ts';
import { viewParam } from './view-param.ts';

const BUCKETS = ['hour', 'day', 'week'] as const satisfies readonly SeriesBucket[];

export function registerSpendRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  app.get('/api/spend', { config: { access: 'read' } }, async (req) => {
    const view = await viewParam(req, deps.store.directory);
    const now = deps.now();
    const { from, to } = periodParams(req, now);
    const table = await spendTable(deps.store, {
      view,
      from,
      to,
      groupBy: groupByParam(req) ?? childGroup(view.node?.tier ?? null),
      filters: filterParams(req),
      now,
      counters: deps.counters ?? null,
    });
    return spendTableJson(table);
  });

  app.get('/api/spend/series', { config: { access: 'read' } }, async (req) => {
    const view = await viewParam(req, deps.store.directory);
    const now = deps.now();
    const { from, to } = periodParams(req, now);
    const bucket = queryText(req, 'bucket') ?? 'day';
    if (!(BUCKETS as readonly string[]).includes(bucket)) throw new TollgateError('invalid_request', `bucket is hour, day or week; got "${bucket}"`, { details: { param: 'bucket' } });
    const series = await spendSeries(deps.store, { view, from, to, bucket: bucket as SeriesBucket, groupBy: queryText(req, 'groupBy') === 'none' ? null : (groupByParam(req) ?? null), filters: filterParams(req), now });
    return spendSeriesJson(series);
  });
}
