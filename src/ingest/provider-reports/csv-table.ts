/**
 * The CSV exports of the providers' consoles, read as a header and rows (RFC 4180: cells in double
 * quotes may hold commas, line breaks and doubled quotes; CRLF, LF or CR line ends; a UTF-8 byte
 * order mark, as spreadsheet programs write, is dropped). Columns are found by name, in any order,
 * under the names each provider has used; cells are read as exact counts, USD amounts and UTC days.
 */
import { TollgateError } from '../../domain/errors.ts';
import { DAY_MS } from '../../ledger/provider-usage-contract.ts';
import { scaleDecimal } from './report-pages.ts';

export interface CsvRow {
  /** Line of the file the row starts on (1 is the header), for error messages. */
  line: number;
  cells: string[];
}

export interface CsvTable {
  file: string;
  header: string[];
  rows: CsvRow[];
}

/** Splits a CSV text into its header and rows. Blank lines are skipped; a quote left open is an error. */
export function readCsv(text: string, file: string): CsvTable {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // European spreadsheets export with semicolons; a header without a comma but with semicolons says so.
  const firstLine = body.slice(0, body.search(/[\r\n]|$/));
  const sep = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  const records: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  /** The cell began with a quote (a quote elsewhere is kept as a character, as spreadsheets do). */
  let atCellStart = true;
  const endRecord = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0]!.trim() !== '') records.push({ line: start, cells });
    cells = [];
    cell = '';
    atCellStart = true;
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"') {
        if (body[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n' || (c === '\r' && body[i + 1] !== '\n')) line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && atCellStart) {
      quoted = true;
      atCellStart = false;
    } else if (c === sep) {
      cells.push(cell);
      cell = '';
      atCellStart = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      cell += c;
      atCellStart = false;
    }
  }
  if (quoted) throw new TollgateError('invalid_request', `${file} line ${start}: a quoted cell is never closed (a '"' is missing)`);
  if (cell !== '' || cells.length > 0) endRecord();
  const [head, ...rows] = records;
  if (head === undefined) throw new TollgateError('invalid_request', `${file} is empty`);
  for (const r of rows) {
    // Trailing empty cells are harmless (a spreadsheet's stray comma); anything else past the header is misaligned.
    while (r.cells.length > head.cells.length && r.cells.at(-1)!.trim() === '') r.cells.pop();
    if (r.cells.length > head.cells.length) throw new TollgateError('invalid_request', `${file} line ${r.line} has ${r.cells.length} cells but the header has ${head.cells.length}: is a cell holding a comma unquoted?`);
  }
  return { file, header: head.cells.map((h) => h.trim()), rows };
}

/** A column name as compared: lower case, runs of spaces, dashes, dots and brackets as one underscore. */
export function columnKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s\-.()[\]/]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** The columns of one table, found by any of the names a provider has given them. */
export class CsvColumns {
  readonly #table: CsvTable;
  readonly #index = new Map<string, number>();

  constructor(table: CsvTable) {
    this.#table = table;
    table.header.forEach((h, i) => {
      const key = columnKey(h);
      if (!this.#index.has(key)) this.#index.set(key, i);
    });
  }

  /** Whether any of `names` is a column. */
  has(names: readonly string[]): boolean {
    return names.some((n) => this.#index.has(columnKey(n)));
  }

  /** The first of `names` that is a column; null when none is. */
  find(names: readonly string[]): Column | null {
    for (const n of names) {
      const i = this.#index.get(columnKey(n));
      if (i !== undefined) return { name: this.#table.header[i]!, index: i };
    }
    return null;
  }

  /** Like `find`, but a missing column is an error that names what was looked for and what the header has. */
  require(what: string, names: readonly string[]): Column {
    const c = this.find(names);
    if (c !== null) return c;
    throw new TollgateError(
      'invalid_request',
      `${this.#table.file}: no ${what} column (looked for ${names.join(', ')}); the header has ${this.#table.header.join(', ') || 'nothing'}`,
    );
  }
}

export interface Column {
  /** The header's own spelling, for messages. */
  name: string;
  index: number;
}

/** The text of a cell, trimmed; '' when the column is absent or the row is short. */
export function text(row: CsvRow, col: Column | null): string {
  return col === null ? '' : (row.cells[col.index] ?? '').trim();
}

/** Where a cell is, for error messages: `file line 7, usage_output_tokens`. */
function at(file: string, row: CsvRow, col: Column): string {
  return `${file} line ${row.line}, ${col.name}`;
}

/** Digits, optionally grouped by thousands with commas or spaces (as spreadsheets format them). */
const COUNT = /^\d{1,3}(?:[, ]\d{3})*$|^\d+$/;

/** A token or request count: a whole number, 0 when the cell is empty or the column absent. */
export function countCell(file: string, row: CsvRow, col: Column | null): bigint {
  const t = text(row, col);
  if (t === '' || col === null) return 0n;
  if (!COUNT.test(t)) throw new TollgateError('invalid_request', `${at(file, row, col)}: ${JSON.stringify(t)} is not a count of tokens or requests (a whole number)`);
  return BigInt(t.replace(/[, ]/g, ''));
}

/** An amount of USD: a decimal, maybe with a `$` and thousands commas; exact in nano-USD. Null when the cell is empty. */
export function usdCell(file: string, row: CsvRow, col: Column): bigint | null {
  const t = text(row, col);
  if (t === '') return null;
  const plain = t.replace(/^(-?)\$/, '$1');
  const grouped = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(plain);
  const nano = scaleDecimal(grouped ? plain.replace(/,/g, '') : plain, 9);
  if (nano === null) throw new TollgateError('invalid_request', `${at(file, row, col)}: ${JSON.stringify(t)} is not an amount of USD (a decimal like 12.50)`);
  return nano;
}

const DATE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2}|UTC)?)?$/i;

/** An instant from a unix-seconds number or an ISO date or date-time (UTC unless it says otherwise); null when the cell is empty. */
export function instantCell(file: string, row: CsvRow, col: Column): number | null {
  const t = text(row, col);
  if (t === '') return null;
  let ms = NaN;
  if (/^\d{9,11}$/.test(t)) ms = Number(t) * 1000;
  else {
    const m = DATE.exec(t);
    if (m) {
      const zone = m[3] === undefined || m[3].toUpperCase() === 'UTC' ? 'Z' : m[3];
      ms = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${zone}`);
    }
  }
  if (!Number.isFinite(ms)) throw new TollgateError('invalid_request', `${at(file, row, col)}: ${JSON.stringify(t)} is not a date (2026-11-03, an ISO date-time, or unix seconds)`);
  return ms;
}

/**
 * The UTC day a row covers: its start at midnight UTC, and, when the export gives an end, exactly one
 * day later. A row of an hourly export is refused rather than half-counted.
 */
export function dayOfRow(file: string, row: CsvRow, start: Column, end: Column | null): number {
  const from = instantCell(file, row, start);
  if (from === null) throw new TollgateError('invalid_request', `${at(file, row, start)} is empty: every row needs its day`);
  const to = end === null ? null : instantCell(file, row, end);
  if (from % DAY_MS !== 0 || (to !== null && to - from !== DAY_MS)) {
    const span = to === null ? new Date(from).toISOString() : `${new Date(from).toISOString()}–${new Date(to).toISOString()}`;
    throw new TollgateError('invalid_request', `${file} line ${row.line}: ${span} is not one whole UTC day; export the report by day (daily buckets, UTC)`);
  }
  return from;
}
