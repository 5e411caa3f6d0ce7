/** Custom model prices from config: dated sheets per (provider, model), overriding the catalog. */
import type { PricingConfig } from './config.ts';
import { compileSheet } from './price-sheet.ts';
import type { PriceSheet } from './price-sheet.ts';
import type { PriceTimeline } from './price-timeline.ts';

/** Custom models, looked up once per (provider, model) by the pricer. */
export interface CustomModels {
  /** The dated prices configured for exactly this provider and model name (case-insensitive), or null. */
  find(provider: string, model: string): PriceTimeline | null;
}

export function compileCustomModels(entries: PricingConfig['custom_models']): CustomModels {
  const byModel = new Map<string, { fromMs: number; sheet: PriceSheet }[]>();
  for (const e of entries) {
    const k = key(e.provider, e.model);
    const list = byModel.get(k) ?? [];
    list.push({ fromMs: e.from?.getTime() ?? -Infinity, sheet: compileSheet(e.prices) });
    byModel.set(k, list);
  }
  const timelines = new Map<string, PriceTimeline>();
  for (const [k, list] of byModel) {
    // Latest `from` first: the first one already started is the one in force.
    list.sort((a, b) => b.fromMs - a.fromMs);
    timelines.set(k, (atMs) => list.find((e) => atMs >= e.fromMs)?.sheet ?? null);
  }
  return { find: (provider, model) => timelines.get(key(provider, model)) ?? null };
}

function key(provider: string, model: string): string {
  return `${provider.trim().toLowerCase()}\u0000${model.trim().toLowerCase()}`;
}
