/**
 * Budget periods: calendar periods aligned in a time zone (day, ISO week, month, quarter, year) and
 * rolling windows counted in hour or day slices. A period is named by a label such as `month` or
 * `rolling:7d`; the counters key a period by its start, so a new period starts from zero by itself.
 */
import { DateTime, IANAZone } from 'luxon';
import { TollgateError } from './errors.ts';

export const CALENDAR_PERIODS = ['day', 'week', 'month', 'quarter', 'year'] as const;
export type CalendarUnit = (typeof CALENDAR_PERIODS)[number];

export type Period = { kind: 'calendar'; unit: CalendarUnit; label: CalendarUnit } | { kind: 'rolling'; sliceMs: number; slices: number; label: string };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Rolling windows up to two days count hourly slices, longer ones daily slices (at most 90). */
const MAX_ROLLING_HOURS = 48;
const MAX_ROLLING_DAYS = 90;

/** Parses `day|week|month|quarter|year` or `rolling:<N>h` (1–48) / `rolling:<N>d` (1–90). */
export function parsePeriod(label: string): Period {
  const l = label.trim().toLowerCase();
  if ((CALENDAR_PERIODS as readonly string[]).includes(l)) return { kind: 'calendar', unit: l as CalendarUnit, label: l as CalendarUnit };
  const m = /^rolling:(\d{1,3})([hd])$/.exec(l);
  if (m) {
    const n = Number(m[1]);
    if (m[2] === 'h' && n >= 1 && n <= MAX_ROLLING_HOURS) return { kind: 'rolling', sliceMs: HOUR, slices: n, label: `rolling:${n}h` };
    if (m[2] === 'd' && n >= 1 && n <= MAX_ROLLING_DAYS) return { kind: 'rolling', sliceMs: DAY, slices: n, label: `rolling:${n}d` };
  }
  throw new TollgateError(
    'invalid_request',
    `unknown budget period "${label}": use day, week, month, quarter, year, or a rolling window rolling:<N>h (1-${MAX_ROLLING_HOURS}) or rolling:<N>d (1-${MAX_ROLLING_DAYS})`,
  );
}

/** Checks an IANA time zone name such as `Europe/Paris`; returns it canonical (`europe/paris` → `Europe/Paris`, `Etc/UTC` → `UTC`). */
export function checkTimeZone(zone: string): string {
  const z = zone.trim();
  if (!IANAZone.isValidZone(z)) throw new TollgateError('invalid_request', `unknown time zone "${zone}": use an IANA name such as UTC, Europe/Paris or America/New_York`);
  // ICU's id is correctly cased but keeps old names of renamed zones (Asia/Kolkata → Asia/Calcutta).
  const icu = new Intl.DateTimeFormat('en-US', { timeZone: z }).resolvedOptions().timeZone;
  if (icu === 'UTC' || icu.toLowerCase() === z.toLowerCase()) return icu;
  // A link such as US/Eastern or Asia/Kolkata: kept as written unless written all in lower case.
  return z === z.toLowerCase() ? icu : z;
}

/** The window a call at `at` falls in: [start, end) in epoch ms, and the slices it sums for rolling windows. */
export interface PeriodWindow {
  /** Start of the counted slice (calendar: the period; rolling: the current slice). */
  start: number;
  /** When this window resets (calendar) or its current slice ends (rolling). */
  end: number;
  /** Rolling windows: the starts of the earlier slices that still count, newest first. */
  earlier: number[];
  /** The first instant counted (calendar: `start`; rolling: the oldest slice's start). */
  from: number;
}

export function periodWindow(period: Period, timeZone: string, at: number): PeriodWindow {
  if (period.kind === 'rolling') {
    const start = Math.floor(at / period.sliceMs) * period.sliceMs;
    const earlier = Array.from({ length: period.slices - 1 }, (_, i) => start - (i + 1) * period.sliceMs);
    return { start, end: start + period.sliceMs, earlier, from: earlier.at(-1) ?? start };
  }
  const local = DateTime.fromMillis(at, { zone: timeZone });
  // Weeks are ISO weeks (Monday first), whatever the locale.
  const start = local.startOf(period.unit, { useLocaleWeeks: false });
  // The next period's start, not start + 1 unit: where midnight is skipped (America/Santiago), a
  // period starts at 01:00 and adding a day would land on 01:00 too, overlapping the next period.
  const end = start.plus({ [`${period.unit}s`]: 1 }).startOf(period.unit, { useLocaleWeeks: false });
  return { start: start.toMillis(), end: end.toMillis(), earlier: [], from: start.toMillis() };
}
