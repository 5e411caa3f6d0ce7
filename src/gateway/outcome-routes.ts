/**
 * `POST /v1/outcomes`: agents report what they produced, with their own virtual key (so the outcome
 * carries the key's owner chain); errors in OpenAI's shape. And the admin API's unit-economics and
 * board reports.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { boardSummary } from '../analytics/board.ts';
import { boardJson, boardMarkdown } from '../analytics/board-report.ts';
import { unitEconomics } from '../analytics/unit-economics.ts';
import { unitEconomicsJson } from '../analytics/unit-json.ts';
import { parseOutcome } from '../analytics/unit-outcome-input.ts';
import { driftBandOf, driftWeeksOf, reportWindow } from '../analytics/unit-period.ts';
import { TollgateError } from '../domain/errors.ts';
import type { Store } from '../ledger/contract.ts';
import type { OutcomeInput } from '../ledger/outcomes-contract.ts';
import { scopeOf } from './access.ts';
import type { KeyCache } from './key-cache.ts';
import { presentedKey } from './proxy.ts';

export interface RouteDeps {
  store: Store;
  keys: KeyCache;
  adminKey: string | null;
  now: () => number;
}

/** Outcomes one request may carry. */
export const MAX_OUTCOMES_PER_REQUEST = 1000;

/** POST /v1/outcomes and the unit-economics and board reports of the admin API. */
export function registerOutcomeRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/v1/outcomes', async (req) => {
    const key = await deps.keys.authenticate(presentedKey(req));
    const chain = key.chain;
    if (!chain) throw new TollgateError('key_invalid', `${key.display} is not bound to an agent; outcomes are reported with the agent's key`);
    const body = req.body;
    if (body === null || body === undefined || typeof body !== 'object' || Array.isArray(body)) {
      throw new TollgateError('invalid_request', 'send one outcome as a JSON object, or {"outcomes": [...]} for several');
    }
    const b = body as Record<string, unknown>;
    const batch = 'outcomes' in b;
    let raw: unknown[];
    if (batch) {
      if (Object.keys(b).length !== 1) throw new TollgateError('invalid_request', 'a batch is {"outcomes": [...]} and nothing else', { details: { param: 'outcomes' } });
      if (!Array.isArray(b['outcomes'])) throw new TollgateError('invalid_request', '"outcomes" must be an array of outcome objects', { details: { param: 'outcomes' } });
      raw = b['outcomes'];
      if (raw.length === 0) throw new TollgateError('invalid_request', '"outcomes" is empty', { details: { param: 'outcomes' } });
      if (raw.length > MAX_OUTCOMES_PER_REQUEST) throw new TollgateError('invalid_request', `at most ${MAX_OUTCOMES_PER_REQUEST} outcomes per request (got ${raw.length}); split the batch`, { details: { param: 'outcomes' } });
    } else raw = [b];
    const now = deps.now();
    const outcomes: OutcomeInput[] = raw.map((r, i) => {
      try {
        return { ...parseOutcome(r, now), chain, keyId: key.id };
      } catch (err) {
        if (err instanceof TollgateError && batch) throw new TollgateError(err.code, `outcomes[${i}]: ${err.message}`, { details: { param: `outcomes[${i}]` } });
        throw err;
      }
    });
    const res = await deps.store.outcomes.record(outcomes).catch((err: unknown) => {
      // The store numbers outcomes from 1; the API's batch is indexed from 0.
      if (err instanceof TollgateError && typeof err.details?.['index'] === 'number') {
        const i = err.details['index'];
        throw new TollgateError(err.code, batch ? err.message.replace(/^outcome \d+: /, `outcomes[${i}]: `) : err.message.replace(/^outcome \d+: /, ''), { details: { param: batch ? `outcomes[${i}]` : 'type' } });
      }
      throw err;
    });
    return { object: 'outcome.batch', inserted: res.inserted, duplicates: res.duplicates };
  });

  const query = (req: FastifyRequest) => req.query as Record<string, string | undefined>;

  app.get('/api/reports/unit-economics', { config: { access: 'read' } }, async (req) => {
    const q: Record<string, string | undefined> = { ...query(req), scope: scopeOf(req, query(req)['scope']) };
    if (!q['scope']) throw new TollgateError('invalid_request', 'give ?scope=acme/support (and from=…&to=… or month=YYYY-MM; default this month)');
    const window = reportWindow({ month: q['month'], from: q['from'], to: q['to'] }, deps.now());
    const report = await unitEconomics(deps.store, {
      scope: q['scope'],
      from: window.from,
      to: window.to,
      label: window.label,
      now: deps.now(),
      ...(q['drift_band'] === undefined ? {} : { driftBandCentiPct: driftBandOf(q['drift_band']) }),
      ...(q['drift_weeks'] === undefined ? {} : { driftWeeks: driftWeeksOf(q['drift_weeks']) }),
    });
    return unitEconomicsJson(report);
  });

  app.get('/api/reports/board', { config: { access: 'read' } }, async (req, reply) => {
    const q: Record<string, string | undefined> = { ...query(req), org: scopeOf(req, query(req)['org']) };
    // The board summary is org-wide: a viewer of one team reads its team's reports instead.
    if (q['org']?.includes('/')) throw new TollgateError('forbidden', `the board summary covers a whole org; ${q['org']} is a part of one`);
    if (!q['quarter']) throw new TollgateError('invalid_request', 'give ?quarter=2026-Q4');
    const summary = await boardSummary(deps.store, { quarter: q['quarter'], org: q['org'], now: deps.now() });
    if (q['format'] === 'markdown') return reply.type('text/markdown; charset=utf-8').send(boardMarkdown(summary));
    if (q['format'] !== undefined && q['format'] !== 'json') throw new TollgateError('invalid_request', 'format is json or markdown');
    return boardJson(summary);
  });
}

