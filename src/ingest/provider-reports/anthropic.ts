/**
 * Anthropic's Admin API reports, as `GET /v1/organizations/usage_report/messages` and
 * `GET /v1/organizations/cost_report` return them: `{ data: [buckets], has_more, next_page }` with
 * RFC 3339 bucket bounds. Usage splits input into uncached, cache reads and cache writes (5 min and
 * 1 h); cost amounts are decimal strings in cents ("123.45" is $1.2345), converted exactly.
 * https://docs.anthropic.com/en/api/admin-api/usage-cost/get-messages-usage-report
 */
import { z } from 'zod';
import { TollgateError } from '../../domain/errors.ts';
import type { ProviderUsageRow } from '../../ledger/provider-usage-contract.ts';
import type { ParsedReport } from './report-pages.ts';
import { bucketDay, centsToNano, foldRows, parseAt, splitPages } from './report-pages.ts';

const count = z.number().int().nonnegative();
const id = z.string().nullish();

const usageResult = z.looseObject({
  uncached_input_tokens: count,
  cache_read_input_tokens: count,
  cache_creation: z.looseObject({ ephemeral_5m_input_tokens: count, ephemeral_1h_input_tokens: count }),
  output_tokens: count,
  model: id,
  api_key_id: id,
  workspace_id: id,
  service_tier: id,
  context_window: id,
});

const costResult = z.looseObject({
  amount: z.string(),
  currency: z.string(),
  description: id,
  cost_type: id,
  token_type: id,
  model: id,
  workspace_id: id,
  service_tier: id,
  context_window: id,
});

const page = z.looseObject({
  data: z.array(
    z.looseObject({
      starting_at: z.iso.datetime({ offset: true }),
      ending_at: z.iso.datetime({ offset: true }),
      // Each result is checked as a cost result when it has an amount, else as a usage result: an error then names the field.
      results: z.array(z.record(z.string(), z.unknown())),
    }),
  ),
  has_more: z.boolean(),
  next_page: z.string().nullish(),
});

function empty(day: number, model: string | null | undefined, workspace: string | null | undefined) {
  return { provider: 'anthropic' as const, day, model: model ?? '', projectId: workspace ?? '', inputTokens: 0n, cacheReadTokens: 0n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 0n, outputTokens: 0n, requests: 0n };
}

export function parseAnthropicReport(text: string, file: string): ParsedReport {
  const pages = splitPages(text, file);
  const rows: ProviderUsageRow[] = [];
  const days = { usage: new Set<number>(), cost: new Set<number>() };
  let nextPage: string | null = null;
  for (const [p, raw] of pages.entries()) {
    const pg = parseAt(page, raw, `${file} page ${p + 1}`, 'an Anthropic usage_report/messages or cost_report page: {"data":[buckets],"has_more":…,"next_page":…}');
    nextPage = pg.has_more ? (pg.next_page ?? '') : null;
    for (const [b, bucket] of pg.data.entries()) {
      const where = `${file} page ${p + 1}, data[${b}]`;
      const day = bucketDay(Date.parse(bucket.starting_at), Date.parse(bucket.ending_at), where);
      for (const [i, result] of bucket.results.entries()) {
        const at = `${where}.results[${i}]`;
        if ('amount' in result) {
          const r = parseAt(costResult, result, at, 'a cost_report result: amount, currency, …');
          days.cost.add(day);
          if (r.currency.toUpperCase() !== 'USD') throw new TollgateError('invalid_request', `${at}: amount in ${r.currency}; only USD is reconciled`);
          const costNano = centsToNano(r.amount);
          if (costNano === null) throw new TollgateError('invalid_request', `${at}.amount: ${JSON.stringify(r.amount)} is not a decimal number of cents`);
          const detail = [r.description, r.cost_type, r.token_type, r.service_tier, r.context_window].filter(Boolean).join(' | ');
          rows.push({ ...empty(day, r.model, r.workspace_id), source: 'cost', apiKeyId: '', detail, costNano });
          continue;
        }
        const r = parseAt(usageResult, result, at, 'a usage_report/messages result: uncached_input_tokens, cache_read_input_tokens, cache_creation, output_tokens, …');
        days.usage.add(day);
        rows.push({
          ...empty(day, r.model, r.workspace_id),
          source: 'usage',
          apiKeyId: r.api_key_id ?? '',
          detail: [r.service_tier, r.context_window].filter(Boolean).join(' | '),
          inputTokens: BigInt(r.uncached_input_tokens),
          cacheReadTokens: BigInt(r.cache_read_input_tokens),
          cacheWrite5mTokens: BigInt(r.cache_creation.ephemeral_5m_input_tokens),
          cacheWrite1hTokens: BigInt(r.cache_creation.ephemeral_1h_input_tokens),
          outputTokens: BigInt(r.output_tokens),
          costNano: null,
        });
      }
    }
  }
  return { ...foldRows('anthropic', rows, days, pages.length, nextPage), format: 'json', csvRows: null };
}
