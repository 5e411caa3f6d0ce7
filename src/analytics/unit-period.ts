/** Report windows in UTC: a month, a from/to range, a quarter, and ISO weeks (Monday first). */
import { TollgateError } from '../domain/errors.ts';
import { parseDecimal } from '../domain/money.ts';

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
/** 1970-01-05, the first Monday of the epoch. */
const FIRST_MONDAY_MS = 4 * DAY_MS;

export interface Window {
  /** Inclusive epoch ms. */
  from: number;
  /** Exclusive epoch ms. */
  to: number;
  label: string;
}

/** Monday 00:00 UTC of the ISO week holding `ms`. */
export function weekStart(ms: number): number {
  return Math.floor((ms - FIRST_MONDAY_MS) / WEEK_MS) * WEEK_MS + FIRST_MONDAY_MS;
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `2026-10` → that month. */
export function monthWindow(text: string): Window {
  const m = /^(\d{4})-(\d{2})$/.exec(text.trim());
  const month = m ? Number(m[2]) : 0;
  if (!m || month < 1 || month > 12) throw new TollgateError('invalid_request', `cannot read month "${text}": use YYYY-MM, e.g. 2026-10`);
  return { from: Date.UTC(Number(m[1]), month - 1, 1), to: Date.UTC(Number(m[1]), month, 1), label: `${m[1]}-${m[2]}` };
}

/** `2026-Q4` → that quarter, UTC. */
export function quarterWindow(text: string): Window & { year: number; quarter: number } {
  const m = /^(\d{4})-?Q([1-4])$/i.exec(text.trim());
  if (!m) throw new TollgateError('invalid_request', `cannot read quarter "${text}": use YYYY-Qn, e.g. 2026-Q4`);
  const year = Number(m[1]);
  const quarter = Number(m[2]);
  return { from: Date.UTC(year, (quarter - 1) * 3, 1), to: Date.UTC(year, quarter * 3, 1), label: `${year}-Q${quarter}`, year, quarter };
}

export function previousQuarter(q: { year: number; quarter: number }): Window & { year: number; quarter: number } {
  return q.quarter === 1 ? quarterWindow(`${q.year - 1}-Q4`) : quarterWindow(`${q.year}-Q${q.quarter - 1}`);
}

/** A date (`2026-10-01`, midnight UTC) or ISO date-time (UTC unless a zone is given). */
export function parseInstant(text: string, what: string): number {
  const t = text.trim();
  let ms = NaN;
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) ms = Date.parse(`${t}T00:00:00Z`);
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}:?\d{2})?$/.test(t)) ms = Date.parse(/([zZ]|[+-]\d{2}:?\d{2})$/.test(t) ? t : `${t}Z`);
  if (Number.isNaN(ms)) throw new TollgateError('invalid_request', `cannot read ${what} "${text}": use a date like 2026-10-01 or a time like 2026-10-01T12:00:00Z (UTC)`);
  return ms;
}

/**
 * The window a report covers: `month`, or `from` and `to` (to is exclusive: `--from 2026-10-01
 * --to 2026-11-01` is October), or else the current UTC month.
 */
export function reportWindow(o: { month?: string | undefined; from?: string | undefined; to?: string | undefined }, now: number): Window {
  if (o.month !== undefined && (o.from !== undefined || o.to !== undefined)) throw new TollgateError('invalid_request', 'give either a month or from/to, not both');
  if (o.month !== undefined) return monthWindow(o.month);
  if (o.from !== undefined || o.to !== undefined) {
    if (o.from === undefined || o.to === undefined) throw new TollgateError('invalid_request', 'give both from and to (to is exclusive), e.g. from 2026-10-01 to 2026-11-01');
    const from = parseInstant(o.from, 'from');
    const to = parseInstant(o.to, 'to');
    if (to <= from) throw new TollgateError('invalid_request', `"to" (${o.to}) must be after "from" (${o.from}); to is exclusive`);
    if (to - from > 3 * 366 * DAY_MS) throw new TollgateError('invalid_request', 'a report covers at most three years');
    return { from, to, label: `${label(from)} → ${label(to)}` };
  }
  const d = new Date(now);
  return monthWindow(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
}

function label(ms: number): string {
  return ms % DAY_MS === 0 ? isoDay(ms) : new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** A percentage such as `20` or `12.5` → hundredths of a percent. */
export function driftBandOf(text: string): number {
  let v: bigint;
  try {
    v = parseDecimal(text, 2);
  } catch {
    throw new TollgateError('invalid_request', `drift band "${text}" is not a percentage with at most 2 decimals, e.g. 20`);
  }
  if (v < 0n || v > 1_000_000n) throw new TollgateError('invalid_request', 'the drift band is a percentage from 0 to 10000');
  return Number(v);
}

export function driftWeeksOf(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 26) throw new TollgateError('invalid_request', `drift weeks "${text}" must be a whole number from 1 to 26`);
  return n;
}
