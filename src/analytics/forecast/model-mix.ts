/**
 * Model mix and price scenarios as multipliers on simulated spend.
 *
 * Mix. Models are frontier or budget: frontier when listed in `frontierModels`, else when the
 * catalog's input price is at least FRONTIER_MIN_INPUT_PER_MTOK (e.g. Claude Sonnet/Opus, GPT-4o,
 * o3 are frontier; Haiku, GPT-4.1-mini are budget). The ledger's window gives each model's spend
 * and tokens, so today's frontier share s of tokens. `--frontier-share s′` moves the same total
 * work to that share, each class keeping its own composition: every frontier model's spend scales
 * by s′/s, every budget model's by (1−s′)/(1−s). The mix factor is Σ share·scale over models.
 *
 * Prices. `provider[:model]:x<multiplier>[@YYYY-MM-DD]` multiplies the price of the matching spend
 * from that day (UTC; without a date, from the start). A month the change falls inside gets it for
 * the days from the date on. Several changes to one model multiply. The price factor of a month
 * is Σ share·mix scale·multiplier over models, divided by the mix factor.
 *
 * Every user is assumed to have the ledger's mix (spend shares from the training window).
 */
import { TollgateError } from '../../domain/errors.ts';
import { usage } from '../../domain/usage.ts';
import type { Pricer } from '../../pricing/index.ts';
import type { MonthSpan } from './unit-series.ts';

/** $/MTok of input at or above which a model counts as frontier. */
export const FRONTIER_MIN_INPUT_PER_MTOK = 2;

export interface PriceChange {
  provider: string;
  /** Exact model, or a model family: `claude-sonnet-4-5` also matches `claude-sonnet-4-5-20250929`. Null: every model. */
  model: string | null;
  multiplier: number;
  /** Epoch ms from which it applies; null: from the start. */
  from: number | null;
  /** As written. */
  text: string;
}

export interface ModelSpend {
  provider: string;
  model: string;
  /** USD over the training window. */
  spendUsd: number;
  tokens: number;
  frontier: boolean;
}

export interface MixScenario {
  /** Today's frontier share of tokens and of spend, 0..1 (null when the window has no tokens). */
  frontierTokenShare: number | null;
  frontierSpendShare: number | null;
  /** The share asked for; null: today's. */
  targetTokenShare: number | null;
  /** Spend multiplier of the mix change (1 without one). */
  mix: number;
  /** Spend multiplier of the price changes, per forecast month (after the mix). */
  price: number[];
  frontierModels: string[];
}

const CHANGE = /^([a-z0-9._-]+)(?::([^:@\s]+))?:x(\d+(?:\.\d+)?|\.\d+)(?:@(\d{4}-\d{2}-\d{2}))?$/i;

/** `name` is how the caller's input names the option, for the error. */
export function parsePriceChange(text: string, name = 'price change'): PriceChange {
  const m = CHANGE.exec(text.trim());
  const bad = () =>
    new TollgateError('invalid_request', `cannot read ${name} "${text}": write provider[:model]:x<multiplier>[@YYYY-MM-DD], e.g. anthropic:x2.5@2026-04-01 or openai:gpt-4o:x0.5`);
  if (!m) throw bad();
  const multiplier = Number(m[3]);
  if (!(multiplier > 0) || multiplier > 1000) throw new TollgateError('invalid_request', `${name}: the multiplier in "${text}" must be above 0 and at most 1000`);
  let from: number | null = null;
  if (m[4]) {
    from = Date.parse(`${m[4]}T00:00:00Z`);
    if (Number.isNaN(from) || new Date(from).toISOString().slice(0, 10) !== m[4]) throw bad();
  }
  return { provider: m[1]!.toLowerCase(), model: m[2] ?? null, multiplier, from, text: text.trim() };
}

/**
 * Frontier or budget, by the list when one is given (exact names or families), else by the
 * catalog's list input price at `at` (read on 100k tokens, below any long-context tier). A model
 * without a price is budget.
 */
