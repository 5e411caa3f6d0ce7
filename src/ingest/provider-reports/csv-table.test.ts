import { describe, expect, it } from 'vitest';
import { TollgateError } from '../../domain/errors.ts';
import { consoleModelId } from './anthropic-csv.ts';
import { columnKey, countCell, CsvColumns, dayOfRow, readCsv, usdCell } from './csv-table.ts';
import { reportFormat } from './report-file.ts';

describe('readCsv', () => {
  it('reads quoted cells with commas, doubled quotes and line breaks, under CRLF, LF or CR line ends', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\r\nlines",\r\n3,plain,"" \n4,"",last\r5,z,end';
    const t = readCsv(text, 'f.csv');
    expect(t.header).toEqual(['a', 'b', 'c']);
    expect(t.rows.map((r) => r.cells)).toEqual([
      ['1', 'x, y', 'say "hi"'],
      ['2', 'two\r\nlines', ''],
      ['3', 'plain', ' '],
      ['4', '', 'last'],
      ['5', 'z', 'end'],
    ]);
    // Lines are counted in the file, line breaks inside quotes included.
    expect(t.rows.map((r) => r.line)).toEqual([2, 3, 5, 6, 7]);
  });

  it('drops a byte order mark, skips blank lines, reads semicolon exports', () => {
    expect(readCsv('\ufeffday,n\n\n2026-11-03,1\n\n', 'f').header).toEqual(['day', 'n']);
    expect(readCsv('\ufeffday,n\n\n2026-11-03,1\n\n', 'f').rows).toEqual([{ line: 3, cells: ['2026-11-03', '1'] }]);
    expect(readCsv('day;cost\n2026-11-03;"1,50"\n', 'f').rows[0]!.cells).toEqual(['2026-11-03', '1,50']);
  });

  it('refuses a quote left open and a row wider than the header, naming the line', () => {
    expect(() => readCsv('a,b\n1,"open\n2,3\n', 'f.csv')).toThrow('f.csv line 2: a quoted cell is never closed');
    expect(() => readCsv('a,b\n1,2\n1,2,3\n', 'f.csv')).toThrow('f.csv line 3 has 3 cells but the header has 2');
    expect(() => readCsv('', 'f.csv')).toThrow(TollgateError);
    // A stray trailing comma is not a misaligned row.
    expect(readCsv('a,b\n1,2,\n', 'f').rows[0]!.cells).toEqual(['1', '2']);
  });
});

describe('columns and cells', () => {
  const table = readCsv('Usage Date (UTC),Input-Tokens,cost_usd\n2026-11-03,"1,234,567",$1.50\n2026-11-04,12 000,"$1,000.25"\n2026-11-05,,\n', 'f.csv');
  const cols = new CsvColumns(table);

  it('finds columns by any spelling, in any order', () => {
    expect(columnKey(' Usage Date (UTC) ')).toBe('usage_date_utc');
    expect(cols.find(['usage_date_utc'])).toEqual({ name: 'Usage Date (UTC)', index: 0 });
    expect(cols.find(['tokens', 'input_tokens'])?.index).toBe(1);
    expect(() => cols.require('output tokens', ['output_tokens', 'usage_output_tokens'])).toThrow('f.csv: no output tokens column (looked for output_tokens, usage_output_tokens); the header has Usage Date (UTC), Input-Tokens, cost_usd');
  });

  it('reads counts with thousands separators and USD amounts exactly', () => {
    const input = cols.find(['input_tokens']);
    const cost = cols.require('cost', ['cost_usd']);
    expect(table.rows.map((r) => countCell('f', r, input))).toEqual([1_234_567n, 12_000n, 0n]);
    expect(table.rows.map((r) => usdCell('f', r, cost))).toEqual([1_500_000_000n, 1_000_250_000_000n, null]);
    const bad = readCsv('n,usd\n1.5,1.2.3\n', 'g.csv');
    const c = new CsvColumns(bad);
    expect(() => countCell('g.csv', bad.rows[0]!, c.find(['n']))).toThrow('g.csv line 2, n: "1.5" is not a count');
    expect(() => usdCell('g.csv', bad.rows[0]!, c.require('usd', ['usd']))).toThrow('g.csv line 2, usd: "1.2.3" is not an amount of USD');
    // 30 decimals, as the OpenAI cost export writes them: exact, rounded half up at the nano.
    const long = readCsv('usd\n0.003835980000000000000000000000\n0.0000000005\n', 'h');
    expect(long.rows.map((r) => usdCell('h', r, new CsvColumns(long).require('usd', ['usd'])))).toEqual([3_835_980n, 1n]);
  });

  it('reads the day of a row from a date, an ISO date-time or unix seconds, and refuses partial days', () => {
    const days = readCsv('start,end\n2026-11-03,\n2026-11-03T00:00:00+00:00,2026-11-04T00:00:00+00:00\n1793664000,1793750400\n2026-11-03 00:00:00 UTC,\n', 'd');
    const c = new CsvColumns(days);
    const start = c.require('start', ['start']);
    const end = c.find(['end']);
    expect(days.rows.map((r) => dayOfRow('d', r, start, end))).toEqual([Date.UTC(2026, 10, 3), Date.UTC(2026, 10, 3), Date.UTC(2026, 10, 3), Date.UTC(2026, 10, 3)]);
    const partial = readCsv('start,end\n2026-11-03T00:00:00Z,2026-11-03T01:00:00Z\n2026-11-03T08:00:00+08:00,\nyesterday,\n', 'p');
    const pc = new CsvColumns(partial);
    const [ps, pe] = [pc.require('start', ['start']), pc.find(['end'])];
    expect(() => dayOfRow('p', partial.rows[0]!, ps, pe)).toThrow('is not one whole UTC day');
    expect(dayOfRow('p', partial.rows[1]!, ps, pe)).toBe(Date.UTC(2026, 10, 3));
    expect(() => dayOfRow('p', partial.rows[2]!, ps, pe)).toThrow('p line 4, start: "yesterday" is not a date');
  });
});

describe('formats and names', () => {
  it('tells a CSV export from API pages by the name, else by how the text starts', () => {
    expect(reportFormat('{"object":"page"}', 'x.csv')).toBe('csv');
    expect(reportFormat('\ufeff [{"data":[]}]', 'x.json')).toBe('json');
    expect(reportFormat('{"data":[]}\n{"data":[]}', 'pages.jsonl')).toBe('json');
    expect(reportFormat('\ufeffusage_date_utc,model\n', 'export.txt')).toBe('csv');
  });

  it('reads Console display names as model ids', () => {
    expect(consoleModelId('Claude Sonnet 4')).toBe('claude-sonnet-4');
    expect(consoleModelId('Claude Haiku 4.5')).toBe('claude-haiku-4-5');
    expect(consoleModelId('Claude 3.5 Sonnet 2024-10-22')).toBe('claude-3-5-sonnet-20241022');
    expect(consoleModelId('claude-sonnet-4-20250514')).toBe('claude-sonnet-4-20250514');
    expect(consoleModelId('')).toBe('');
  });
});
