/**
 * Drift of cost per outcome: a week whose $/outcome is more than a band above the week N weeks
 * before it is flagged, with its likely cause read from the rollups. The change splits exactly into
 * four factors (each current ÷ reference):
 *
 *   $/outcome = calls/outcome × tokens/call × cost/token,
 *   cost/token = model mix (current tokens at the reference week's per-model cost per token)
 *              × price (what those tokens actually cost ÷ that repricing).
 *
 * The factor that rose most is the likely cause. "Price" is a model's cost per token moving: a new
 * price, or the same model reading fewer cached tokens.
 */
import { divRound, formatUsd } from '../domain/money.ts';
import type { Ratio } from './unit-ratio.ts';
import { changeOf, compareRatio, ratioDecimal, ratioPercent } from './unit-ratio.ts';

export const DRIFT_CAUSES = ['calls_per_outcome', 'tokens_per_call', 'model_mix', 'price_change'] as const;
export type DriftCause = (typeof DRIFT_CAUSES)[number];

/** How each cause reads in a report. */
export const DRIFT_CAUSE_TEXT: Record<DriftCause, string> = {
  calls_per_outcome: 'more calls per outcome',
  tokens_per_call: 'more tokens per call',
  model_mix: 'model mix shifted toward a pricier model',
  price_change: 'price change (same models cost more per token)',
};

export interface ModelFigures {
  model: string;
  calls: bigint;
  /** Every token: input, cache read and write, output. */
  tokens: bigint;
  costNano: bigint;
}

/** What one workload spent and produced in one week. */
export interface WeekFigures {
  /** Monday 00:00 UTC. */
  weekStart: number;
  costNano: bigint;
  calls: bigint;
  tokens: bigint;
  outcomes: bigint;
  models: ModelFigures[];
}

export interface DriftCheck {
  week: number;
  referenceWeek: number;
  /** $/outcome this week ÷ the reference week's − 1. */
  change: Ratio;
  /** True when the change is above the band. */
  flagged: boolean;
  /** The factor that rose most, whenever $/outcome rose (flagged or not). */
  cause: DriftCause | null;
  /** Each factor, current ÷ reference: their product is $/outcome's ratio (up to rounding of the repricing). */
  factors: Record<DriftCause, Ratio>;
  /** The cause in numbers, for people. */
  evidence: string;
}

export interface DriftOptions {
  /** Band in hundredths of a percent: 2000 = 20%. */
  bandCentiPct: number;
}

/** Compares `current` with `reference`; null when either week has no outcomes, calls, tokens or cost to compare. */
export function checkDrift(reference: WeekFigures, current: WeekFigures, opts: DriftOptions): DriftCheck | null {
  const r = reference;
  const c = current;
  if ([r.outcomes, r.calls, r.tokens, r.costNano, c.outcomes, c.calls, c.tokens].some((v) => v <= 0n)) return null;
  const band = BigInt(opts.bandCentiPct);
  const change = changeOf(c.costNano * r.outcomes, r.costNano * c.outcomes)!;
  const flagged = c.costNano * r.outcomes * 10_000n > r.costNano * c.outcomes * (10_000n + band);

  const refByModel = new Map(r.models.map((m) => [m.model, m]));
  // This week's tokens priced at the reference week's cost per token of each model (a new model at its own).
  let repriced = 0n;
  for (const m of c.models) {
    const ref = refByModel.get(m.model);
    repriced += ref && ref.tokens > 0n ? divRound(m.tokens * ref.costNano, ref.tokens) : m.costNano;
  }
  const factors: Record<DriftCause, Ratio> = {
    calls_per_outcome: { num: c.calls * r.outcomes, den: r.calls * c.outcomes },
    tokens_per_call: { num: c.tokens * r.calls, den: r.tokens * c.calls },
    model_mix: { num: repriced * r.tokens, den: r.costNano * c.tokens },
    price_change: repriced > 0n ? { num: c.costNano, den: repriced } : { num: 1n, den: 1n },
  };
  let cause: DriftCause | null = null;
  if (change.num > 0n) {
    for (const k of DRIFT_CAUSES) if (cause === null || compareRatio(factors[k], factors[cause]) > 0) cause = k;
  }
  return { week: c.weekStart, referenceWeek: r.weekStart, change, flagged, cause, factors, evidence: cause ? evidenceFor(cause, r, c, factors[cause]) : '' };
}

function evidenceFor(cause: DriftCause, r: WeekFigures, c: WeekFigures, factor: Ratio): string {
  const moved = ratioPercent({ num: factor.num - factor.den, den: factor.den });
  // Evidence sits in parentheses in reports: no nested ones here.
  switch (cause) {
    case 'calls_per_outcome':
      return `calls per outcome ${ratioDecimal({ num: r.calls, den: r.outcomes }, 1)} → ${ratioDecimal({ num: c.calls, den: c.outcomes }, 1)}, ${moved}`;
    case 'tokens_per_call':
      return `tokens per call ${ratioDecimal({ num: r.tokens, den: r.calls }, 0)} → ${ratioDecimal({ num: c.tokens, den: c.calls }, 0)}, ${moved}`;
    case 'model_mix': {
      const m = pricierRiser(r, c);
      if (!m) return `cost per token from the model mix ${moved}`;
      const shareR = r.models.find((x) => x.model === m.model)?.tokens ?? 0n;
      return (
        `${m.model} went from ${ratioPercent({ num: shareR, den: r.tokens }, 0, false)} to ${ratioPercent({ num: m.tokens, den: c.tokens }, 0, false)} of tokens ` +
        `at ${perMTok(m.costNano, m.tokens)} per 1M tokens against an average of ${perMTok(r.costNano, r.tokens)}; cost per token from the mix ${moved}`
      );
    }
    case 'price_change': {
      const refByModel = new Map(r.models.map((x) => [x.model, x]));
      let worst: { model: string; change: Ratio; before: string; after: string } | null = null;
      for (const m of c.models) {
        const ref = refByModel.get(m.model);
        if (!ref || ref.tokens <= 0n || ref.costNano <= 0n || m.tokens <= 0n) continue;
        const ch = changeOf(m.costNano * ref.tokens, ref.costNano * m.tokens)!;
        if (!worst || compareRatio(ch, worst.change) > 0) worst = { model: m.model, change: ch, before: perMTok(ref.costNano, ref.tokens), after: perMTok(m.costNano, m.tokens) };
      }
      return `the same models cost ${moved} per token${worst ? `: ${worst.model} ${worst.before} → ${worst.after} per 1M tokens` : ''}; a new price, or fewer cached tokens`;
    }
  }
}

/** The model whose share of tokens grew most, preferring models dearer per token than the reference average. */
function pricierRiser(r: WeekFigures, c: WeekFigures): ModelFigures | null {
  const refTokens = new Map(r.models.map((m) => [m.model, m.tokens]));
  let best: { m: ModelFigures; gain: bigint; pricier: boolean } | null = null;
  for (const m of c.models) {
    // Share gained, over the common denominator c.tokens × r.tokens.
    const gain = m.tokens * r.tokens - (refTokens.get(m.model) ?? 0n) * c.tokens;
    const pricier = m.costNano * r.tokens > r.costNano * m.tokens;
    if (gain <= 0n) continue;
    if (!best || (pricier && !best.pricier) || (pricier === best.pricier && gain > best.gain)) best = { m, gain, pricier };
  }
  return best?.m ?? null;
}

function perMTok(costNano: bigint, tokens: bigint): string {
  return tokens > 0n ? formatUsd(divRound(costNano * 1_000_000n, tokens), 2) : '—';
}
