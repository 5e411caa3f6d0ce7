/**
 * A pilot's spend from a CSV instead of the ledger: a header with `user`, `day` (YYYY-MM-DD) or
 * `month` (YYYY-MM), and `spend_usd`, in any order (other columns are ignored), then one row per
 * user and day or month. Quoted cells (RFC 4180) are read. The data covers from its first day (or
 * month) to its last; rows of one user and period add up.
 */
import { TollgateError } from '../../domain/errors.ts';
import { usdToNano } from '../../domain/money.ts';
import type { UnitDay, UnitSeries } from './unit-series.ts';
import { DAY_MS, monthlySeries } from './unit-series.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^\d{4}-\d{2}$/;

/** The monthly series, and the unit-days when the CSV is per day (null when per month). */
export function parsePilotCsv(text: string, name = 'pilot CSV'): { series: UnitSeries; days: UnitDay[] | null } {
  const lines = splitRecords(text).filter((r) => r.length > 1 || (r[0] ?? '').trim() !== '');
  const header = (lines[0] ?? []).map((h) => h.trim().toLowerCase());
  const col = (k: string) => header.indexOf(k);
  const user = col('user');
  const spend = col('spend_usd');
  const period = col('day') >= 0 ? col('day') : col('month');
  if (user < 0 || spend < 0 || period < 0) {
    throw new TollgateError('invalid_request', `${name}: the header needs columns user, day (or month) and spend_usd; it has ${header.join(', ') || 'nothing'}`);
  }
  const byDay = header[period] === 'day';
  const rows: UnitDay[] = [];
  let first = Infinity;
  let last = -Infinity;
  for (let i = 1; i < lines.length; i++) {
    const r = lines[i]!;
    const where = `${name} line ${i + 1}`;
    const who = (r[user] ?? '').trim();
    const when = (r[period] ?? '').trim();
    if (who === '') throw new TollgateError('invalid_request', `${where}: empty user`);
    let from: number;
    let to: number;
    if (byDay) {
      from = DAY.test(when) ? Date.parse(`${when}T00:00:00Z`) : NaN;
      to = from + DAY_MS;
    } else {
      from = MONTH.test(when) ? Date.parse(`${when}-01T00:00:00Z`) : NaN;
      const d = new Date(from);
      to = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
    if (Number.isNaN(from) || new Date(from).toISOString().slice(0, byDay ? 10 : 7) !== when) {
      throw new TollgateError('invalid_request', `${where}: "${when}" is not a ${byDay ? 'day (YYYY-MM-DD)' : 'month (YYYY-MM)'}`);
    }
    let nano: bigint;
    try {
      nano = usdToNano((r[spend] ?? '').trim());
    } catch (err) {
      throw new TollgateError('invalid_request', `${where}: spend_usd "${r[spend] ?? ''}" is not a USD amount: ${(err as Error).message}`);
    }
    if (nano < 0n) throw new TollgateError('invalid_request', `${where}: spend_usd is negative`);
    first = Math.min(first, from);
    last = Math.max(last, to);
    rows.push({ unit: who, day: from / DAY_MS, usd: Number(nano) / 1e9 });
  }
  if (rows.length === 0) throw new TollgateError('invalid_request', `${name} has no rows under its header`);
  return { series: monthlySeries(rows, { fromDay: first / DAY_MS, toDay: last / DAY_MS }), days: byDay ? rows : null };
}

/** CSV records (RFC 4180: quoted cells may hold commas, doubled quotes and line breaks). */
function splitRecords(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      out.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    out.push(row);
  }
  return out;
}
