import { describe, expect, it } from 'vitest';
import { checkTimeZone, parsePeriod, periodWindow } from './budget-period.ts';
import type { PeriodWindow } from './budget-period.ts';
import { TollgateError } from './errors.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
/** A calendar window as [start, end, hours long], readable in a failure. */
const calendar = (label: string, zone: string, when: string): [string, string, number] => {
  const w = periodWindow(parsePeriod(label), zone, at(when));
  expect(w.earlier).toEqual([]);
  expect(w.from).toBe(w.start);
  return [iso(w.start), iso(w.end), (w.end - w.start) / HOUR];
};

describe('parsePeriod', () => {
  it.each(['day', 'week', 'month', 'quarter', 'year'] as const)('reads the calendar period %s', (unit) => {
    expect(parsePeriod(unit)).toEqual({ kind: 'calendar', unit, label: unit });
    expect(parsePeriod(` ${unit.toUpperCase()} `).label).toBe(unit);
  });

  it.each([
    ['rolling:1h', HOUR, 1, 'rolling:1h'],
    ['rolling:24h', HOUR, 24, 'rolling:24h'],
    ['rolling:48h', HOUR, 48, 'rolling:48h'],
    ['ROLLING:07D', DAY, 7, 'rolling:7d'],
    ['rolling:1d', DAY, 1, 'rolling:1d'],
    ['rolling:90d', DAY, 90, 'rolling:90d'],
  ])('reads the rolling window %s as %i ms slices × %i, labelled %s', (label, sliceMs, slices, normal) => {
    expect(parsePeriod(label)).toEqual({ kind: 'rolling', sliceMs, slices, label: normal });
  });

  it.each(['', 'fortnight', 'days', 'monthly', 'rolling', 'rolling:', 'rolling:0h', 'rolling:49h', 'rolling:0d', 'rolling:91d', 'rolling:1000d', 'rolling:7w', 'rolling:-1h', 'rolling:1.5h', 'rolling: 7d', '7d'])(
    'refuses %j and lists what it accepts',
    (label) => {
      const err = (() => {
        try {
          parsePeriod(label);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(TollgateError);
      expect(err).toMatchObject({ code: 'invalid_request' });
      expect((err as Error).message).toBe(
        `unknown budget period "${label}": use day, week, month, quarter, year, or a rolling window rolling:<N>h (1-48) or rolling:<N>d (1-90)`,
      );
    },
  );
});

describe('checkTimeZone', () => {
  it.each([
    ['UTC', 'UTC'],
    ['utc', 'UTC'],
    [' UTC ', 'UTC'],
    ['Etc/UTC', 'UTC'],
    ['Europe/Paris', 'Europe/Paris'],
    ['europe/paris', 'Europe/Paris'],
    ['EUROPE/PARIS', 'Europe/Paris'],
    [' America/New_York ', 'America/New_York'],
    ['america/port-au-prince', 'America/Port-au-Prince'],
    ['Etc/GMT+2', 'Etc/GMT+2'],
    // Links written properly stay as the person wrote them (ICU would turn Asia/Kolkata into Asia/Calcutta).
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['Europe/Kyiv', 'Europe/Kyiv'],
    ['US/Eastern', 'US/Eastern'],
    ['us/eastern', 'America/New_York'],
  ])('accepts %j as %j', (zone, canonical) => {
    expect(checkTimeZone(zone)).toBe(canonical);
  });

  it.each(['Mars/Base', '', '  ', 'Paris', 'Europe/Pariss', '+02:00', 'UTC+2', 'CEST'])('refuses %j and names examples', (zone) => {
    expect(() => checkTimeZone(zone)).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        message: `unknown time zone "${zone}": use an IANA name such as UTC, Europe/Paris or America/New_York`,
      }) as Error,
    );
  });
});