export function frontierClassifier(pricer: Pick<Pricer, 'price'>, at: number, listed: readonly string[] | null): (provider: string, model: string) => boolean {
  if (listed) return (_provider, model) => listed.some((l) => model === l || model.startsWith(`${l}-`));
  const probe = usage({ inputTokens: 100_000 });
  const threshold = BigInt(FRONTIER_MIN_INPUT_PER_MTOK) * 100_000_000n;
  return (provider, model) => pricer.price(provider, model, probe, at).listNano >= threshold;
}

function matches(c: PriceChange, s: ModelSpend): boolean {
  if (c.provider !== s.provider.toLowerCase()) return false;
  return c.model === null || s.model === c.model || s.model.startsWith(`${c.model}-`);
}

/** Fraction of month `m` on or after `from`. */
function shareFrom(m: MonthSpan, from: number | null): number {
  if (from === null || from <= m.from) return 1;
  if (from >= m.to) return 0;
  return (m.to - from) / (m.to - m.from);
}

export function mixScenario(models: readonly ModelSpend[], opts: { frontierShare: number | null; priceChanges: readonly PriceChange[]; months: readonly MonthSpan[] }): MixScenario {
  const spend = models.reduce((s, r) => s + r.spendUsd, 0);
  const tokens = models.reduce((s, r) => s + r.tokens, 0);
  const frontierTokens = models.filter((r) => r.frontier).reduce((s, r) => s + r.tokens, 0);
  const frontierSpend = models.filter((r) => r.frontier).reduce((s, r) => s + r.spendUsd, 0);
  const current = tokens > 0 ? frontierTokens / tokens : null;
  let frontierScale = 1;
  let budgetScale = 1;
  if (opts.frontierShare !== null) {
    const target = opts.frontierShare;
    if (!(target >= 0 && target <= 1)) throw new TollgateError('invalid_request', `--frontier-share is a share of tokens from 0 to 1 (e.g. 0.15), got ${target}`);
    if (current === null) throw new TollgateError('invalid_request', '--frontier-share needs the ledger\'s model mix, and the training window has no tokens (a pilot CSV has none)');
    if (current === 0 && target > 0) throw new TollgateError('invalid_request', 'the training window has no frontier-model tokens to scale up; --frontier-share can only move an existing mix');
    if (current === 1 && target < 1) throw new TollgateError('invalid_request', 'the training window has no budget-model tokens to scale up; --frontier-share can only move an existing mix');
    frontierScale = current > 0 ? target / current : 1;
    budgetScale = current < 1 ? (1 - target) / (1 - current) : 1;
  }
  for (const c of opts.priceChanges) {
    if (!models.some((r) => matches(c, r))) {
      const seen = [...new Set(models.map((r) => `${r.provider}:${r.model}`))].slice(0, 8).join(', ');
      throw new TollgateError('invalid_request', `price change "${c.text}" matches no spend in the training window (models seen: ${seen || 'none'})`);
    }
  }
  const scaleOf = (r: ModelSpend) => (r.frontier ? frontierScale : budgetScale);
  const mix = spend > 0 ? models.reduce((s, r) => s + (r.spendUsd / spend) * scaleOf(r), 0) : 1;
  const price = opts.months.map((month) => {
    if (spend <= 0 || mix <= 0) return 1;
    let acc = 0;
    for (const r of models) {
      let mult = 1;
      for (const c of opts.priceChanges) if (matches(c, r)) mult *= 1 + (c.multiplier - 1) * shareFrom(month, c.from);
      acc += (r.spendUsd / spend) * scaleOf(r) * mult;
    }
    return acc / mix;
  });
  return {
    frontierTokenShare: current,
    frontierSpendShare: spend > 0 ? frontierSpend / spend : null,
    targetTokenShare: opts.frontierShare,
    mix,
    price,
    frontierModels: [...new Set(models.filter((r) => r.frontier).map((r) => r.model))].sort(),
  };
}
