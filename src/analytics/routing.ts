/**
 * What cheap-first routing saved: per routed model and tier, traffic share, escalation rate and cost,
 * against the all-frontier counterfactual (each answered request re-priced with its real usage at the
 * frontier model's price at its own timestamp). Money is exact nano-USD; only ratios are floats.
 *
 * The honest arithmetic: with a frontier share f and lower tiers r times cheaper, routing costs
 * f + (1 − f)/r of all-frontier. That holds exactly when f is the frontier's share of the
 * all-frontier *cost*; the share of *requests* is what people quote, and it overstates the saving
 * whenever the calls sent to the frontier are the heavy ones. Failed attempts that were escalated add
 * their cost on top (waste). Both versions are reported.
 */
import { TollgateError } from '../domain/errors.ts';
import { nanoToDecimalString } from '../domain/money.ts';
import { formatScope, parseScope } from '../domain/scope.ts';
import type { Usage } from '../domain/usage.ts';
import type { ScanRow, Store } from '../ledger/contract.ts';
import type { Pricer } from '../pricing/index.ts';
import { parseMonthLabel } from './showback.ts';

export interface RoutingReportOptions {
  /** Inclusive epoch ms. */
  from: number;
  /** Exclusive epoch ms. */
  to: number;
  /** Only calls under this scope path. */
  scope?: string;
}

/** Sums over a set of routed calls. */
export interface RoutingFigures {
  /** Client requests answered: the last attempt of each routed call. */
  requests: number;
  /** Requests answered by the frontier tier (escalated ones included). */
  frontierRequests: number;
  /** Requests answered after at least one failed lower attempt. */
  escalatedRequests: number;
  /** Effective cost of every attempt, the failed ones included. */
  actualNano: bigint;
  /** The same requests, all answered by the frontier: each at the frontier's price for its usage at its timestamp. */
  counterfactualNano: bigint;
  /** counterfactual − actual. */
  savingNano: bigint;
  /** What the frontier's answers cost (the same in both worlds). */
  frontierNano: bigint;
  /** What the requests answered below the frontier cost … */
  belowNano: bigint;
  /** … and would have cost on the frontier. */
  belowCounterfactualNano: bigint;
  /** Cost of the attempts that failed and were escalated. */
  wasteNano: bigint;
  /** Answers whose frontier model has no price: counted at their actual cost in the counterfactual. */
  unpricedCounterfactual: number;
}

/** The formula with the measured mix; floats, for reading. Null where a denominator is zero. */
export interface RoutingFormula {
  /** Frontier share of requests. */
  f: number | null;
  /** Frontier share of the all-frontier cost. */
  fCost: number | null;
  /** How many times cheaper the lower tiers were on the requests they answered (counterfactual ÷ actual). */
  r: number | null;
  /** waste ÷ all-frontier. */
  waste: number | null;
  /** 1 − (f + (1 − f)/r): the saving the share of requests predicts. */
  predictedSaving: number | null;
  /** 1 − actual ÷ all-frontier = 1 − (fCost + (1 − fCost)/r + waste), exactly. */
  actualSaving: number | null;
}

export interface TierLine {
  tier: string;
  /** The routed model's top tier (its calls are their own counterfactual). */
  frontier: boolean;
  /** Models that served the tier's calls. */
  models: string[];
  /** Attempts that ran on this tier. */
  calls: number;
  /** Requests this tier answered. */
  answered: number;
  /** Attempts on this tier that failed and went up a tier. */
  escalated: number;
  costNano: bigint;
  /** What the requests this tier answered would have cost on the frontier. */
  counterfactualNano: bigint;
}

export interface AliasReport {
  alias: string;
  /** `provider/model` of the frontier the lower tiers were compared with (more than one if the config changed). */
  frontierModels: string[];
  tiers: TierLine[];
  figures: RoutingFigures;
  formula: RoutingFormula;
}

