/** Config instants: ISO dates and date-times, read as UTC. */
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO date (`2026-01-01`, UTC midnight) or date-time; a date-time without an offset is UTC,
 * never the server's local time. Returns epoch ms, or null if not a valid instant.
 */
export function parseUtcInstant(text: string): number | null {
  const m = ISO_INSTANT.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.slice(0, 3).padEnd(3, '0')));
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March: reject instead.
  if (back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  if (zone.toUpperCase() === 'Z') return ms;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
  if (oh > 23 || om > 59) return null;
  return ms - sign * (oh * 60 + om) * 60_000;
}
