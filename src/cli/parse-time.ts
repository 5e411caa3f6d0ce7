import { TollgateError } from '../domain/errors.ts';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--expires` values: a duration from now (`90d`, `12h`, `2w`) or an ISO date / date-time (UTC). */
export function parseExpiry(text: string, now: number): number {
  const t = text.trim();
  const rel = /^(\d+)\s*([mhdw])$/i.exec(t);
  if (rel) return now + Number(rel[1]) * (UNITS[rel[2]!.toLowerCase()] ?? 0);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(iso) ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`) : NaN;
  if (Number.isNaN(ms)) {
    throw new TollgateError('invalid_request', `cannot read expiry "${text}": use a duration like 30d, 12h, 2w, or a date like 2026-12-31 (UTC)`);
  }
  return ms;
}

/** `--month 2026-10` → [start, end) in epoch ms, UTC. */
export function parseMonth(text: string): { from: number; to: number; label: string } {
  const m = /^(\d{4})-(\d{2})$/.exec(text.trim());
  const month = m ? Number(m[2]) : 0;
  if (!m || month < 1 || month > 12) throw new TollgateError('invalid_request', `cannot read month "${text}": use YYYY-MM, e.g. 2026-10`);
  const year = Number(m[1]);
  return { from: Date.UTC(year, month - 1, 1), to: Date.UTC(year, month, 1), label: `${m[1]}-${m[2]}` };
}

export function currentMonth(now: number): string {
  const d = new Date(now);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}
