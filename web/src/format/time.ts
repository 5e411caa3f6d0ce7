/**
 * Dates for people and periods for the API. Reports are in UTC calendar days and months, so every
 * date shown here is UTC and says so.
 */

const DAY_MS = 86_400_000;

const dateTime = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dateTimeYear = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const day = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });
const dayYear = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' });
const month = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric', month: 'long' });
const monthShort = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: '2-digit', month: 'short' });

/** Epoch ms of an API time: epoch ms, or an ISO string. NaN when neither. */
export function toMs(at: number | string | null | undefined): number {
  if (at === null || at === undefined) return Number.NaN;
  return typeof at === 'number' ? at : Date.parse(at);
}

/** "Nov 29, 05:51 UTC" (with the year when it is not this year). */
export function formatDateTime(at: number | string | null | undefined): string {
  const ms = toMs(at);
  if (Number.isNaN(ms)) return '—';
  const sameYear = new Date(ms).getUTCFullYear() === new Date().getUTCFullYear();
  return `${(sameYear ? dateTime : dateTimeYear).format(ms)} UTC`;
}

/** "Nov 29" (with the year when it is not this year). */
export function formatDay(at: number | string | null | undefined): string {
  const ms = toMs(at);
  if (Number.isNaN(ms)) return '—';
  return (new Date(ms).getUTCFullYear() === new Date().getUTCFullYear() ? day : dayYear).format(ms);
}

/** "2026-11" → "November 2026". */
export function formatMonth(label: string): string {
  const ms = Date.parse(`${label}-01T00:00:00Z`);
  return Number.isNaN(ms) ? label : month.format(ms);
}

/** "2026-11" → "Nov 26", for chart axes. */
export function formatMonthShort(label: string): string {
  const ms = Date.parse(`${label}-01T00:00:00Z`);
  return Number.isNaN(ms) ? label : monthShort.format(ms);
}

/** "2026-11-29" of an instant, UTC. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** "2026-11" of an instant, UTC. */
export function isoMonth(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The day `n` days after an ISO day. */
export function addDays(isoDate: string, n: number): string {
  return isoDay(Date.parse(`${isoDate}T00:00:00Z`) + n * DAY_MS);
}

/** The month `n` months after "YYYY-MM". */
export function addMonths(label: string, n: number): string {
  const [y, m] = label.split('-').map(Number);
  const d = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1 + n, 1));
  return isoMonth(d.getTime());
}

/** First day of a month and first day of the next (the API's `to` is exclusive). */
export function monthRange(label: string): { from: string; to: string } {
  return { from: `${label}-01`, to: `${addMonths(label, 1)}-01` };
}

/** A named period relative to today, as API `from`/`to` (ISO days, `to` exclusive). */
export type PeriodPreset = 'this-month' | 'last-month' | '7d' | '30d' | '90d';

export const PERIOD_PRESETS: readonly { id: PeriodPreset; label: string }[] = [
  { id: 'this-month', label: 'This month' },
  { id: 'last-month', label: 'Last month' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
  { id: '90d', label: 'Last 90 days' },
];

export function presetRange(preset: PeriodPreset, now = Date.now()): { from: string; to: string } {
  const today = isoDay(now);
  const tomorrow = addDays(today, 1);
  switch (preset) {
    case 'this-month':
      return { from: `${isoMonth(now)}-01`, to: tomorrow };
    case 'last-month':
      return monthRange(addMonths(isoMonth(now), -1));
    case '7d':
      return { from: addDays(tomorrow, -7), to: tomorrow };
    case '30d':
      return { from: addDays(tomorrow, -30), to: tomorrow };
    case '90d':
      return { from: addDays(tomorrow, -90), to: tomorrow };
  }
}
