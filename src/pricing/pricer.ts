/**
 * Prices a usage for (provider, model) at an instant, exactly: list and effective cost in integer
 * nano-USD. Resolution of a (provider, model) pair is memoised; pricing is a few bigint operations.
 */
import { divRound } from '../domain/money.ts';
import type { Nano } from '../domain/money.ts';
import { TollgateError } from '../domain/errors.ts';
import { totalInputTokens, validateUsage } from '../domain/usage.ts';
import type { Usage } from '../domain/usage.ts';
import { bundledCatalog } from './catalog.ts';
import type { Catalog } from './catalog.ts';
import type { PricingConfig } from './config.ts';
import { compileCustomModels } from './custom-models.ts';
import { compileDiscounts, discountAt } from './discounts.ts';
import type { DiscountRule } from './discounts.ts';
import { catalogContextWindow } from './model-limits.ts';
import type { ModelLimits } from './model-limits.ts';
import { compileSheet, costNumerator, selectTier } from './price-sheet.ts';
import type { PriceSheet } from './price-sheet.ts';
import { catalogTimeline } from './price-timeline.ts';
import type { PriceTimeline } from './price-timeline.ts';

/** Where a quote's price came from. */
export type PriceSource = 'catalog' | 'custom' | 'fallback' | 'unpriced';

export interface PriceQuote {
  /** Cost at list price, nano-USD. */
  listNano: Nano;
  /** Cost after the negotiated discount, nano-USD (equals `listNano` when none applies). */
  effectiveNano: Nano;
  /** 'unpriced' means both costs are 0n and the caller MUST flag the row: never a silent $0. */
  source: PriceSource;
  /** The genai-prices model id matched, or the custom model name; null for fallback and unpriced. */
  catalogModelId: string | null;
  /** Provider id the price came from (e.g. 'openai' for an azure call priced from OpenAI's list). */
  provider: string;
  /** Discount applied, in basis points (2000 = 20%). */
  discountBp: number;
  /** Long-context tier threshold applied (0 = base tier). */
  tierStart: number;
}

export interface Pricer {
  /**
   * Prices `usage` of `model` called through `provider` at `at` (a Date or epoch ms). Throws
   * TollgateError `invalid_request` for a malformed usage or timestamp; never for an unknown model.
   */
  price(provider: string, model: string, usage: Usage, at: Date | number): PriceQuote;
  /**
   * What `model` called through `provider` can read and write in one call: the custom model's
   * `context_window`, else the catalog's; never throws. Memoised with the price resolution.
   */
  limits(provider: string, model: string): ModelLimits;
}

export interface PricerOptions {
  /** Catalog to resolve models in; default the bundled genai-prices data. */
  catalog?: Catalog;
  /** Memoised (provider, model) pairs kept; the oldest is dropped beyond this (clients choose model names). */
  maxResolutions?: number;
}

/** What a (provider, model) pair resolves to, independent of time. */
interface Resolution {
  readonly provider: string;
  readonly model: string;
  readonly custom: PriceTimeline | null;
  readonly catalog: { readonly providerId: string; readonly modelId: string; readonly timeline: PriceTimeline } | null;
  readonly discounts: readonly DiscountRule[];
  readonly limits: ModelLimits;
}

const BP_SCALE = 10_000n;
const MICRO = 1_000_000n;

/**
 * Builds a pricer from a parsed `pricing:` section (see `pricingConfigSchema`). Resolutions are
 * memoised for the pricer's life: on a config reload (a new price epoch), build a new pricer.
 */
export function createPricer(config?: PricingConfig, options: PricerOptions = {}): Pricer {
  const catalog = options.catalog ?? bundledCatalog;
  const maxResolutions = options.maxResolutions ?? 10_000;
  const custom = compileCustomModels(config?.custom_models ?? []);
  const discounts = compileDiscounts(config?.discounts ?? []);
  const fallback = config?.fallback ? compileSheet(config.fallback) : null;
  const memo = new Map<string, Resolution>();

  function resolve(provider: string, model: string): Resolution {
    const key = `${provider}\u0000${model}`;
    let r = memo.get(key);
    if (r) return r;
    const found = catalog.find(provider, model);
    const normModel = model.trim().toLowerCase();
    r = {
      provider: provider.trim().toLowerCase(),
      model: normModel,
      custom: custom.find(provider, model),
      catalog: found && { providerId: found.providerId, modelId: found.model.id, timeline: catalogTimeline(found.model) },
      discounts: discounts.candidates(provider, found ? [normModel, found.model.id] : [normModel]),
      limits: { contextWindow: custom.contextWindow(provider, model) ?? (found && catalogContextWindow(found.model)) },
    };
    if (memo.size >= maxResolutions) {
      const oldest = memo.keys().next();
      if (!oldest.done) memo.delete(oldest.value);
    }
    memo.set(key, r);
    return r;
  }

  return {
    price(provider, model, usage, at) {
      const atMs = typeof at === 'number' ? at : at.getTime();
      if (!Number.isFinite(atMs)) throw new TollgateError('invalid_request', `invalid pricing timestamp: ${String(at)}`);
      const problems = validateUsage(usage);
      if (problems.length > 0) throw new TollgateError('invalid_request', `invalid usage: ${problems.join('; ')}`);

      const r = resolve(provider, model);
      let sheet: PriceSheet | null = r.custom?.(atMs) ?? null;
      if (sheet) return quote(sheet, 'custom', r.model, r.provider, r, usage, atMs);
      sheet = r.catalog?.timeline(atMs) ?? null;
      // A catalog sheet with only audio/page prices cannot price tokens: treat the model as unknown.
      if (r.catalog && sheet?.pricesUsage) return quote(sheet, 'catalog', r.catalog.modelId, r.catalog.providerId, r, usage, atMs);
      if (fallback) return quote(fallback, 'fallback', null, r.provider, r, usage, atMs);
      return { listNano: 0n, effectiveNano: 0n, source: 'unpriced', catalogModelId: null, provider: r.provider, discountBp: 0, tierStart: 0 };
    },
    limits: (provider, model) => resolve(provider, model).limits,
  };
}

function quote(
  sheet: PriceSheet,
  source: PriceSource,
  catalogModelId: string | null,
  provider: string,
  r: Resolution,
  usage: Usage,
  atMs: number,
): PriceQuote {
  const tier = selectTier(sheet, totalInputTokens(usage));
  const numerator = costNumerator(tier.rates, usage); // nano-USD × 1e-6, unrounded
  const discount = discountAt(r.discounts, atMs);
  const listNano = divRound(numerator, MICRO);
  // From the same unrounded numerator: one rounding, never a rounded list rounded again.
  const effectiveNano = discount ? divRound(numerator * discount.keep, BP_SCALE * MICRO) : listNano;
  return { listNano, effectiveNano, source, catalogModelId, provider, discountBp: discount?.bp ?? 0, tierStart: tier.start };
}