export interface RoutingReport {
  from: number;
  to: number;
  scope: string | null;
  aliases: AliasReport[];
  total: RoutingFigures;
  formula: RoutingFormula;
}

const DAY_MS = 86_400_000;

/** The report's period: a UTC month (`YYYY-MM`), or the last `days` days up to `now` (default 30). */
export function routingPeriod(opts: { days?: number; month?: string }, now: number): { from: number; to: number; label: string } {
  if (opts.days !== undefined && opts.month !== undefined) throw new TollgateError('invalid_request', 'give days or month, not both');
  if (opts.month !== undefined) return parseMonthLabel(opts.month);
  const days = opts.days ?? 30;
  if (!Number.isInteger(days) || days < 1 || days > 3660) throw new TollgateError('invalid_request', `days must be a whole number from 1 to 3660, got ${days}`);
  return { from: now - days * DAY_MS, to: now + 1, label: `last ${days} days` };
}

export async function routingReport(store: Store, pricer: Pricer, opts: RoutingReportOptions): Promise<RoutingReport> {
  if (!(opts.from < opts.to)) throw new TollgateError('invalid_request', 'the report period is empty: "from" must be before "to"');
  let within: { tier: 'org' | 'team' | 'project' | 'agent'; id: string } | undefined;
  let scope: string | null = null;
  if (opts.scope !== undefined) {
    scope = formatScope(parseScope(opts.scope));
    const node = await store.directory.getScope(scope);
    if (!node) throw new TollgateError('not_found', `scope "${scope}" does not exist (see \`tollgate scopes list\`)`);
    within = { tier: node.tier, id: node.id };
  }
  const acc = new Accumulator(pricer);
  for await (const batch of store.ledger.scan({ from: opts.from, to: opts.to, routedOnly: true, ...(within ? { within } : {}) })) {
    for (const e of batch) acc.add(e);
  }
  const aliases = acc.aliases();
  const total = aliases.reduce((t, a) => addFigures(t, a.figures), emptyFigures());
  return { from: opts.from, to: opts.to, scope, aliases, total, formula: formulaOf(total) };
}

type AliasSums = { figures: RoutingFigures; tiers: Map<string, TierLine & { modelSet: Set<string> }>; frontiers: Set<string> };

/** An attempt no later attempt has replaced (yet): it answered its request. */
interface Answer {
  alias: AliasSums;
  tier: TierLine;
  cost: bigint;
  escalated: boolean;
  /** Null on the frontier tier. */
  frontier: string | null;
  usage: Usage;
  startedAt: number;
}

/**
 * Folds routed attempts read oldest first. A replacement attempt starts strictly after the one it
 * replaces, so when it is read the attempt it names has been read: that one turns from an answer into
 * waste. Attempts still answering when the scan ends are the requests.
 */
class Accumulator {
  readonly #pricer: Pricer;
  readonly #answers = new Map<string, Answer>();
  readonly #by = new Map<string, AliasSums>();

  constructor(pricer: Pricer) {
    this.#pricer = pricer;
  }

  add(e: ScanRow): void {
    const r = e.routing;
    if (!r) return;
    let a = this.#by.get(r.alias);
    if (!a) this.#by.set(r.alias, (a = { figures: emptyFigures(), tiers: new Map(), frontiers: new Set() }));
    let t = a.tiers.get(r.tier);
    if (!t) a.tiers.set(r.tier, (t = { tier: r.tier, frontier: false, models: [], modelSet: new Set(), calls: 0, answered: 0, escalated: 0, costNano: 0n, counterfactualNano: 0n }));
    const cost = e.effectiveCostNano;
    t.calls++;
    t.costNano += cost;
    t.modelSet.add(e.servedModel);
    a.figures.actualNano += cost;
    if (r.frontier === null) t.frontier = true;
    else a.frontiers.add(r.frontier);
    if (r.escalatedFrom !== null) {
      const replaced = this.#answers.get(r.escalatedFrom);
      if (replaced) {
        this.#answers.delete(r.escalatedFrom);
        replaced.tier.escalated++;
        replaced.alias.figures.wasteNano += replaced.cost;
      }
    }
    this.#answers.set(e.id, { alias: a, tier: t, cost, escalated: r.escalatedFrom !== null, frontier: r.frontier, usage: e.usage, startedAt: e.startedAt });
  }

