/**
 * Anomaly queries and policies as people write them (CLI flags, admin API query strings and JSON),
 * turned into the store's inputs, and policies and deliveries as JSON. Shared by the CLI and the API
 * so both read and refuse the same things in the same words.
 */
import { TollgateError } from '../domain/errors.ts';
import { nanoToDecimalString, usdToNano } from '../domain/money.ts';
import { formatScope, parseScope } from '../domain/scope.ts';
import type { AlertDelivery, AnomalyPolicy, AnomalyPolicyInput, AnomalyQuery } from '../ledger/anomalies-contract.ts';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export interface AnomalyQueryRequest {
  open?: boolean | undefined;
  scope?: string | undefined;
  /** A duration back from now (`24h`, `7d`, `90m`, `2w`) or an ISO date / date-time (UTC). */
  since?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

export function anomalyQuery(r: AnomalyQueryRequest, now: number): AnomalyQuery {
  return {
    ...(r.open === undefined ? {} : { open: r.open }),
    ...(r.scope === undefined ? {} : { under: formatScope(parseScope(r.scope)) }),
    ...(r.since === undefined ? {} : { from: parseSince(r.since, now) }),
    ...(r.limit === undefined ? {} : { limit: r.limit }),
    ...(r.offset === undefined ? {} : { offset: r.offset }),
  };
}

/** `24h` → now minus a day; `2026-11-01` → its UTC midnight; a date-time without zone is UTC. */
export function parseSince(text: string, now: number): number {
  const t = text.trim();
  const rel = /^(\d+)\s*([mhdw])$/i.exec(t);
  if (rel) return now - Number(rel[1]) * (UNITS[rel[2]!.toLowerCase()] ?? 0);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(iso) ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`) : NaN;
  if (Number.isNaN(ms)) throw new TollgateError('invalid_request', `cannot read since "${text}": use a duration back from now like 24h, 7d, 90m, or a date like 2026-11-01 (UTC)`);
  return ms;
}

export interface PolicyRequest {
  scope: string;
  autoKill: boolean | undefined;
  /** USD per hour, e.g. "5", "$12.50", 0.5. */
  minUsdPerHour: string | number | undefined;
}

export function anomalyPolicyInput(r: PolicyRequest): AnomalyPolicyInput {
  if (typeof r.autoKill !== 'boolean') throw new TollgateError('invalid_request', 'say whether the scope\'s agents are killed automatically: auto kill on (true) or off (false)');
  if (r.minUsdPerHour === undefined) throw new TollgateError('invalid_request', 'give the at-risk rate in USD per hour above which the agent is killed, e.g. 5');
  let minNanoPerHour: bigint;
  try {
    minNanoPerHour = usdToNano(r.minUsdPerHour);
  } catch (err) {
    throw new TollgateError('invalid_request', `${JSON.stringify(r.minUsdPerHour)} is not an amount of USD per hour (e.g. 5 or 12.50): ${(err as Error).message}`);
  }
  return { scopePath: formatScope(parseScope(r.scope)), autoKill: r.autoKill, minNanoPerHour };
}

export function policyJson(p: AnomalyPolicy): Record<string, unknown> {
  return {
    scope: p.scopePath,
    scope_id: p.scopeId,
    auto_kill: p.autoKill,
    min_usd_per_hour: nanoToDecimalString(p.minNanoPerHour),
    min_nano_per_hour: p.minNanoPerHour.toString(),
    updated_at: new Date(p.updatedAt).toISOString(),
    updated_by: p.updatedBy,
  };
}

export function deliveryJson(d: AlertDelivery): Record<string, unknown> {
  return {
    id: d.id,
    anomaly_id: d.anomalyId,
    event: d.event,
    sink: d.sink,
    url: d.url,
    state: d.state,
    attempts: d.attempts,
    last_error: d.lastError,
    at: new Date(d.at).toISOString(),
  };
}
