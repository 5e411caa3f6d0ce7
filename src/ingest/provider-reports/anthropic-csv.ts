/**
 * The Anthropic Console's CSV exports (Usage and Cost pages, Export): one row per day and group.
 * Which export a file is follows from its columns.
 *
 * Usage export, required: `usage_date_utc` (or `date`), `usage_input_tokens_no_cache`,
 * `usage_output_tokens`; read when present: `model_version` (or `model`), the cache columns
 * `usage_input_tokens_cache_read`, `usage_input_tokens_cache_write_5m`,
 * `usage_input_tokens_cache_write_1h` (an older single `usage_input_tokens_cache_write` counts as
 * 5-minute writes, Anthropic's default TTL), `api_key_id` (else `api_key`, the key's name),
 * `workspace_id` (else `workspace`, its name), `usage_type`, `context_window`.
 *
 * Cost export, required: `usage_date_utc`, `cost_usd` (USD as a decimal, unlike the Admin API's
 * cents); read when present: `model` (the Console writes display names such as "Claude Sonnet 4",
 * read as the model id "claude-sonnet-4"), `workspace_id` or `workspace`, `token_type`, `cost_type`,
 * `usage_type`, `context_window`. Like the Admin API's cost report, cost rows are not attributed to
 * keys (reconciliation prices a bypassed key from its usage).
 *
 * Where the export names keys and workspaces rather than giving their ids, list those names in the
 * `reconcile:` section of tollgate.yaml for bypass to be told apart.
 */
import { TollgateError } from '../../domain/errors.ts';
import type { ProviderUsageRow } from '../../ledger/provider-usage-contract.ts';
import type { CsvTable } from './csv-table.ts';
import { CsvColumns, countCell, dayOfRow, readCsv, text, usdCell } from './csv-table.ts';
import type { ParsedReport } from './report-pages.ts';
import { foldRows } from './report-pages.ts';

const DAY = ['usage_date_utc', 'usage_date', 'date', 'day', 'starting_at'];
const DAY_END = ['ending_at'];
const WORKSPACE = ['workspace_id', 'workspace'];
const COST = ['cost_usd', 'cost', 'amount_usd', 'amount'];

export function parseAnthropicCsv(text_: string, file: string): ParsedReport {
  const table = readCsv(text_, file);
  const cols = new CsvColumns(table);
  if (cols.has(COST)) return costs(table, cols);
  if (cols.has(['usage_input_tokens_no_cache', 'usage_output_tokens', 'uncached_input_tokens'])) return usage(table, cols);
  throw new TollgateError(
    'invalid_request',
    `${file} is neither an Anthropic Console usage export (usage_input_tokens_no_cache, usage_output_tokens) nor a cost export (cost_usd); the header has ${table.header.join(', ')}`,
  );
}

/**
 * A Console display name as a model id: "Claude Sonnet 4" → "claude-sonnet-4", "Claude Haiku 4.5" →
 * "claude-haiku-4-5", "Claude 3.5 Sonnet 2024-10-22" → "claude-3-5-sonnet-20241022". An id stays as it is.
 */
export function consoleModelId(name: string): string {
  const t = name.trim();
  if (!/\s/.test(t) && t === t.toLowerCase()) return t;
  return t
    .toLowerCase()
    .replace(/(\d{4})-(\d{2})-(\d{2})/g, '$1$2$3')
    .replace(/[\s.]+/g, '-')
    .replace(/-+/g, '-');
}

function base(day: number, workspace: string) {
  return { provider: 'anthropic' as const, day, projectId: workspace, inputTokens: 0n, cacheReadTokens: 0n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 0n, outputTokens: 0n, requests: 0n };
}

function usage(table: CsvTable, cols: CsvColumns): ParsedReport {
  const { file } = table;
  const c = {
    day: cols.require('day', DAY),
    end: cols.find(DAY_END),
    input: cols.require('uncached input tokens', ['usage_input_tokens_no_cache', 'uncached_input_tokens', 'input_tokens']),
    output: cols.require('output tokens', ['usage_output_tokens', 'output_tokens']),
    read: cols.find(['usage_input_tokens_cache_read', 'cache_read_input_tokens']),
    write5m: cols.find(['usage_input_tokens_cache_write_5m', 'ephemeral_5m_input_tokens']),
    write1h: cols.find(['usage_input_tokens_cache_write_1h', 'ephemeral_1h_input_tokens']),
    // Exports from before the 1-hour cache have one write column: all 5-minute writes.
    write: cols.find(['usage_input_tokens_cache_write', 'cache_creation_input_tokens']),
    model: cols.find(['model_version', 'model']),
    key: cols.find(['api_key_id', 'api_key']),
    workspace: cols.find(WORKSPACE),
    usageType: cols.find(['usage_type', 'service_tier']),
    window: cols.find(['context_window']),
  };
  const rows: ProviderUsageRow[] = [];
  const days = { usage: new Set<number>(), cost: new Set<number>() };
  for (const row of table.rows) {
    const day = dayOfRow(file, row, c.day, c.end);
    days.usage.add(day);
    const write5m = c.write5m === null ? countCell(file, row, c.write) : countCell(file, row, c.write5m);
    rows.push({
      ...base(day, text(row, c.workspace)),
      source: 'usage',
      model: text(row, c.model),
      apiKeyId: text(row, c.key),
      detail: [text(row, c.usageType), text(row, c.window)].filter(Boolean).join(' | '),
      inputTokens: countCell(file, row, c.input),
      cacheReadTokens: countCell(file, row, c.read),
      cacheWrite5mTokens: write5m,
      cacheWrite1hTokens: countCell(file, row, c.write1h),
      outputTokens: countCell(file, row, c.output),
      costNano: null,
    });
  }
  return { ...foldRows('anthropic', rows, days, 1, null), format: 'csv', csvRows: table.rows.length };
}

function costs(table: CsvTable, cols: CsvColumns): ParsedReport {
  const { file } = table;
  const c = {
    day: cols.require('day', DAY),
    end: cols.find(DAY_END),
    cost: cols.require('cost', COST),
    currency: cols.find(['currency']),
    model: cols.find(['model', 'model_version']),
    workspace: cols.find(WORKSPACE),
    detail: ['description', 'token_type', 'cost_type', 'usage_type', 'context_window', 'service_tier', 'inference_geo', 'speed'].map((n) => cols.find([n])),
  };
  const rows: ProviderUsageRow[] = [];
  const days = { usage: new Set<number>(), cost: new Set<number>() };
  for (const row of table.rows) {
    const day = dayOfRow(file, row, c.day, c.end);
    days.cost.add(day);
    const costNano = usdCell(file, row, c.cost);
    if (costNano === null) continue;
    const currency = text(row, c.currency);
    if (currency !== '' && currency.toUpperCase() !== 'USD') throw new TollgateError('invalid_request', `${file} line ${row.line}: amount in ${currency}; only USD is reconciled`);
    const detail = c.detail.map((col) => text(row, col)).filter(Boolean).join(' | ');
    rows.push({ ...base(day, text(row, c.workspace)), source: 'cost', model: consoleModelId(text(row, c.model)), apiKeyId: '', detail, costNano });
  }
  return { ...foldRows('anthropic', rows, days, 1, null), format: 'csv', csvRows: table.rows.length };
}
