/**
 * One outcome as clients send it (a JSON object from `POST /v1/outcomes`, a JSONL line, a CSV row)
 * → `NewOutcome`, checked. Money is read exactly (`usdToNano`); times are ISO 8601 (UTC unless a
 * zone is given) or epoch milliseconds.
 */
import { TollgateError } from '../domain/errors.ts';
import { usdToNano } from '../domain/money.ts';
import type { NewOutcome } from '../ledger/outcomes-contract.ts';
import { outcomeProblem } from '../ledger/outcomes-contract.ts';

export const OUTCOME_FIELDS = ['type', 'count', 'occurred_at', 'trace_id', 'value_usd', 'idempotency_key'] as const;

/**
 * Reads one outcome. CSV cells arrive as strings, so every field accepts its string form too; an
 * empty string is an absent optional field. `extra` names further fields the caller handles itself.
 */
export function parseOutcome(raw: unknown, now: number, extra: readonly string[] = []): NewOutcome {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('an outcome is a JSON object like {"type":"resolved_ticket","count":1,"occurred_at":"2026-10-05T14:00:00Z","idempotency_key":"ticket-4711"}');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(OUTCOME_FIELDS as readonly string[]).includes(k) && !extra.includes(k)) throw invalid(`unknown field "${k}" (an outcome has ${OUTCOME_FIELDS.join(', ')})`);
  }
  const outcome: NewOutcome = {
    type: text(o, 'type') ?? '',
    count: count(o['count']),
    occurredAt: time(o['occurred_at']),
    traceId: text(o, 'trace_id'),
    valueNano: usd(o['value_usd']),
    idempotencyKey: text(o, 'idempotency_key') ?? '',
  };
  if (outcome.type === '') throw invalid('type is missing, e.g. "resolved_ticket"');
  const problem = outcomeProblem(outcome, now);
  if (problem !== null) throw invalid(problem);
  return outcome;
}

function invalid(message: string): TollgateError {
  return new TollgateError('invalid_request', message);
}

function absent(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function text(o: Record<string, unknown>, name: string): string | null {
  const v = o[name];
  if (absent(v)) return null;
  if (typeof v !== 'string' && typeof v !== 'number') throw invalid(`${name} must be a string`);
  return String(v).trim() || null;
}

function count(v: unknown): number {
  if (absent(v)) return 1;
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalid(`count must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

function time(v: unknown): number {
  if (absent(v)) throw invalid('occurred_at is missing: give an ISO time like 2026-10-05T14:00:00Z (or epoch milliseconds)');
  let ms = NaN;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') {
    const t = v.trim();
    if (/^\d+$/.test(t)) ms = Number(t);
    else if (/^\d{4}-\d{2}-\d{2}$/.test(t)) ms = Date.parse(`${t}T00:00:00Z`);
    else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([zZ]|[+-]\d{2}:?\d{2})?$/.test(t)) {
      const iso = t.replace(' ', 'T');
      ms = Date.parse(/([zZ]|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
    }
  }
  // Past year 275760 a Date cannot hold it: refused here rather than failing later as 'Invalid time value'.
  if (!Number.isSafeInteger(ms) || ms > 8_640_000_000_000_000) throw invalid(`occurred_at ${JSON.stringify(v)} is not a time: use ISO 8601 like 2026-10-05T14:00:00Z (UTC unless a zone is given) or epoch milliseconds`);
  if (ms < 100_000_000_000) throw invalid(`occurred_at ${JSON.stringify(v)} looks like seconds: give epoch milliseconds or an ISO time`);
  return ms;
}

function usd(v: unknown): bigint | null {
  if (absent(v)) return null;
  if (typeof v !== 'string' && typeof v !== 'number') throw invalid('value_usd must be an amount of USD, e.g. "150.00"');
  try {
    return usdToNano(v);
  } catch (err) {
    throw invalid(`value_usd: ${(err as Error).message}`);
  }
}
