/**
 * Budget advice per tier for the first forecast month: budget at P90, hard ceiling near P99.
 *
 * The scope's own line is the forecast itself. Lines below it (teams, projects, agents) split each
 * trial's total by that trial's draw of agent shares: every agent active in the last training month
 * gets a month from its own history (the same model fitted over agent-months: its recent level,
 * month noise and jumps), and a tier's share is its agents' sum over all agents'. So the
 * lines add up to the scope trial by trial, and a small, volatile agent gets a wider band than its
 * average share would suggest.
 *
 * As policies: a budget that refuses calls (`hard`, `chargeback`) is a ceiling, set at P99, with
 * an alert at the P90 level; one that only alerts (`plan`, `showback`, `soft`) is set at P90 with an
 * extra alert at the P99 level. The action is the scope's current month budget's, else the tier's
 * default (org plan, team showback, project soft, agent hard). Amounts are rounded up to whole
 * dollars (cents below $10).
 */
import { DEFAULT_ACTION } from '../../admin/budgets.ts';
import type { Tier } from '../../domain/scope.ts';
import type { BudgetAction, BudgetPolicy, ScopeNode } from '../../ledger/contract.ts';
import type { Band } from './forecast.ts';
import { bandOf } from './forecast.ts';
import type { ForecastModel } from './forecast-model.ts';
import { simParams } from './forecast-model.ts';
import { Rng, streamSeed } from './random.ts';
import { heavyLevel, lightLevel } from './monte-carlo.ts';

const REFUSING: ReadonlySet<BudgetAction> = new Set(['hard', 'chargeback']);
const NANO = 1_000_000_000n;

export interface AdviceRow {
  scope: string;
  tier: Tier;
  /** USD, first forecast month. */
  spend: Band;
  action: BudgetAction;
  amountNano: bigint;
  thresholds: number[];
  /** The scope's month budget today, if any. */
  current: BudgetPolicy | null;
}

export interface AdviceInput {
  root: ScopeNode;
  /** The root's subtree (directory nodes). */
  nodes: readonly ScopeNode[];
  /** Fitted over agent-months (units are agent ids); null when the data has no agents (a pilot CSV). */
  agentModel: ForecastModel | null;
  /** The forecast's first-month spend per trial (USD). */
  firstMonth: Float64Array;
  existing: readonly BudgetPolicy[];
  tiers: ReadonlySet<Tier>;
  seed: number;
}

export function tierAdvice(input: AdviceInput): AdviceRow[] {
  const trials = input.firstMonth.length;
  const lines: { node: ScopeNode; spend: Float64Array }[] = [{ node: input.root, spend: Float64Array.from(input.firstMonth) }];
  const model = input.agentModel;
  if (model && model.knownUnits.length > 0) {
    const agents = model.knownUnits;
    const draws = agentMonths(model, trials, input.seed);
    const byId = new Map(input.nodes.map((n) => [n.id, n]));
    // Each node below the root: the agents (by index) under it.
    const members = new Map<string, number[]>();
    agents.forEach((id, k) => {
      for (let n = byId.get(id); n && n.id !== input.root.id; n = n.parentId === null ? undefined : byId.get(n.parentId)) {
        const list = members.get(n.id) ?? [];
        list.push(k);
        members.set(n.id, list);
      }
    });
    const totals = new Float64Array(trials);
    const K = agents.length;
    for (let t = 0; t < trials; t++) for (let k = 0; k < K; k++) totals[t]! += draws[t * K + k]!;
    for (const node of input.nodes) {
      const ks = members.get(node.id);
      if (!ks || node.id === input.root.id) continue;
      const spend = new Float64Array(trials);
      for (let t = 0; t < trials; t++) {
        let s = 0;
        for (const k of ks) s += draws[t * K + k]!;
        spend[t] = totals[t]! > 0 ? (input.firstMonth[t]! * s) / totals[t]! : 0;
      }
      lines.push({ node, spend });
    }
  }
  const current = new Map(input.existing.filter((b) => b.period === 'month').map((b) => [b.scopePath, b]));
  return lines
    .filter((l) => input.tiers.has(l.node.tier) || l.node.id === input.root.id)
    .sort((a, b) => (a.node.path < b.node.path ? -1 : 1))
    .map((l) => advise(l.node, bandOf(l.spend), current.get(l.node.path) ?? null))
    .filter((r) => r.spend.p90 > 0);
}

function advise(node: ScopeNode, spend: Band, current: BudgetPolicy | null): AdviceRow {
  const action = current?.action ?? DEFAULT_ACTION[node.tier];
  const refusing = REFUSING.has(action);
  const amountNano = roundUp(refusing ? spend.p99 : spend.p90);
  const thresholds = refusing
    ? [Math.max(1, Math.floor((100 * spend.p90) / spend.p99)), 100]
    : [50, 80, 100, ...(spend.p99 > spend.p90 ? [Math.min(1000, Math.ceil((100 * spend.p99) / spend.p90))] : [])];
  return { scope: node.path, tier: node.tier, spend, action, amountNano, thresholds: [...new Set(thresholds)].sort((a, b) => a - b), current };
}

/** Whole dollars, or cents below $10; never $0. */
export function roundUp(usd: number): bigint {
  const cents = BigInt(Math.max(1, Math.ceil(usd * 100 - 1e-9)));
  if (cents < 1000n) return cents * 10_000_000n;
  return ((cents + 99n) / 100n) * NANO;
}

/** One month of every known agent per trial (USD): trials × agents, in `knownUnits` order. */
function agentMonths(model: ForecastModel, trials: number, seed: number): Float64Array {
  const sets = simParams(model, { aggregate: false });
  const K = model.knownUnits.length;
  const out = new Float64Array(trials * K);
  for (let t = 0; t < trials; t++) {
    const p = sets[t % sets.length]!;
    const rng = new Rng(streamSeed(seed ^ 0x5bd1e995, t));
    for (let k = 0; k < K; k++) {
      let l = p.knownMean[k]! + p.knownSd[k]! * rng.normal();
      if (l < p.lightMax && rng.uniform() < p.jumpUp) l = heavyLevel(p, rng);
      else if (l >= p.heavyMin && rng.uniform() < p.jumpDown) l = lightLevel(p, rng);
      out[t * K + k] = Math.exp(l - p.halfVar + p.sigma * rng.normal());
    }
  }
  return out;
}
