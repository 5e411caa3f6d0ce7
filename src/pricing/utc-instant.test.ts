import { describe, expect, it } from 'vitest';
import { parseUtcInstant } from './utc-instant.ts';

describe('parseUtcInstant', () => {
  it('reads dates and date-times as UTC unless an offset is given', () => {
    expect(parseUtcInstant('2026-01-01')).toBe(Date.UTC(2026, 0, 1));
    expect(parseUtcInstant('2026-01-01T09:30:00')).toBe(Date.UTC(2026, 0, 1, 9, 30));
    expect(parseUtcInstant('2026-01-01T09:30:00.250Z')).toBe(Date.UTC(2026, 0, 1, 9, 30, 0, 250));
    expect(parseUtcInstant('2026-01-01T09:30:00+02:00')).toBe(Date.UTC(2026, 0, 1, 7, 30));
    expect(parseUtcInstant('2026-01-01T09:30-0130')).toBe(Date.UTC(2026, 0, 1, 11, 0));
    expect(parseUtcInstant('2026-13-01')).toBeNull();
    expect(parseUtcInstant('2026-01-01T24:00:00Z')).toBeNull();
    expect(parseUtcInstant('2026-01-01T00:00:00+24:00')).toBeNull();
    expect(parseUtcInstant('yesterday')).toBeNull();
  });
});