describe('periodWindow: calendar periods', () => {
  it('aligns days in the zone, including DST transition days', () => {
    expect(calendar('day', 'UTC', '2026-03-29T12:34:56Z')).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-30T00:00:00.000Z', 24]);
    // Paris springs forward on 2026-03-29 (02:00 → 03:00): a 23-hour day.
    expect(calendar('day', 'Europe/Paris', '2026-03-29T12:00:00Z')).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 23]);
    // ... and falls back on 2026-10-25: a 25-hour day.
    expect(calendar('day', 'Europe/Paris', '2026-10-25T12:00:00Z')).toEqual(['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', 25]);
    // New York falls back on 2026-11-01 (02:00 → 01:00): 25 hours.
    expect(calendar('day', 'America/New_York', '2026-11-01T12:00:00Z')).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z', 25]);
    expect(calendar('day', 'America/New_York', '2026-03-08T12:00:00Z')).toEqual(['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z', 23]);
    // 01:30 on the fall-back day happens twice; both are the same day.
    expect(calendar('day', 'America/New_York', '2026-11-01T05:30:00Z')).toEqual(calendar('day', 'America/New_York', '2026-11-01T06:30:00Z'));
    // Late evening in New York is already the next day in UTC.
    expect(calendar('day', 'America/New_York', '2026-10-16T02:00:00Z')).toEqual(['2026-10-15T04:00:00.000Z', '2026-10-16T04:00:00.000Z', 24]);
    // Quarter-hour offsets.
    expect(calendar('day', 'Asia/Kathmandu', '2026-06-01T00:00:00Z')).toEqual(['2026-05-31T18:15:00.000Z', '2026-06-01T18:15:00.000Z', 24]);
  });

  it('ends a day where the next begins when the zone skips midnight', () => {
    // Chile springs forward at 00:00 on 2026-09-06: the day starts at 01:00 and lasts 23 hours.
    expect(calendar('day', 'America/Santiago', '2026-09-06T12:00:00Z')).toEqual(['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z', 23]);
    expect(calendar('day', 'America/Santiago', '2026-09-05T12:00:00Z')).toEqual(['2026-09-05T04:00:00.000Z', '2026-09-06T04:00:00.000Z', 24]);
    expect(calendar('day', 'America/Santiago', '2026-09-07T12:00:00Z')[0]).toBe('2026-09-07T03:00:00.000Z');
  });

  it('starts weeks on Monday (ISO), in the zone', () => {
    // 2026-03-29 is a Sunday: its week began on Monday 2026-03-23.
    expect(calendar('week', 'UTC', '2026-03-29T23:59:59Z')).toEqual(['2026-03-23T00:00:00.000Z', '2026-03-30T00:00:00.000Z', 168]);
    expect(calendar('week', 'UTC', '2026-03-30T00:00:00Z')[0]).toBe('2026-03-30T00:00:00.000Z');
    // Sunday evening in New York is Monday in UTC: still the week of Monday 2026-10-26 there, and 169 hours long (fall back).
    expect(calendar('week', 'America/New_York', '2026-11-02T03:00:00Z')).toEqual(['2026-10-26T04:00:00.000Z', '2026-11-02T05:00:00.000Z', 169]);
    // A week across New Year belongs to neither year: 2026-12-28 (Mon) to 2027-01-04.
    expect(calendar('week', 'UTC', '2027-01-01T12:00:00Z')).toEqual(['2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z', 168]);
  });

  it('aligns months, quarters and years in the zone', () => {
    expect(calendar('month', 'UTC', '2026-02-14T00:00:00Z')).toEqual(['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', 28 * 24]);
    expect(calendar('month', 'UTC', '2028-02-14T00:00:00Z')[2]).toBe(29 * 24);
    // November in New York includes the fall back: 30 days and one hour.
    expect(calendar('month', 'America/New_York', '2026-11-15T00:00:00Z')).toEqual(['2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z', 30 * 24 + 1]);
    // 2026-11-01T03:00Z is still 23:00 on 31 October in New York.
    expect(calendar('month', 'America/New_York', '2026-11-01T03:00:00Z')).toEqual(['2026-10-01T04:00:00.000Z', '2026-11-01T04:00:00.000Z', 31 * 24]);
    expect(calendar('quarter', 'Europe/Paris', '2026-05-29T12:00:00Z')).toEqual(['2026-03-31T22:00:00.000Z', '2026-06-30T22:00:00.000Z', 91 * 24]);
    // Q1 in Paris has the spring-forward hour missing.
    expect(calendar('quarter', 'Europe/Paris', '2026-01-01T00:00:00Z')).toEqual(['2025-12-31T23:00:00.000Z', '2026-03-31T22:00:00.000Z', 90 * 24 - 1]);
    expect(calendar('quarter', 'UTC', '2026-12-31T23:59:59.999Z')).toEqual(['2026-10-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 92 * 24]);
    expect(calendar('year', 'Asia/Tokyo', '2026-12-31T16:00:00Z')).toEqual(['2026-12-31T15:00:00.000Z', '2027-12-31T15:00:00.000Z', 365 * 24]);
    expect(calendar('year', 'UTC', '2028-07-01T00:00:00Z')[2]).toBe(366 * 24);
  });

  it('tiles time: every instant is in exactly one window, and each window ends where the next starts', () => {
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham'];
    for (const zone of zones) {
      for (const unit of ['day', 'week', 'month'] as const) {
        const period = parsePeriod(unit);
        let w: PeriodWindow = periodWindow(period, zone, at('2026-01-01T00:00:00Z'));
        while (w.end < at('2027-01-01T00:00:00Z')) {
          const next = periodWindow(period, zone, w.end);
          expect(next.start, `${zone} ${unit} after ${iso(w.start)}`).toBe(w.end);
          expect(periodWindow(period, zone, w.end - 1).start, `${zone} ${unit} last ms of ${iso(w.start)}`).toBe(w.start);
          // Any instant inside lies in the same window (the middle, 90 minutes in, 90 minutes before the end).
          for (const t of [w.start + 90 * 60_000, Math.floor((w.start + w.end) / 2), w.end - 90 * 60_000]) {
            expect(periodWindow(period, zone, t)).toEqual(w);
          }
          w = next;
        }
      }
    }
  });
});