  /** Counts the attempts that answered: each against the frontier's price for its usage. */
  #settle(): void {
    for (const x of this.#answers.values()) {
      const f = x.alias.figures;
      const t = x.tier;
      f.requests++;
      t.answered++;
      if (x.escalated) f.escalatedRequests++;
      if (x.frontier === null) {
        f.frontierRequests++;
        f.frontierNano += x.cost;
        f.counterfactualNano += x.cost;
        t.counterfactualNano += x.cost;
        continue;
      }
      const counterfactual = this.#frontierPrice(x.frontier, x.usage, x.startedAt);
      if (counterfactual === null) f.unpricedCounterfactual++;
      const cf = counterfactual ?? x.cost;
      f.belowNano += x.cost;
      f.belowCounterfactualNano += cf;
      f.counterfactualNano += cf;
      t.counterfactualNano += cf;
    }
    this.#answers.clear();
  }

  /** The usage at the frontier's effective price at the call's start; null when the frontier has no price. */
  #frontierPrice(frontier: string, usage: Usage, at: number): bigint | null {
    const slash = frontier.indexOf('/');
    const q = this.#pricer.price(frontier.slice(0, slash), frontier.slice(slash + 1), usage, at);
    return q.source === 'unpriced' ? null : q.effectiveNano;
  }

  aliases(): AliasReport[] {
    this.#settle();
    return [...this.#by]
      .map(([alias, a]) => {
        a.figures.savingNano = a.figures.counterfactualNano - a.figures.actualNano;
        // Cheapest tier first (by cost per call), the frontier last.
        const perCall = (t: TierLine) => (t.calls === 0 ? 0 : Number(t.costNano) / t.calls);
        const tiers = [...a.tiers.values()]
          .map(({ modelSet, ...t }) => ({ ...t, models: [...modelSet].sort() }))
          .sort((x, y) => Number(x.frontier) - Number(y.frontier) || perCall(x) - perCall(y) || (x.tier < y.tier ? -1 : 1));
        return { alias, frontierModels: [...a.frontiers].sort(), tiers, figures: a.figures, formula: formulaOf(a.figures) };
      })
      .sort((x, y) => (x.figures.actualNano > y.figures.actualNano ? -1 : x.figures.actualNano < y.figures.actualNano ? 1 : x.alias < y.alias ? -1 : 1));
  }
}

function emptyFigures(): RoutingFigures {
  return {
    requests: 0,
    frontierRequests: 0,
    escalatedRequests: 0,
    actualNano: 0n,
    counterfactualNano: 0n,
    savingNano: 0n,
    frontierNano: 0n,
    belowNano: 0n,
    belowCounterfactualNano: 0n,
    wasteNano: 0n,
    unpricedCounterfactual: 0,
  };
}

function addFigures(a: RoutingFigures, b: RoutingFigures): RoutingFigures {
  return {
    requests: a.requests + b.requests,
    frontierRequests: a.frontierRequests + b.frontierRequests,
    escalatedRequests: a.escalatedRequests + b.escalatedRequests,
    actualNano: a.actualNano + b.actualNano,
    counterfactualNano: a.counterfactualNano + b.counterfactualNano,
    savingNano: a.savingNano + b.savingNano,
    frontierNano: a.frontierNano + b.frontierNano,
    belowNano: a.belowNano + b.belowNano,
    belowCounterfactualNano: a.belowCounterfactualNano + b.belowCounterfactualNano,
    wasteNano: a.wasteNano + b.wasteNano,
    unpricedCounterfactual: a.unpricedCounterfactual + b.unpricedCounterfactual,
  };
}

