/**
 * The reconciliation as `tollgate reconcile --json` prints it and `GET /api/reconcile` returns it:
 * the settings it runs with (the gateway's own provider keys and projects, the tolerance), the
 * providers whose bypass cannot be told apart, and the report in snake_case JSON (money as decimal
 * USD strings; token counts and `billed_nano` are bigint, which the caller serialises as strings).
 */
import { TollgateError } from '../domain/errors.ts';
import { nanoToDecimalString, parseDecimal } from '../domain/money.ts';
import type { ReportProvider } from '../ledger/provider-usage-contract.ts';
import { REPORT_PROVIDERS } from '../ledger/provider-usage-contract.ts';
import type { GatewayIdentity, ReconcileReport, TokenCounts } from './reconcile.ts';
import { isoDay } from './unit-period.ts';

/** The `reconcile:` section of tollgate.yaml (the shape its schema gives). */
export interface ReconcileSettings {
  openai?: { gateway_api_key_ids?: string[] | undefined; gateway_project_ids?: string[] | undefined } | undefined;
  anthropic?: { gateway_api_key_ids?: string[] | undefined; gateway_workspace_ids?: string[] | undefined } | undefined;
  tolerance_pct?: number | undefined;
}

/** The gateway's own credentials per provider, from the settings (none configured: empty lists). */
export function gatewayIdentities(cfg: ReconcileSettings | null | undefined): Record<ReportProvider, GatewayIdentity> {
  return {
    openai: { apiKeyIds: cfg?.openai?.gateway_api_key_ids ?? [], projectIds: cfg?.openai?.gateway_project_ids ?? [] },
    anthropic: { apiKeyIds: cfg?.anthropic?.gateway_api_key_ids ?? [], projectIds: cfg?.anthropic?.gateway_workspace_ids ?? [] },
  };
}

/** A tolerance as people write it (`1`, `0.5%`) → basis points; `name` is how the caller's input names it. */
export function toleranceOf(text: string, name = 'tolerance'): number {
  let bp: bigint | null = null;
  try {
    bp = parseDecimal(text.trim().replace(/%$/, ''), 2);
  } catch {
    // reported below
  }
  if (bp === null || bp < 0n || bp > 10_000n) throw new TollgateError('invalid_request', `${name} "${text}" must be a percentage from 0 to 100 with at most 2 decimals, e.g. 1`);
  return Number(bp);
}

/** Providers in the report whose gateway credentials are not configured: their bypass is undetectable. */
export function unconfiguredProviders(r: ReconcileReport, gateway: Record<ReportProvider, GatewayIdentity>, provider?: ReportProvider): ReportProvider[] {
  return (provider ? [provider] : REPORT_PROVIDERS).filter((p) => r.lines.some((l) => l.provider === p) && gateway[p].apiKeyIds.length === 0 && gateway[p].projectIds.length === 0);
}

const tokensJson = (t: TokenCounts | null) =>
  t && { input: t.input, cache_read: t.cacheRead, cache_write_5m: t.cacheWrite5m, cache_write_1h: t.cacheWrite1h, output: t.output };

export function reconcileJson(r: ReconcileReport, window: { from: number; to: number }, tolBp: number, unconfigured: readonly string[]) {
  const t = r.totals;
  return {
    from: new Date(window.from).toISOString(),
    to: new Date(window.to).toISOString(),
    tolerance_pct: tolBp / 100,
    totals: {
      billed_usd: nanoToDecimalString(t.billedNano),
      billed_nano: t.billedNano,
      seen_on_billed_days_usd: nanoToDecimalString(t.seenOnBilledDaysNano),
      seen_usd: nanoToDecimalString(t.seenNano),
      bypass_usd: nanoToDecimalString(t.bypassNano),
      coverage_pct: t.coverageBp === null ? null : t.coverageBp / 100,
      unreported_days: t.unreportedDays.map((d) => ({ provider: d.provider, day: isoDay(d.day), cost_usd: nanoToDecimalString(d.costNano) })),
    },
    bypass_undetectable: unconfigured,
    findings: r.findings.map((f) => ({ key: f.key, title: f.title, summary: f.summary, evidence: f.evidence, impact_usd: nanoToDecimalString(f.impactNano) })),
    lines: r.lines.map((l) => ({
      day: isoDay(l.day),
      provider: l.provider,
      model: l.model,
      ledger_models: l.ledgerModels,
      verdict: l.verdict,
      billed_tokens: tokensJson(l.billedTokens),
      seen_tokens: tokensJson(l.seenTokens),
      billed_usd: l.billedCostNano === null ? null : nanoToDecimalString(l.billedCostNano),
      seen_usd: nanoToDecimalString(l.seenCostNano),
      seen_calls: l.seenCalls,
    })),
    bypasses: r.bypasses.map((b) => ({
      day: isoDay(b.day),
      provider: b.provider,
      model: b.model,
      via: b.via,
      id: b.id,
      tokens: tokensJson(b.tokens),
      requests: b.requests,
      cost_usd: b.costNano === null ? null : nanoToDecimalString(b.costNano),
      cost_estimated: b.costEstimated,
    })),
  };
}
