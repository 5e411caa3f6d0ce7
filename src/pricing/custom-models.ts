/** Custom model prices from config: dated sheets per (provider, model), overriding the catalog. */
import type { PricingConfig } from './config.ts';
import { compileSheet } from './price-sheet.ts';
import type { PriceSheet } from './price-sheet.ts';
import type { PriceTimeline } from './price-timeline.ts';

/** Custom models, looked up once per (provider, model) by the pricer. */
export interface CustomModels {
  /** The dated prices configured for exactly this provider and model name (case-insensitive), or null. */
  find(provider: string, model: string): PriceTimeline | null;
  /** The largest `context_window` configured for this provider and model, or null when none is. */
  contextWindow(provider: string, model: string): number | null;
}

export function compileCustomModels(entries: PricingConfig['custom_models']): CustomModels {
  const byModel = new Map<string, { fromMs: number; sheet: PriceSheet }[]>();
  const windows = new Map<string, number>();
  for (const e of entries) {
    const k = key(e.provider, e.model);
    const list = byModel.get(k) ?? [];
    list.push({ fromMs: e.from?.getTime() ?? -Infinity, sheet: compileSheet(e.prices) });
    byModel.set(k, list);
    // The largest of the dated entries: a request bound must hold whichever is in force.
    if (e.context_window !== undefined) windows.set(k, Math.max(windows.get(k) ?? 0, e.context_window));
  }
  const timelines = new Map<string, PriceTimeline>();
  for (const [k, list] of byModel) {
    // Latest `from` first: the first one already started is the one in force.
    list.sort((a, b) => b.fromMs - a.fromMs);
    timelines.set(k, (atMs) => list.find((e) => atMs >= e.fromMs)?.sheet ?? null);
  }
  return {
    find: (provider, model) => timelines.get(key(provider, model)) ?? null,
    contextWindow: (provider, model) => windows.get(key(provider, model)) ?? null,
  };
}

function key(provider: string, model: string): string {
  return `${provider.trim().toLowerCase()}\u0000${model.trim().toLowerCase()}`;
}
