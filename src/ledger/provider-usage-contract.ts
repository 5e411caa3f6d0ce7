/**
 * What the providers say they billed: rows of the OpenAI organization Usage/Costs APIs and the
 * Anthropic Admin usage/cost reports, one per UTC day and group, stored apart from the ledger so
 * reconciliation can set one against the other. An import replaces whatever earlier imports said
 * about the same provider, source and days: re-importing a file never double counts, and a
 * corrected report supersedes the old one.
 */

export type ReportProvider = 'openai' | 'anthropic';
export const REPORT_PROVIDERS = ['openai', 'anthropic'] as const satisfies readonly ReportProvider[];

/** `usage`: token counts (no money); `cost`: money (no tokens). */
export type ReportSource = 'usage' | 'cost';

/** One group of one day of a provider report. Dimensions the report was not grouped by are ''. */
export interface ProviderUsageRow {
  provider: ReportProvider;
  source: ReportSource;
  /** Start of the UTC day, epoch ms. */
  day: number;
  model: string;
  apiKeyId: string;
  /** OpenAI project id or Anthropic workspace id. */
  projectId: string;
  /** What else tells rows of one group apart: a cost line item or description, a service tier, batch. */
  detail: string;
  /** Input at the full rate (OpenAI's input_tokens less its cached part; Anthropic's uncached input). */
  inputTokens: bigint;
  cacheReadTokens: bigint;
  cacheWrite5mTokens: bigint;
  cacheWrite1hTokens: bigint;
  outputTokens: bigint;
  requests: bigint;
  /** Billed amount in nano-USD (cost rows); null on usage rows. */
  costNano: bigint | null;
}

export interface ProviderUsageImport {
  provider: ReportProvider;
  /** Days (UTC midnight, epoch ms) each source covers, whether or not they have rows: those days are replaced. */
  days: { usage: number[]; cost: number[] };
  rows: ProviderUsageRow[];
}

export interface ImportResult {
  importId: string;
  rows: number;
  /** Rows of earlier imports the covered days replaced. */
  replaced: number;
}

/** What the gateway recorded for one provider, model and UTC day (from the daily rollups). */
export interface LedgerDayRow {
  provider: string;
  model: string;
  day: number;
  calls: bigint;
  inputTokens: bigint;
  cacheReadTokens: bigint;
  cacheWrite5mTokens: bigint;
  cacheWrite1hTokens: bigint;
  outputTokens: bigint;
  listCostNano: bigint;
  effectiveCostNano: bigint;
}

export interface DayWindow {
  /** Inclusive epoch ms; rounded down to the UTC day. */
  from: number;
  /** Exclusive epoch ms; rounded up to the UTC day. */
  to: number;
  provider?: ReportProvider;
}

export interface ProviderUsage {
  /** Stores an import, replacing earlier rows of the same provider, source and days (one transaction). */
  import(batch: ProviderUsageImport, at: number): Promise<ImportResult>;
  /** Stored provider rows in the window, by day, provider, source, then group. */
  rows(window: DayWindow): Promise<ProviderUsageRow[]>;
  /** The ledger's side: per UTC day, provider and served model, from the daily rollups. */
  ledgerDays(window: DayWindow): Promise<LedgerDayRow[]>;
}

export const DAY_MS = 86_400_000;
