/**
 * The OpenAI usage dashboard's CSV exports (platform.openai.com/usage, Export): the Activity export
 * (token usage) and the Cost export, one row per day bucket and group, columns named like the
 * organization Usage and Costs APIs' fields. Which export a file is follows from its columns.
 *
 * Required columns. Both: the day (`start_time` in unix seconds or `start_time_iso`, or `date`; an
 * `end_time`/`end_time_iso`, when present, must be one day later). Activity: `input_tokens` and
 * `output_tokens` (`input_cached_tokens`, `num_model_requests`, `model`, `project_id`,
 * `api_key_id`, `batch`, `service_tier` are read when present). Cost: `amount_value` (or `amount`,
 * `cost`, `cost_usd`; `amount_currency` when present must be USD, `line_item` and `project_id` are
 * read when present). Amounts are read as decimals, exactly, never as floats.
 */
import { TollgateError } from '../../domain/errors.ts';
import type { ProviderUsageRow } from '../../ledger/provider-usage-contract.ts';
import type { CsvTable } from './csv-table.ts';
import { CsvColumns, countCell, dayOfRow, readCsv, text, usdCell } from './csv-table.ts';
import type { ParsedReport } from './report-pages.ts';
import { foldRows } from './report-pages.ts';

const DAY_START = ['start_time', 'start_time_iso', 'date', 'day', 'bucket_start_time'];
const DAY_END = ['end_time', 'end_time_iso', 'bucket_end_time'];
const AMOUNT = ['amount_value', 'amount', 'cost', 'cost_usd', 'amount_usd'];

export function parseOpenAiCsv(text_: string, file: string): ParsedReport {
  const table = readCsv(text_, file);
  const cols = new CsvColumns(table);
  if (cols.has(AMOUNT)) return costs(table, cols);
  if (cols.has(['input_tokens', 'output_tokens'])) return usage(table, cols);
  throw new TollgateError(
    'invalid_request',
    `${file} is neither an OpenAI Activity export (input_tokens, output_tokens) nor a Cost export (amount_value); the header has ${table.header.join(', ')}`,
  );
}

/** A cost line item is "<model>, <input|output|cached input…>" for model usage; other items keep their whole name. */
function lineItemModel(lineItem: string): string {
  const comma = lineItem.indexOf(', ');
  return comma > 0 ? lineItem.slice(0, comma) : lineItem;
}

function base(day: number, projectId: string) {
  return { provider: 'openai' as const, day, projectId, inputTokens: 0n, cacheReadTokens: 0n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 0n, outputTokens: 0n, requests: 0n };
}

function usage(table: CsvTable, cols: CsvColumns): ParsedReport {
  const { file } = table;
  const c = {
    start: cols.require('day', DAY_START),
    end: cols.find(DAY_END),
    input: cols.require('input tokens', ['input_tokens']),
    output: cols.require('output tokens', ['output_tokens']),
    cached: cols.find(['input_cached_tokens', 'cached_tokens', 'cached_input_tokens']),
    requests: cols.find(['num_model_requests', 'requests', 'num_requests']),
    model: cols.find(['model']),
    project: cols.find(['project_id']),
    key: cols.find(['api_key_id']),
    batch: cols.find(['batch']),
    tier: cols.find(['service_tier']),
  };
  const rows: ProviderUsageRow[] = [];
  const days = { usage: new Set<number>(), cost: new Set<number>() };
  for (const row of table.rows) {
    const day = dayOfRow(file, row, c.start, c.end);
    days.usage.add(day);
    const input = countCell(file, row, c.input);
    const cached = countCell(file, row, c.cached);
    if (cached > input) throw new TollgateError('invalid_request', `${file} line ${row.line}: ${c.cached!.name} ${cached} exceeds ${c.input.name} ${input} (they include the cached ones)`);
    const output = countCell(file, row, c.output);
    const requests = countCell(file, row, c.requests);
    // An empty bucket (a day with no usage) covers its day and adds nothing.
    if (input === 0n && output === 0n && requests === 0n) continue;
    const batch = /^(true|1|yes)$/i.test(text(row, c.batch));
    rows.push({
      ...base(day, text(row, c.project)),
      source: 'usage',
      model: text(row, c.model),
      apiKeyId: text(row, c.key),
      detail: [batch ? 'batch' : '', text(row, c.tier)].filter(Boolean).join(' '),
      inputTokens: input - cached,
      cacheReadTokens: cached,
      outputTokens: output,
      requests,
      costNano: null,
    });
  }
  return { ...foldRows('openai', rows, days, 1, null), format: 'csv', csvRows: table.rows.length };
}

function costs(table: CsvTable, cols: CsvColumns): ParsedReport {
  const { file } = table;
  const c = {
    start: cols.require('day', DAY_START),
    end: cols.find(DAY_END),
    amount: cols.require('amount', AMOUNT),
    currency: cols.find(['amount_currency', 'currency']),
    lineItem: cols.find(['line_item']),
    project: cols.find(['project_id']),
  };
  const rows: ProviderUsageRow[] = [];
  const days = { usage: new Set<number>(), cost: new Set<number>() };
  for (const row of table.rows) {
    const day = dayOfRow(file, row, c.start, c.end);
    days.cost.add(day);
    const costNano = usdCell(file, row, c.amount);
    // A day without cost is listed with an empty amount: it covers the day and bills nothing.
    if (costNano === null) continue;
    const currency = text(row, c.currency);
    if (currency !== '' && currency.toLowerCase() !== 'usd') throw new TollgateError('invalid_request', `${file} line ${row.line}: amount in ${currency}; only USD is reconciled`);
    const lineItem = text(row, c.lineItem);
    rows.push({ ...base(day, text(row, c.project)), source: 'cost', model: lineItem ? lineItemModel(lineItem) : '', apiKeyId: '', detail: lineItem, costNano });
  }
  return { ...foldRows('openai', rows, days, 1, null), format: 'csv', csvRows: table.rows.length };
}