describe('periodWindow: rolling windows', () => {
  it('counts hour slices for rolling:<N>h, the current one and N-1 earlier ones', () => {
    const w = periodWindow(parsePeriod('rolling:3h'), 'UTC', at('2026-10-15T10:25:00Z'));
    expect(w).toEqual({
      start: at('2026-10-15T10:00:00Z'),
      end: at('2026-10-15T11:00:00Z'),
      earlier: [at('2026-10-15T09:00:00Z'), at('2026-10-15T08:00:00Z')],
      from: at('2026-10-15T08:00:00Z'),
    });
    const one = periodWindow(parsePeriod('rolling:1h'), 'UTC', at('2026-10-15T10:25:00Z'));
    expect(one).toEqual({ start: at('2026-10-15T10:00:00Z'), end: at('2026-10-15T11:00:00Z'), earlier: [], from: at('2026-10-15T10:00:00Z') });
    const day = periodWindow(parsePeriod('rolling:24h'), 'UTC', at('2026-10-15T00:00:00Z'));
    expect(day.earlier.length).toBe(23);
    expect(day.from).toBe(at('2026-10-14T01:00:00Z'));
  });

  it('counts day slices for rolling:<N>d, in UTC days whatever the zone', () => {
    const w = periodWindow(parsePeriod('rolling:7d'), 'America/New_York', at('2026-11-01T23:30:00Z'));
    expect(w.start).toBe(at('2026-11-01T00:00:00Z'));
    expect(w.end).toBe(at('2026-11-02T00:00:00Z'));
    expect(w.earlier.map(iso)).toEqual(['2026-10-31', '2026-10-30', '2026-10-29', '2026-10-28', '2026-10-27', '2026-10-26'].map((d) => `${d}T00:00:00.000Z`));
    expect(w.from).toBe(at('2026-10-26T00:00:00Z'));
    expect(periodWindow(parsePeriod('rolling:7d'), 'Europe/Paris', at('2026-11-01T23:30:00Z'))).toEqual(w);
    expect(periodWindow(parsePeriod('rolling:90d'), 'UTC', at('2026-11-01T23:30:00Z')).earlier.length).toBe(89);
  });

  it('moves by whole slices: the boundary instant starts the next slice', () => {
    const p = parsePeriod('rolling:2h');
    const before = periodWindow(p, 'UTC', at('2026-10-15T10:59:59.999Z'));
    const after = periodWindow(p, 'UTC', at('2026-10-15T11:00:00Z'));
    expect(before.start).toBe(at('2026-10-15T10:00:00Z'));
    expect(after.start).toBe(before.end);
    expect(after.earlier).toEqual([before.start]);
  });
});