/** n ÷ d as a float from exact integers; null when d is not positive. */
export function ratio(n: bigint | number, d: bigint | number): number | null {
  if (BigInt(d) <= 0n) return null;
  // Scale before dividing so the float keeps 12 significant digits whatever the magnitudes.
  const SCALE = 10n ** 12n;
  return Number((BigInt(n) * SCALE) / BigInt(d)) / 1e12;
}

export function formulaOf(x: RoutingFigures): RoutingFormula {
  const f = ratio(x.frontierRequests, x.requests);
  const r = ratio(x.belowCounterfactualNano, x.belowNano);
  // With nothing answered below the frontier, r is undefined but (1 − f)/r is 0: every request was on the frontier.
  const below = (share: number) => (share === 1 ? 0 : r === null ? null : (1 - share) / r);
  const predicted = f === null ? null : below(f);
  return {
    f,
    fCost: ratio(x.frontierNano, x.counterfactualNano),
    r,
    waste: ratio(x.wasteNano, x.counterfactualNano),
    predictedSaving: f === null || predicted === null ? null : 1 - (f + predicted),
    actualSaving: x.counterfactualNano > 0n ? 1 - (ratio(x.actualNano, x.counterfactualNano) ?? 0) : null,
  };
}

const usd = (nano: bigint) => nanoToDecimalString(nano);

function figuresJson(x: RoutingFigures) {
  return {
    requests: x.requests,
    frontier_requests: x.frontierRequests,
    escalated_requests: x.escalatedRequests,
    actual_usd: usd(x.actualNano),
    actual_nano: x.actualNano.toString(),
    all_frontier_usd: usd(x.counterfactualNano),
    all_frontier_nano: x.counterfactualNano.toString(),
    saving_usd: usd(x.savingNano),
    saving_nano: x.savingNano.toString(),
    frontier_answers_nano: x.frontierNano.toString(),
    below_frontier_nano: x.belowNano.toString(),
    below_frontier_all_frontier_nano: x.belowCounterfactualNano.toString(),
    escalation_waste_nano: x.wasteNano.toString(),
    unpriced_counterfactual_calls: x.unpricedCounterfactual,
  };
}

function formulaJson(m: RoutingFormula) {
  return {
    blended_cost: 'f + (1 - f) / r + waste, of all-frontier',
    f_requests: m.f,
    f_cost: m.fCost,
    r: m.r,
    waste: m.waste,
    predicted_saving_from_request_share: m.predictedSaving,
    actual_saving: m.actualSaving,
  };
}

/** The report as the CLI's --json and the admin API print it: money as decimal USD and nano strings, ratios as fractions. */
export function routingJson(r: RoutingReport) {
  return {
    from: new Date(r.from).toISOString(),
    to: new Date(r.to).toISOString(),
    scope: r.scope,
    routed_models: r.aliases.map((a) => ({
      alias: a.alias,
      frontier_models: a.frontierModels,
      tiers: a.tiers.map((t) => ({
        tier: t.tier,
        frontier: t.frontier,
        models: t.models,
        calls: t.calls,
        answered: t.answered,
        share_of_requests: ratio(t.answered, a.figures.requests),
        escalated: t.escalated,
        escalation_rate: ratio(t.escalated, t.calls),
        cost_usd: usd(t.costNano),
        cost_nano: t.costNano.toString(),
        all_frontier_usd: usd(t.counterfactualNano),
        all_frontier_nano: t.counterfactualNano.toString(),
      })),
      ...figuresJson(a.figures),
      escalation_rate: ratio(a.figures.escalatedRequests, a.figures.requests),
      formula: formulaJson(a.formula),
    })),
    total: { ...figuresJson(r.total), escalation_rate: ratio(r.total.escalatedRequests, r.total.requests), formula: formulaJson(r.formula) },
  };
}
