/**
 * Anomalies on the admin API (the CLI's `anomalies`): the list and one anomaly with its evidence,
 * resolving by hand, the auto-kill policies, and the alert delivery log with its dead letters.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { anomalyPolicyInput, anomalyQuery, deliveryJson, policyJson } from '../alerts/admin-input.ts';
import { anomalyJson } from '../alerts/payload.ts';
import { TollgateError } from '../domain/errors.ts';
import type { AlertEvent, AnomalyAlert } from '../ledger/anomalies-contract.ts';
import { actorOf, scopeOf, sees } from './access.ts';
import { queryFlag, queryText, queryWhole } from './query-params.ts';
import type { RouteDeps } from './outcome-routes.ts';

export type AnomalyRouteDeps = Pick<RouteDeps, 'store' | 'adminKey' | 'now'> & {
  /** Base URL of the dashboard, for the links in the JSON. */
  dashboardUrl?: string | null;
  /** Told when an admin resolves an anomaly, to send the "resolved" alert (the gateway passes its dispatcher). */
  alerts?: { deliver(alert: AnomalyAlert, event: AlertEvent): void } | null;
};

export function registerAnomalyRoutes(app: FastifyInstance, deps: AnomalyRouteDeps): void {
  const store = deps.store;
  const dashboard = deps.dashboardUrl ?? null;

  app.get('/api/anomalies', { config: { access: 'read' } }, async (req) => {
    const list = await store.anomalies.list(
      anomalyQuery({ open: queryFlag(req, 'open'), scope: scopeOf(req, queryText(req, 'scope')), since: queryText(req, 'since'), limit: queryWhole(req, 'limit'), offset: queryWhole(req, 'offset') }, deps.now()),
    );
    return { data: list.map((a) => anomalyJson(a, dashboard)) };
  });

  app.get('/api/anomalies/:id', { config: { access: 'read' } }, async (req) => {
    const { id } = req.params as { id: string };
    const a = await store.anomalies.get(id);
    if (!a || !sees(req, a.path)) throw new TollgateError('not_found', `no anomaly ${id}`);
    const deliveries = await store.anomalies.deliveries({ anomalyId: a.id });
    return { ...anomalyJson(a, dashboard), evidence: a.evidence, deliveries: deliveries.map(deliveryJson) };
  });

  app.post('/api/anomalies/:id/resolve', { config: { access: 'admin' } }, async (req) => {
    const { id } = req.params as { id: string };
    const a = await store.anomalies.resolveById(id, actorOf(req), deps.now());
    deps.alerts?.deliver(a, 'resolved');
    return { anomaly: anomalyJson(a, dashboard) };
  });

  app.get('/api/anomaly-policies', { config: { access: 'read' } }, async (req) => {
    const scope = scopeOf(req, queryText(req, 'scope'));
    const list = await store.anomalies.listPolicies(scope === undefined ? {} : { under: scope });
    return { data: list.map(policyJson) };
  });

  app.put('/api/anomaly-policies', { config: { access: 'admin' } }, async (req) => {
    const b = body(req);
    const scope = b['scope'];
    if (typeof scope !== 'string') throw new TollgateError('invalid_request', 'missing "scope" (a scope path, e.g. acme/support)', { details: { param: 'scope' } });
    const autoKill = b['auto_kill'];
    if (typeof autoKill !== 'boolean') throw new TollgateError('invalid_request', '"auto_kill" must be true or false', { details: { param: 'auto_kill' } });
    const min = b['min_usd_per_hour'];
    if (typeof min !== 'string' && typeof min !== 'number') throw new TollgateError('invalid_request', '"min_usd_per_hour" must be an amount of USD per hour, e.g. "5" or 12.5', { details: { param: 'min_usd_per_hour' } });
    const { policy, before } = await store.anomalies.setPolicy(anomalyPolicyInput({ scope, autoKill, minUsdPerHour: min }), actorOf(req));
    return { policy: policyJson(policy), replaced: before !== null };
  });

  app.delete('/api/anomaly-policies', { config: { access: 'admin' } }, async (req) => {
    const scope = queryText(req, 'scope');
    if (scope === undefined) throw new TollgateError('invalid_request', 'give ?scope=… of the policy to delete');
    const gone = await store.anomalies.deletePolicy(scope, actorOf(req));
    return { deleted: policyJson(gone) };
  });

  app.get('/api/alert-deliveries', { config: { access: 'admin' } }, async (req) => {
    const state = queryText(req, 'state');
    if (state !== undefined && state !== 'dead' && state !== 'delivered') throw new TollgateError('invalid_request', `state is dead or delivered, got "${state}"`);
    const anomaly = queryText(req, 'anomaly');
    const limit = queryWhole(req, 'limit');
    const list = await store.anomalies.deliveries({ ...(state === undefined ? {} : { state }), ...(anomaly === undefined ? {} : { anomalyId: anomaly }), ...(limit === undefined ? {} : { limit }) });
    return { data: list.map(deliveryJson) };
  });
}

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new TollgateError('invalid_request', 'send a JSON object');
  return b as Record<string, unknown>;
}

