/**
 * `GET /api/reconcile?from&to|month&provider&tolerance` (admin): the report `tollgate reconcile --json`
 * prints, from the same functions. It names provider key, project and workspace ids, so viewers
 * never read it. Without the gateway's provider credentials (the config's `reconcile:` section),
 * bypass is undetectable and the report says so in `bypass_undetectable`.
 */
import type { FastifyInstance } from 'fastify';
import { reconcile } from '../../analytics/reconcile.ts';
import type { ReconcileSettings } from '../../analytics/reconcile-json.ts';
import { gatewayIdentities, reconcileJson, toleranceOf, unconfiguredProviders } from '../../analytics/reconcile-json.ts';
import { reportWindow } from '../../analytics/unit-period.ts';
import { TollgateError } from '../../domain/errors.ts';
import type { Store } from '../../ledger/contract.ts';
import type { ReportProvider } from '../../ledger/provider-usage-contract.ts';
import { REPORT_PROVIDERS } from '../../ledger/provider-usage-contract.ts';
import type { Pricer } from '../../pricing/index.ts';
import { queryText } from '../query-params.ts';

export interface ReconcileRouteDeps {
  store: Store;
  pricer: Pricer;
  now: () => number;
  /** The config's `reconcile:` section; absent: no gateway credentials, 1% tolerance. */
  reconcile?: ReconcileSettings | null | undefined;
}

export function registerReconcileRoutes(app: FastifyInstance, deps: ReconcileRouteDeps): void {
  app.get('/api/reconcile', { config: { access: 'admin' } }, async (req, reply) => {
    const q = (name: string) => queryText(req, name);
    const window = reportWindow({ month: q('month'), from: instant(q('from')), to: instant(q('to')) }, deps.now());
    const p = q('provider')?.trim().toLowerCase();
    if (p !== undefined && !(REPORT_PROVIDERS as readonly string[]).includes(p)) {
      throw new TollgateError('invalid_request', `provider "${p}" must be ${REPORT_PROVIDERS.join(' or ')}`, { details: { param: 'provider' } });
    }
    const provider = p as ReportProvider | undefined;
    const toleranceBp = toleranceOf(q('tolerance') ?? String(deps.reconcile?.tolerance_pct ?? 1));
    const gateway = gatewayIdentities(deps.reconcile);
    const report = await reconcile(deps.store.providerUsage, { from: window.from, to: window.to, ...(provider ? { provider } : {}) }, { gateway, toleranceBp, pricer: deps.pricer });
    const body = reconcileJson(report, window, toleranceBp, unconfiguredProviders(report, gateway, provider));
    // Token counts and billed_nano are bigint: decimal strings, as the CLI prints them.
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(body, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  });
}

/** The contract's period params may be epoch ms as well as ISO dates and times. */
function instant(text: string | undefined): string | undefined {
  return text !== undefined && /^\d{10,15}$/.test(text.trim()) ? new Date(Number(text.trim())).toISOString() : text;
}
