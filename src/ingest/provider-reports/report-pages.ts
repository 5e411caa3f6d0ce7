/**
 * What the provider report importers share: splitting a file into the pages the API returned
 * (one page object, an array of pages, or JSON Lines of pages), naming the page and field of a
 * malformed value, exact money conversions, and folding rows into one per day and group.
 */
import type { z } from 'zod';
import { TollgateError } from '../../domain/errors.ts';
import type { ProviderUsageImport, ProviderUsageRow, ReportProvider } from '../../ledger/provider-usage-contract.ts';
import { DAY_MS } from '../../ledger/provider-usage-contract.ts';

/** A parsed report file: the rows to store, and whether the last page said more pages follow. */
export interface ParsedReport extends ProviderUsageImport {
  pages: number;
  /** The last page's `next_page` when it had `has_more: true` (the file stops short of the report's end); else null. */
  nextPage: string | null;
  /** `json`: pages of the API; `csv`: a console's CSV export (one "page"). */
  format: 'json' | 'csv';
  /** Data rows of a CSV export; null for JSON. */
  csvRows: number | null;
}

/** The pages of a report file, in order. */
export function splitPages(text: string, file: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new TollgateError('invalid_request', `${file} is empty`);
  try {
    const whole: unknown = JSON.parse(trimmed);
    return Array.isArray(whole) ? whole : [whole];
  } catch {
    // Not one JSON document: JSON Lines, one page a line.
  }
  return trimmed.split(/\r?\n/).flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as unknown];
    } catch (err) {
      throw new TollgateError('invalid_request', `${file} line ${i + 1} is not JSON (${(err as Error).message}); a report file is one page object, an array of pages, or one page per line`);
    }
  });
}

/** Parses `value` with `schema`, or throws naming where it is (`where`, e.g. "f.json page 2, data[0].results[3]") and the first bad field. */
export function parseAt<T>(schema: z.ZodType<T>, value: unknown, where: string, what: string): T {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  const path = issue ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
  const at = where.includes(', ') ? `${where}${path}` : `${where}${path ? `, ${path.replace(/^\./, '')}` : ''}`;
  throw new TollgateError('invalid_request', `${at}: ${issue?.message ?? 'invalid'} (expected ${what})`);
}

/** The UTC day a bucket covers; refuses buckets that are not one whole UTC day. */
export function bucketDay(startMs: number, endMs: number, where: string): number {
  if (startMs % DAY_MS !== 0 || endMs - startMs !== DAY_MS) {
    throw new TollgateError('invalid_request', `${where}: bucket ${new Date(startMs).toISOString()}–${new Date(endMs).toISOString()} is not one UTC day; request the report with bucket_width=1d`);
  }
  return startMs;
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?(?:e([+-]?\d{1,3}))?$/i;

/**
 * A decimal (plain or with an exponent) scaled by 10^scale into an integer, exactly, rounding half
 * away from zero past the last kept digit. Bigint digit arithmetic only: never a float.
 */
export function scaleDecimal(text: string, scale: number): bigint | null {
  const m = DECIMAL.exec(text.trim());
  if (!m) return null;
  const [, sign, whole = '0', frac = '', exp = '0'] = m;
  // Move the point by the exponent: digits left of it are whole, the rest fraction.
  let digits = whole + frac;
  let point = whole.length + Number(exp);
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits = digits.padEnd(point, '0');
  const fraction = digits.slice(point);
  let n = BigInt((digits.slice(0, point) || '0') + fraction.slice(0, scale).padEnd(scale, '0'));
  if ((fraction[scale] ?? '0') >= '5') n += 1n;
  return sign ? -n : n;
}

/** Anthropic's amounts: cents as a decimal string ("123.45" is $1.2345) → nano-USD (1 cent = 10^7 nano). */
export function centsToNano(cents: string): bigint | null {
  return scaleDecimal(cents, 7);
}

/**
 * OpenAI's amounts: USD as a JSON number → nano-USD. The number is read through its shortest
 * round-trip decimal (what the JSON said, for up to 15 significant digits), never multiplied as a float.
 */
export function usdNumberToNano(usd: number): bigint | null {
  if (!Number.isFinite(usd)) return null;
  // Number#toString is the shortest decimal that reads back as the same double, e.g. 0.06 or 1.5e-7.
  return scaleDecimal(usd.toString(), 9);
}

/** Sums rows of the same provider, source, day and group (a report may repeat a group across its dimensions we do not keep). */
export function foldRows(
  provider: ReportProvider,
  rows: readonly ProviderUsageRow[],
  days: { usage: Set<number>; cost: Set<number> },
  pages: number,
  nextPage: string | null,
): Omit<ParsedReport, 'format' | 'csvRows'> {
  const byKey = new Map<string, ProviderUsageRow>();
  for (const r of rows) {
    const key = [r.source, r.day, r.model, r.apiKeyId, r.projectId, r.detail].join('\u0000');
    const had = byKey.get(key);
    if (!had) {
      byKey.set(key, { ...r });
      continue;
    }
    had.inputTokens += r.inputTokens;
    had.cacheReadTokens += r.cacheReadTokens;
    had.cacheWrite5mTokens += r.cacheWrite5mTokens;
    had.cacheWrite1hTokens += r.cacheWrite1hTokens;
    had.outputTokens += r.outputTokens;
    had.requests += r.requests;
    had.costNano = had.costNano === null && r.costNano === null ? null : (had.costNano ?? 0n) + (r.costNano ?? 0n);
  }
  const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);
  return { provider, days: { usage: sorted(days.usage), cost: sorted(days.cost) }, rows: [...byKey.values()], pages, nextPage };
}
