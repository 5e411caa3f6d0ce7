/**
 * The `pricing:` section of tollgate.yaml: a fallback price for unknown models, negotiated
 * discounts and custom (self-hosted, fine-tuned) model prices, all with effective dates in UTC.
 */
import { z } from 'zod';
import { parseDecimal, perMTok } from '../domain/money.ts';
import { parseUtcInstant } from './utc-instant.ts';

/** Price keys a custom or fallback sheet may set, all in $ per million tokens except requests_kcount. */
export const CUSTOM_PRICE_KEYS = [
  'input_mtok',
  'output_mtok',
  'cache_read_mtok',
  'cache_write_mtok',
  'cache_write_1h_mtok',
  'output_reasoning_mtok',
  'requests_kcount',
] as const;

// YAML 1.2 (the yaml package's default) yields strings; a YAML 1.1 loader yields Date objects.
const instant = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const ms = typeof v === 'string' ? parseUtcInstant(v) : v.getTime();
  if (ms === null || Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `not an ISO date or date-time (UTC): ${JSON.stringify(v)}; write e.g. 2026-01-01 or 2026-01-01T09:30:00Z` });
    return z.NEVER;
  }
  return new Date(ms);
});

const price = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  let nano: bigint;
  try {
    nano = perMTok(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `price ${JSON.stringify(v)} must be a decimal number of USD with at most 9 decimal places` });
    return;
  }
  if (nano < 0n) ctx.addIssue({ code: 'custom', message: `price ${JSON.stringify(v)} must not be negative` });
});

const priceSheet = z.strictObject(
  {
    input_mtok: price,
    output_mtok: price,
    cache_read_mtok: price.optional(),
    cache_write_mtok: price.optional(),
    cache_write_1h_mtok: price.optional(),
    output_reasoning_mtok: price.optional(),
    requests_kcount: price.optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown price key ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${CUSTOM_PRICE_KEYS.join(', ')}`
        : undefined,
  },
);

const percent = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  let bp: bigint;
  try {
    bp = parseDecimal(v, 2);
  } catch {
    ctx.addIssue({ code: 'custom', message: `percent ${JSON.stringify(v)} must be a number with at most 2 decimals (whole basis points)` });
    return;
  }
  if (bp < 0n || bp > 10_000n) ctx.addIssue({ code: 'custom', message: `percent must be between 0 and 100, got ${v}` });
});

const name = z.string().trim().min(1, 'must not be empty');

const unknownField = (what: string) => ({
  error: (iss: { code: string; keys?: string[] }) =>
    iss.code === 'unrecognized_keys' ? `unknown field ${iss.keys?.map((k) => JSON.stringify(k)).join(', ')} in ${what}` : undefined,
});

const discount = z
  .strictObject(
    {
      provider: name,
      /** Glob on the model name (`*` any run of characters, `?` one); absent: the whole provider. */
      model: name.optional(),
      percent,
      from: instant,
      until: instant.optional(),
    },
    unknownField('discount (allowed: provider, model, percent, from, until)'),
  )
  .superRefine((d, ctx) => {
    if (d.until !== undefined && d.until.getTime() <= d.from.getTime()) {
      ctx.addIssue({
        code: 'custom',
        path: ['until'],
        message: `until (${d.until.toISOString()}) must be after from (${d.from.toISOString()})`,
      });
    }
  });

const customModel = z.strictObject(
  {
    provider: name,
    model: name,
    /** Inclusive; absent: since forever. A later entry for the same model replaces it from its own date. */
    from: instant.optional(),
    prices: priceSheet,
    /** Tokens of one call, input and output together: bounds a request that sets no max_tokens. */
    context_window: z.number().int().positive().optional(),
  },
  unknownField('custom model (allowed: provider, model, from, prices, context_window)'),
);

const key = (provider: string, model?: string) => `${provider.toLowerCase()}/${model?.toLowerCase() ?? '*'}`;

/** Schema of the `pricing:` config section. Parse with it before `createPricer`. */
export const pricingConfigSchema = z
  .strictObject(
    {
      /** Prices models neither the catalog nor custom_models know (source 'fallback'); absent: 'unpriced'. */
      fallback: priceSheet.optional(),
      discounts: z.array(discount).default([]),
      custom_models: z.array(customModel).default([]),
    },
    unknownField('pricing (allowed: fallback, discounts, custom_models)'),
  )
  .superRefine((cfg, ctx) => {
    // Two discounts for the same target whose windows overlap would make the winner arbitrary.
    cfg.discounts.forEach((a, i) => {
      const j = cfg.discounts.findIndex((b, k) => k < i && key(a.provider, a.model) === key(b.provider, b.model) && overlaps(a, b));
      if (j >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['discounts', i],
          message: `discount for ${key(a.provider, a.model)} overlaps discounts[${j}] in time; end one with \`until\` before the other's \`from\``,
        });
      }
    });
    cfg.custom_models.forEach((a, i) => {
      const j = cfg.custom_models.findIndex((b, k) => k < i && key(a.provider, a.model) === key(b.provider, b.model) && a.from?.getTime() === b.from?.getTime());
      if (j >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['custom_models', i],
          message: `custom model ${key(a.provider, a.model)} has two prices from the same date as custom_models[${j}]`,
        });
      }
    });
  });

function overlaps(a: { from: Date; until?: Date | undefined }, b: { from: Date; until?: Date | undefined }): boolean {
  const end = (d: { until?: Date | undefined }) => d.until?.getTime() ?? Infinity;
  return a.from.getTime() < end(b) && b.from.getTime() < end(a);
}

/** The parsed `pricing:` section (dates are `Date`s, lists default to empty). */
export type PricingConfig = z.infer<typeof pricingConfigSchema>;
/** The `pricing:` section as written (what YAML gives). */
export type PricingConfigInput = z.input<typeof pricingConfigSchema>;
