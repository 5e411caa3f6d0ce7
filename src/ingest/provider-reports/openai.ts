/**
 * OpenAI's organization reports, as `GET /v1/organization/usage/completions` and
 * `GET /v1/organization/costs` return them: pages of daily buckets whose results carry the
 * dimensions the request grouped by (`project_id`, `api_key_id`, `model`, `line_item`…) and null
 * for the others. Usage input_tokens include the cached ones; cost amounts are USD JSON numbers.
 * https://platform.openai.com/docs/api-reference/usage
 */
import { z } from 'zod';
import { TollgateError } from '../../domain/errors.ts';
import type { ProviderUsageRow } from '../../ledger/provider-usage-contract.ts';
import type { ParsedReport } from './report-pages.ts';
import { bucketDay, foldRows, parseAt, splitPages, usdNumberToNano } from './report-pages.ts';

const count = z.number().int().nonnegative();
const id = z.string().nullish();

const usageResult = z.looseObject({
  object: z.literal('organization.usage.completions.result'),
  input_tokens: count,
  output_tokens: count,
  input_cached_tokens: count.nullish(),
  num_model_requests: count,
  project_id: id,
  api_key_id: id,
  model: id,
  batch: z.boolean().nullish(),
  service_tier: id,
});

const costResult = z.looseObject({
  object: z.literal('organization.costs.result'),
  amount: z.looseObject({ value: z.number(), currency: z.string() }),
  line_item: id,
  project_id: id,
});

const page = z.looseObject({
  object: z.literal('page'),
  data: z.array(
    z.looseObject({
      object: z.literal('bucket'),
      start_time: z.number().int(),
      end_time: z.number().int(),
      results: z.array(z.discriminatedUnion('object', [usageResult, costResult])),
    }),
  ),
  has_more: z.boolean(),
  next_page: z.string().nullish(),
});

/** A cost line item is "<model>, <input|output|cached input…>" for model usage; other items keep their whole name. */
function lineItemModel(lineItem: string): string {
  const comma = lineItem.indexOf(', ');
  return comma > 0 ? lineItem.slice(0, comma) : lineItem;
}

export function parseOpenAiReport(text: string, file: string): ParsedReport {
  const pages = splitPages(text, file);
  const rows: ProviderUsageRow[] = [];
  const days = { usage: new Set<number>(), cost: new Set<number>() };
  let nextPage: string | null = null;
  for (const [p, raw] of pages.entries()) {
    const pg = parseAt(page, raw, `${file} page ${p + 1}`, 'an OpenAI organization usage or costs page: {"object":"page","data":[buckets],"has_more":…}');
    nextPage = pg.has_more ? (pg.next_page ?? '') : null;
    for (const [b, bucket] of pg.data.entries()) {
      const day = bucketDay(bucket.start_time * 1000, bucket.end_time * 1000, `${file} page ${p + 1}, data[${b}]`);
      for (const r of bucket.results) {
        const base = { provider: 'openai' as const, day, projectId: r.project_id ?? '', inputTokens: 0n, cacheReadTokens: 0n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 0n, outputTokens: 0n, requests: 0n };
        if (r.object === 'organization.usage.completions.result') {
          days.usage.add(day);
          const cached = r.input_cached_tokens ?? 0;
          if (cached > r.input_tokens) throw new TollgateError('invalid_request', `${file} page ${p + 1}, data[${b}]: input_cached_tokens ${cached} exceeds input_tokens ${r.input_tokens} (they include the cached ones)`);
          rows.push({
            ...base,
            source: 'usage',
            model: r.model ?? '',
            apiKeyId: r.api_key_id ?? '',
            detail: [r.batch ? 'batch' : '', r.service_tier ?? ''].filter(Boolean).join(' '),
            inputTokens: BigInt(r.input_tokens) - BigInt(cached),
            cacheReadTokens: BigInt(cached),
            outputTokens: BigInt(r.output_tokens),
            requests: BigInt(r.num_model_requests),
            costNano: null,
          });
        } else {
          days.cost.add(day);
          const where = `${file} page ${p + 1}, data[${b}]`;
          if (r.amount.currency.toLowerCase() !== 'usd') throw new TollgateError('invalid_request', `${where}: amount in ${r.amount.currency}; only USD is reconciled`);
          rows.push({ ...base, source: 'cost', model: r.line_item ? lineItemModel(r.line_item) : '', apiKeyId: '', detail: r.line_item ?? '', costNano: usdNumberToNano(r.amount.value) });
        }
      }
    }
  }
  return { ...foldRows('openai', rows, days, pages.length, nextPage), format: 'json', csvRows: null };
}
