/** What a model can read and write in one call: the ceiling a request bound falls back on. */
import type { ModelInfo } from '@pydantic/genai-prices';
import { compileSheet } from './price-sheet.ts';

export interface ModelLimits {
  /** Tokens of one call, input and output together; null when neither the catalog nor the config says. */
  readonly contextWindow: number | null;
}

/** The catalog's context window, or null when it lists none or its own prices contradict it. */
export function catalogContextWindow(model: ModelInfo): number | null {
  const window = model.context_window;
  if (window === undefined || !Number.isSafeInteger(window) || window <= 0) return null;
  // A tier starting at or past the window is sold for inputs the window would forbid: the provider offers a
  // longer one (claude-sonnet-4-5 is listed at 200k beside a >200k tier: Anthropic's 1M-context beta).
  return highestTierStart(model) >= window ? null : window;
}

function highestTierStart(model: ModelInfo): number {
  const sheets = Array.isArray(model.prices) ? model.prices.map((p) => p.prices) : [model.prices];
  let start = -1;
  for (const prices of sheets) start = Math.max(start, compileSheet(prices).longContext[0]?.start ?? -1);
  return start;
}
