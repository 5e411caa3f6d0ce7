/**
 * Contract terms that depend on volume over a period rather than on one call's usage: usage-tier
 * escalators and committed-use discounts. Both walk the calls in time order (started_at, then id)
 * and work on exact integers; each says where it rounds.
 */
import { divRound } from '../../domain/money.ts';
import type { EscalatorTier } from './scenario-schema.ts';

/** Factors are decimals over 1e9 (see scenario-schema): the unit factor. */
const ONE = 1_000_000_000n;
const BP = 10_000n;

/**
 * A call's cost under an escalator (marginal, like tax brackets): of its `tokens`, those that fall
 * beyond a tier's threshold of the month's running volume `volumeBefore` cost that tier's factor ×
 * the price; below the first threshold, × 1. The cost is split by tokens and rounded half away
 * from zero once: cost × Σ(tokens in band × band factor) / tokens. A call without tokens takes the
 * factor of the band the volume is in.
 */
export function escalate(costNano: bigint, volumeBefore: bigint, tokens: bigint, tiers: readonly EscalatorTier[]): bigint {
  const factorAt = (v: bigint) => tiers.reduce((f, t) => (v >= t.aboveTokens ? t.factor.num : f), ONE);
  if (tokens === 0n) return divRound(costNano * factorAt(volumeBefore), ONE);
  const end = volumeBefore + tokens;
  const edges = [0n, ...tiers.map((t) => t.aboveTokens)];
  let weighted = 0n;
  edges.forEach((lo, i) => {
    const hi = edges[i + 1];
    const from = volumeBefore > lo ? volumeBefore : lo;
    const to = hi === undefined || end < hi ? end : hi;
    if (to > from) weighted += (to - from) * (i === 0 ? ONE : tiers[i - 1]!.factor.num);
  });
  return divRound(costNano * weighted, tokens * ONE);
}

/**
 * One commitment period (a UTC month or year, or the part of it inside the window): the
 * commitment `amount × share` is paid whatever happens. Usage is billed at `discountBp` off until
 * the discounted amount reaches the commitment; usage beyond that is billed at the price without
 * the commit discount; a commitment not used up is still paid (the unused part).
 */
export interface CommitTerms {
  /** Commitment per whole period, nano-USD. */
  amountNano: bigint;
  /** Share of the period inside the window, `shareNum / shareDen` (the commitment is prorated by time). */
  shareNum: bigint;
  shareDen: bigint;
  discountBp: number;
}

/** Exact cost of the period's first `usage` nano-USD of pre-commit cost, as `num / den`, per the terms. */
function paidFor(usage: bigint, t: CommitTerms): { num: bigint; den: bigint } {
  const keep = BP - BigInt(t.discountBp);
  const committed = t.amountNano * t.shareNum; // × 1 / shareDen
  // usage < commitment / (1 − d), cross-multiplied.
  if (usage * t.shareDen * keep < committed * BP) return { num: usage * keep, den: BP };
  // commitment + usage − commitment / (1 − d)
  return { num: committed * keep + usage * t.shareDen * keep - committed * BP, den: t.shareDen * keep };
}

export interface CommitOutcome {
  /** Each call's cost under the commitment, in the order given. */
  paid: bigint[];
  /** The prorated commitment, rounded once. */
  commitmentNano: bigint;
  /** Of it, what the calls used (their discounted cost, up to the commitment). */
  usedNano: bigint;
  /** Paid although nothing used it. */
  unusedNano: bigint;
}

/**
 * Bills one period's calls (pre-commit costs, in time order) under `terms`. Rounded cumulatively:
 * a call pays round(exact total through it) − round(exact total before it), so the period's calls
 * add up to its exact total rounded once, and calls + unused commitment to at least the commitment.
 */
export function applyCommit(costs: readonly bigint[], terms: CommitTerms): CommitOutcome {
  const commitmentNano = divRound(terms.amountNano * terms.shareNum, terms.shareDen);
  const paid: bigint[] = [];
  let usage = 0n;
  let before = 0n;
  for (const c of costs) {
    usage += c;
    const p = paidFor(usage, terms);
    const through = divRound(p.num, p.den);
    paid.push(through - before);
    before = through;
  }
  const unusedNano = before < commitmentNano ? commitmentNano - before : 0n;
  return { paid, commitmentNano, usedNano: commitmentNano - unusedNano, unusedNano };
}
