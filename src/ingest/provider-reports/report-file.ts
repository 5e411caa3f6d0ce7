/**
 * One provider report file, whatever its form: the JSON pages of the providers' APIs, or the CSV
 * exports of their consoles. A `.csv` name, or text that does not open like JSON, is read as CSV.
 */
import type { ReportProvider } from '../../ledger/provider-usage-contract.ts';
import { parseAnthropicCsv } from './anthropic-csv.ts';
import { parseAnthropicReport } from './anthropic.ts';
import { parseOpenAiCsv } from './openai-csv.ts';
import { parseOpenAiReport } from './openai.ts';
import type { ParsedReport } from './report-pages.ts';

const PARSERS: Record<ReportProvider, Record<ParsedReport['format'], (text: string, file: string) => ParsedReport>> = {
  openai: { json: parseOpenAiReport, csv: parseOpenAiCsv },
  anthropic: { json: parseAnthropicReport, csv: parseAnthropicCsv },
};

/** The report in `text`, read from a file named `file`. */
export function parseReportFile(provider: ReportProvider, text: string, file: string): ParsedReport {
  return PARSERS[provider][reportFormat(text, file)](text, file);
}

/** `csv` for a `.csv` file or a text that does not start like JSON (an object, an array, or JSON Lines); else `json`. */
export function reportFormat(text: string, file: string): ParsedReport['format'] {
  if (/\.csv$/i.test(file)) return 'csv';
  const start = text.replace(/^\ufeff/, '').trimStart()[0];
  return start === undefined || start === '{' || start === '[' ? 'json' : 'csv';
}
