/**
 * Chargeback on the admin API (the CLI's `report chargeback`, `report escalation`, `chargeback
 * adjust` and `teams flag`): statements, escalation advice, adjustments and team flags.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { adjustmentJson, chargebackStatement, flagsJson, parseAdjustmentAmount, statementJson } from '../analytics/chargeback.ts';
import { adviceJson, escalationAdvice } from '../analytics/escalation.ts';
import { TollgateError } from '../domain/errors.ts';
import type { Pricer } from '../pricing/index.ts';
import { createPricer } from '../pricing/index.ts';
import { actorOf, scopeOf } from './access.ts';
import type { RouteDeps } from './outcome-routes.ts';

/** `pricer`: the gateway's (custom prices, discounts); without it the bundled catalog splits line items. */
export type ChargebackRouteDeps = RouteDeps & { pricer?: Pricer };

export function registerChargebackRoutes(app: FastifyInstance, deps: ChargebackRouteDeps): void {
  const pricer = deps.pricer ?? createPricer();
  const store = deps.store;

  app.get('/api/reports/chargeback', { config: { access: 'read' } }, async (req) => {
    const q = query(req);
    const team = scopeOf(req, q['team']);
    const month = q['month'];
    if (!team || !month) throw new TollgateError('invalid_request', 'give ?team=org/team&month=YYYY-MM, e.g. ?team=acme/support&month=2026-10');
    const s = await chargebackStatement(store, pricer, { team, month });
    return statementJson(s, { lines: q['lines'] !== 'false' });
  });

  app.get('/api/reports/escalation', { config: { access: 'read' } }, async (req) => {
    const scope = scopeOf(req, query(req)['scope']);
    const advice = await escalationAdvice(store, { ...(scope ? { under: scope } : {}), now: deps.now() });
    return { data: advice.map(adviceJson) };
  });

  app.post('/api/chargeback/adjustments', { config: { access: 'admin' } }, async (req) => {
    const b = body(req);
    const kind = str(b, 'kind');
    if (kind !== 'credit' && kind !== 'correction') throw new TollgateError('invalid_request', '"kind" must be credit or correction', { details: { param: 'kind' } });
    const adjustment = await store.chargeback.addAdjustment(
      { teamPath: str(b, 'team'), period: str(b, 'month'), amountNano: parseAdjustmentAmount(str(b, 'amount_usd')), kind, reason: str(b, 'reason') },
      actorOf(req),
    );
    return { adjustment: adjustmentJson(adjustment) };
  });

  app.get('/api/chargeback/adjustments', { config: { access: 'read' } }, async (req) => {
    const q: Record<string, string | undefined> = { ...query(req), team: scopeOf(req, query(req)['team']) };
    if (!q['team']) throw new TollgateError('invalid_request', 'give ?team=org/team (and optionally &month=YYYY-MM)');
    const list = await store.chargeback.listAdjustments({ teamPath: q['team'], ...(q['month'] ? { period: q['month'] } : {}) });
    return { data: list.map(adjustmentJson) };
  });

  app.put('/api/teams/flags', { config: { access: 'admin' } }, async (req) => {
    const b = body(req);
    const flag = (name: string): boolean | undefined => {
      const v = b[name];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'boolean') throw new TollgateError('invalid_request', `"${name}" must be true or false`, { details: { param: name } });
      return v;
    };
    const billsCustomers = flag('bills_customers');
    const complianceHardLimits = flag('compliance_hard_limits');
    const { flags, before } = await store.chargeback.setTeamFlags(
      str(b, 'team'),
      { ...(billsCustomers === undefined ? {} : { billsCustomers }), ...(complianceHardLimits === undefined ? {} : { complianceHardLimits }) },
      actorOf(req),
    );
    return { flags: flagsJson(flags), before: flagsJson(before) };
  });

  app.get('/api/teams/flags', { config: { access: 'read' } }, async (req) => {
    const scope = scopeOf(req, query(req)['scope']);
    const list = await store.chargeback.listTeamFlags(scope ? { under: scope } : {});
    return { data: list.map(flagsJson) };
  });
}

function query(req: FastifyRequest): Record<string, string | undefined> {
  return req.query as Record<string, string | undefined>;
}

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new TollgateError('invalid_request', 'send a JSON object');
  return b as Record<string, unknown>;
}

function str(b: Record<string, unknown>, name: string): string {
  const v = b[name];
  if (v === undefined || v === null) throw new TollgateError('invalid_request', `missing "${name}"`, { details: { param: name } });
  if (typeof v !== 'string' && typeof v !== 'number') throw new TollgateError('invalid_request', `"${name}" must be a string`, { details: { param: name } });
  return String(v);
}
