/**
 * Which price sheet is in force at an instant: dated price changes (`start_date`) and daily UTC
 * windows (`time_of_date`, e.g. DeepSeek's peak hours), for catalog models and custom models alike.
 */
import type { ConditionalPrice, ModelInfo } from '@pydantic/genai-prices';
import { TollgateError } from '../domain/errors.ts';
import { compileSheet } from './price-sheet.ts';
import type { PriceSheet } from './price-sheet.ts';

/** The sheet in force at `atMs` (epoch ms), or null when none is. */
export type PriceTimeline = (atMs: number) => PriceSheet | null;

const DAY_MS = 86_400_000;
const timelines = new WeakMap<ModelInfo, PriceTimeline>();

/** The compiled timeline of a catalog model (built once per model object). */
export function catalogTimeline(model: ModelInfo): PriceTimeline {
  let timeline = timelines.get(model);
  if (!timeline) {
    timeline = buildCatalogTimeline(model);
    timelines.set(model, timeline);
  }
  return timeline;
}

interface Rule {
  readonly holds: (atMs: number) => boolean;
  readonly sheet: PriceSheet;
}

function buildCatalogTimeline(model: ModelInfo): PriceTimeline {
  if (!Array.isArray(model.prices)) {
    const sheet = compileSheet(model.prices);
    return () => sheet;
  }
  const rules = model.prices.map((entry) => rule(model.id, entry));
  const first = rules[0]?.sheet ?? null;
  // genai-prices: scan from the end, the first entry whose constraint holds wins; else the first entry.
  return (atMs) => {
    for (let i = rules.length - 1; i >= 0; i--) {
      const r = rules[i];
      if (r?.holds(atMs)) return r.sheet;
    }
    return first;
  };
}

function rule(modelId: string, entry: ConditionalPrice): Rule {
  const sheet = compileSheet(entry.prices);
  const c = entry.constraint;
  if (c === undefined) return { holds: () => true, sheet };
  if (c.type === 'start_date') {
    // A date-only ISO string parses as UTC midnight, as in the library.
    const fromMs = Date.parse(c.start_date);
    if (Number.isNaN(fromMs)) throw bad(modelId, c);
    return { holds: (at) => at >= fromMs, sheet };
  }
  if (c.type === 'time_of_date') {
    const start = msOfDay(c.start_time, modelId);
    const end = msOfDay(c.end_time, modelId);
    const wraps = end < start; // e.g. 22:00 → 02:00 spans midnight
    return {
      holds: (at) => {
        const t = ((at % DAY_MS) + DAY_MS) % DAY_MS;
        return wraps ? t >= start || t < end : t >= start && t < end;
      },
      sheet,
    };
  }
  throw bad(modelId, c);
}

const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3})\d*)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** "HH:MM:SS[.fff](Z|±HH:MM)" → milliseconds after UTC midnight. */
export function msOfDay(text: string, modelId = '?'): number {
  const m = TIME.exec(text);
  if (!m) throw bad(modelId, text);
  const [, h = '0', min = '0', s = '0', frac = '', zone, sign, oh = '0', om = '0'] = m;
  if (Number(h) > 23 || Number(min) > 59 || Number(s) > 59 || Number(oh) > 23 || Number(om) > 59) throw bad(modelId, text);
  const local = ((Number(h) * 60 + Number(min)) * 60 + Number(s)) * 1000 + Number(frac.padEnd(3, '0'));
  const offset = zone === 'Z' ? 0 : (sign === '+' ? 1 : -1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return (((local - offset) % DAY_MS) + DAY_MS) % DAY_MS;
}

function bad(modelId: string, what: unknown): TollgateError {
  return new TollgateError('internal', `catalog model ${modelId}: unsupported price constraint ${JSON.stringify(what)}`);
}
