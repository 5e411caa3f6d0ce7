/** How the CLI talks: aligned tables for people, JSON (bigints as strings) with --json. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export function toJson(value: unknown): string {
  // Money and token sums are bigint: emit them as decimal strings, never as lossy numbers.
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}

export type Align = 'left' | 'right';

export function table(headers: string[], rows: (string | number)[][], align: Align[] = []): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => displayWidth(r[i] ?? ''))));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(c)));
        return align[i] === 'right' ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [fmt(headers), fmt(widths.map((w) => '─'.repeat(w))), ...cells.map(fmt)].join('\n') + '\n';
}

function displayWidth(s: string): number {
  return [...s].length;
}

export function isoOrDash(ms: number | null): string {
  return ms === null ? '—' : new Date(ms).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
}

/**
 * RFC 4180 CSV: a header line, then one line per row; cells with a comma, quote or line break are
 * quoted (quotes doubled); null and undefined are empty cells; bigints are plain integers.
 */
export function toCsv(headers: readonly string[], rows: readonly (readonly (string | number | bigint | boolean | null | undefined)[])[]): string {
  const cell = (v: string | number | bigint | boolean | null | undefined): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [headers, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
