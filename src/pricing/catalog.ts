/**
 * The model catalog: @pydantic/genai-prices' bundled data, read synchronously. `updatePrices` is
 * never called, so nothing is fetched at run time and a price epoch is the installed package version.
 */
import { findProvider } from '@pydantic/genai-prices';
import type { ModelInfo, Provider } from '@pydantic/genai-prices';
import { dashDateSuffix, matchesLogic } from './match-logic.ts';

/** A catalog model found for a (provider, model) pair. */
export interface CatalogModel {
  /** Provider the price comes from; differs from the one asked after a fallback (azure → openai). */
  readonly providerId: string;
  readonly model: ModelInfo;
}

/** Where catalog prices come from. Lookups scan lists; the pricer memoises them. */
export interface Catalog {
  /** The model `model` served by `provider`, or null. Names compare case-insensitively. */
  find(provider: string, model: string): CatalogModel | null;
}

/** The price data bundled with @pydantic/genai-prices, looked up as the library's `calcPrice` does. */
export const bundledCatalog: Catalog = {
  find(provider, model) {
    const name = model.trim().toLowerCase();
    // An unknown provider id (a self-named proxy, say) is tried as "whoever serves this model".
    const found = findProvider({ providerId: provider.trim().toLowerCase() }) ?? findProvider({ modelId: name });
    if (!found) return null;
    const dashed = dashDateSuffix(name);
    return findIn(found, name) ?? (dashed === name ? null : findIn(found, dashed));
  },
};

function findIn(provider: Provider, name: string): CatalogModel | null {
  const own = provider.models.find((m) => matchesLogic(m.match, name));
  if (own) return { providerId: provider.id, model: own };
  // e.g. azure lists few models itself and defers to openai, anthropic, … (one level, as the library).
  for (const id of provider.fallback_model_providers ?? []) {
    const other = findProvider({ providerId: id });
    const model = other?.models.find((m) => matchesLogic(m.match, name));
    if (other && model) return { providerId: other.id, model };
  }
  return null;
}

/** Whether the catalog knows this provider id itself (not merely a model some provider serves). */
export function isCatalogProvider(provider: string): boolean {
  return findProvider({ providerId: provider.trim().toLowerCase() }) !== undefined;
}
