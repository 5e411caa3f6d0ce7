/**
 * Self-hosting break-even: a model's monthly API volume and cost, from the ledger, against a fleet
 * of GPUs paid by the hour whether busy or idle, plus the people who run it.
 *
 * Definitions (estimates: inputs are exact integers, results rounded once where shown):
 *   month              730 hours (8,760 / 12), for both sides
 *   API volume / cost  the window's tokens (input of every kind + output) and effective cost, × 730 h / window
 *   API price          cost ÷ tokens: the ledger's effective price per token at its own mix
 *   self-host cost     gpus × hourly × 730 + headcount × salary / 12
 *   capacity           tokens/s per GPU (input and output together, at full load) × gpus × utilisation × 730 h
 *   break-even         the monthly volume whose API cost equals the self-host cost: self-host ÷ API price
 * When the fleet cannot carry its own break-even volume, the fleet is grown a GPU at a time (same
 * throughput and utilisation each) to find where, if anywhere, self-hosting pays: it never does when
 * one GPU's monthly capacity is worth less at API prices than the GPU costs.
 */
import { TollgateError } from '../domain/errors.ts';
import { divRound } from '../domain/money.ts';
import type { Store } from '../ledger/contract.ts';
import { bundledCatalog } from '../pricing/index.ts';

export const MONTH_HOURS = 730n;
const MONTH_MS = MONTH_HOURS * 3_600_000n;
const MONTH_S = MONTH_HOURS * 3_600n;
const BP = 10_000n;

export interface SelfHost {
  /** Per GPU-hour, nano-USD. */
  gpuHourlyNano: bigint;
  gpus: bigint;
  /** One GPU's throughput at full load, input and output tokens together. */
  tokensPerSecond: bigint;
  /** Share of the paid time the GPUs do useful work, basis points (4000 = 40 %). */
  utilisationBp: bigint;
  /** People running it, in hundredths (150 = 1.5). */
  opsHeadcountCenti: bigint;
  /** Fully loaded cost of one person a year, nano-USD. */
  salaryNano: bigint;
}

export interface ApiUsage {
  calls: number;
  tokens: bigint;
  costNano: bigint;
  /** Length of the window they were read over, ms. */
  windowMs: number;
}

export interface Breakeven {
  api: {
    monthlyTokens: bigint;
    monthlyCostNano: bigint;
    /** Effective nano-USD per million tokens. */
    perMTokNano: bigint;
  };
  selfHost: {
    gpuNano: bigint;
    peopleNano: bigint;
    totalNano: bigint;
    /** Tokens a month the fleet carries at the given utilisation. */
    capacityTokens: bigint;
    /** One GPU's share: its capacity and what that volume would cost through the API. */
    perGpu: { monthlyNano: bigint; capacityTokens: bigint; apiValueNano: bigint };
  };
  fits: boolean;
  /** Volume at which the API costs what the fleet as given costs. */
  breakevenTokens: bigint;
  breakevenFits: boolean;
  /** Growing the fleet: the smallest fleet and volume at which self-hosting pays; null when it never does. */
  atScale: { gpus: bigint; tokens: bigint } | null;
  /** Monthly self-host cost − API cost today (positive: the API is cheaper). */
  apiSavesNano: bigint;
}

export function breakeven(api: ApiUsage, s: SelfHost): Breakeven {
  if (api.tokens <= 0n || api.costNano <= 0n) throw new TollgateError('invalid_request', 'break-even needs usage with a cost: the model has no priced tokens in this window');
  const window = BigInt(api.windowMs);
  const monthlyTokens = divRound(api.tokens * MONTH_MS, window);
  const monthlyCostNano = divRound(api.costNano * MONTH_MS, window);
  const perGpuMonthly = s.gpuHourlyNano * MONTH_HOURS;
  const gpuNano = perGpuMonthly * s.gpus;
  const peopleNano = divRound(s.opsHeadcountCenti * s.salaryNano, 1200n);
  const totalNano = gpuNano + peopleNano;
  const perGpuCapacity = (s.tokensPerSecond * s.utilisationBp * MONTH_S) / BP;
  const capacityTokens = perGpuCapacity * s.gpus;
  // API price per token = cost / tokens (exact ratio, not a rounded rate).
  const apiCostOf = (tokens: bigint) => divRound(tokens * api.costNano, api.tokens);
  const tokensFor = (nano: bigint) => ceilDiv(nano * api.tokens, api.costNano);
  const breakevenTokens = tokensFor(totalNano);
  return {
    api: { monthlyTokens, monthlyCostNano, perMTokNano: divRound(api.costNano * 1_000_000n, api.tokens) },
    selfHost: { gpuNano, peopleNano, totalNano, capacityTokens, perGpu: { monthlyNano: perGpuMonthly, capacityTokens: perGpuCapacity, apiValueNano: apiCostOf(perGpuCapacity) } },
    fits: monthlyTokens <= capacityTokens,
    breakevenTokens,
    breakevenFits: breakevenTokens <= capacityTokens,
    atScale: scaled(api, perGpuMonthly, perGpuCapacity, peopleNano),
    apiSavesNano: totalNano - monthlyCostNano,
  };
}

/**
 * With k GPUs the fleet carries up to k × cap and costs k × G + P; the API costs c × V. Self-hosting
 * pays from V ≥ (k G + P) / c, inside (k − 1) cap < V ≤ k cap: feasible once k (c cap − G) ≥ P.
 */
function scaled(api: ApiUsage, gpuMonthly: bigint, cap: bigint, people: bigint): { gpus: bigint; tokens: bigint } | null {
  // c × cap − G, × api.tokens to stay in integers.
  const margin = cap * api.costNano - gpuMonthly * api.tokens;
  if (cap <= 0n || margin <= 0n) return null;
  const k = maxBig(1n, ceilDiv(people * api.tokens, margin));
  const tokens = maxBig(ceilDiv((k * gpuMonthly + people) * api.tokens, api.costNano), (k - 1n) * cap + 1n);
  return { gpus: k, tokens };
}

/** A model's calls in [from, to) from the rollups: the served model named, its dated snapshots, or anything the catalog reads as the same model. */
export async function apiUsageOf(store: Store, model: string, window: { from: number; to: number }): Promise<ApiUsage & { models: string[] }> {
  const rows = await store.ledger.spend({ from: window.from, to: window.to, groupBy: 'model' });
  const want = model.trim().toLowerCase();
  const idOf = (name: string) => bundledCatalog.find('', name)?.model.id ?? name.trim().toLowerCase();
  const wantId = idOf(want);
  const mine = rows.filter((r) => r.key.toLowerCase() === want || idOf(r.key) === wantId);
  if (mine.length === 0) {
    const used = rows.filter((r) => r.calls > 0).map((r) => r.key).sort();
    throw new TollgateError('not_found', `no calls to ${model} in this window${used.length ? `; models used: ${used.join(', ')}` : ''}`);
  }
  const sum = (f: (r: (typeof mine)[number]) => bigint) => mine.reduce((s, r) => s + f(r), 0n);
  return {
    models: mine.map((r) => r.key),
    calls: mine.reduce((s, r) => s + r.calls, 0),
    tokens: sum((r) => r.inputTokens + r.cacheReadTokens + r.cacheWrite5mTokens + r.cacheWrite1hTokens + r.outputTokens),
    costNano: sum((r) => r.effectiveCostNano),
    windowMs: window.to - window.from,
  };
}

function ceilDiv(n: bigint, d: bigint): bigint {
  return (n + d - 1n) / d;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
