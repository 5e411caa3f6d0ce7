/**
 * The same ledger re-priced under a scenario: base (the ledger as recorded) against scenario cost,
 * per team, agent and model, exact to the nano-USD.
 *
 * Per call, never from rollups: a long-context tier is a cliff on one call's input, and the ledger
 * rounds once per call, so only per-call repricing reproduces it. Three stages, in this order:
 *   1. price tables (`prices`, `multiply`): the call's usage priced by the scenario pricer; its
 *      scenario cost is its recorded cost + (scenario price − today's price), so a call no change
 *      touches keeps its recorded cost to the nano;
 *   2. escalators, per UTC calendar month, volume counted from the month's first day (calls before
 *      the window count toward volume, only);
 *   3. commitments, per UTC month or year, prorated to the part inside the window.
 * Every change's effect is its own: stage 1 prices the prefix of the file's price-table changes,
 * each change taking the difference it adds; stages 2 and 3 take theirs in file order. Their deltas
 * sum exactly to the total delta.
 *
 * Escalator volume and commitments are the provider's, so with them the whole ledger is read (a
 * provider bills the whole account) and `scope` only selects the lines shown; an unused commitment
 * belongs to no team and is in the total only when no scope is given.
 */
import { TollgateError } from '../../domain/errors.ts';
import { totalInputTokens } from '../../domain/usage.ts';
import type { ScanRow, Store } from '../../ledger/contract.ts';
import { bundledCatalog, createPricer } from '../../pricing/index.ts';
import type { Catalog, Pricer, PricingConfig } from '../../pricing/index.ts';
import { applyCommit, escalate } from './contract-terms.ts';
import { changesFor, scenarioPricer } from './scenario-pricer.ts';
import type { CommitChange, EscalatorChange, PriceTableChange, Scenario, ScenarioChange } from './scenario-schema.ts';

export interface RepriceOptions {
  /** Inclusive epoch ms. */
  from: number;
  /** Exclusive epoch ms. */
  to: number;
  /** Only lines of this subtree. */
  scope?: string;
  /** The `pricing:` config the ledger is priced with. */
  pricing?: PricingConfig | undefined;
  /** Catalog to resolve models in; default the bundled genai-prices data. */
  catalog?: Catalog;
}

export interface RepriceLine {
  /** Scope id, or `provider/model`. */
  key: string;
  /** Scope path, or `provider/model`. */
  name: string;
  calls: number;
  /** Calls whose cost the scenario changed. */
  changedCalls: number;
  baseNano: bigint;
  scenarioNano: bigint;
  deltaNano: bigint;
}

/** One commitment period as billed under the scenario. */
export interface CommitPeriod {
  provider: string;
  /** `2026-11` or `2026`; `(part)` when only part of it is in the window. */
  label: string;
  commitmentNano: bigint;
  usedNano: bigint;
  unusedNano: bigint;
}

export interface ChangeEffect {
  index: number;
  change: ScenarioChange;
  /** Calls in the window (and scope) whose cost it changed. */
  calls: number;
  deltaNano: bigint;
  /** Commitments only: each period. */
  periods: CommitPeriod[];
}

export interface RepriceReport {
  scenario: { name: string; description: string | null };
  window: { from: number; to: number };
  scope: string | null;
  calls: number;
  changedCalls: number;
  baseNano: bigint;
  scenarioNano: bigint;
  deltaNano: bigint;
  /** Hardest hit first (largest delta), then by name. */
  byTeam: RepriceLine[];
  byAgent: RepriceLine[];
  byModel: RepriceLine[];
  changes: ChangeEffect[];
  /** Paid for commitments nothing used; in `scenarioNano` only without a scope. */
  unusedCommitmentNano: bigint;
  /** Touched calls whose recorded cost differs from today's price for them (the config or catalog changed since). */
  recordedDiffers: number;
}

/** A call still to go through the contract terms (stages 2 and 3). */
interface Pending {
  event: ScanRow;
  inWindow: boolean;
  inScope: boolean;
  tokens: bigint;
  cost: bigint;
}

const MONTH = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

export async function reprice(store: Store, scenario: Scenario, opts: RepriceOptions): Promise<RepriceReport> {
  if (!(opts.to > opts.from)) throw new TollgateError('invalid_request', 'the window is empty: "to" must be after "from"');
  const catalog = opts.catalog ?? bundledCatalog;
  const tables = scenario.changes.filter((c): c is PriceTableChange => c.kind === 'multiply' || c.kind === 'prices');
  const escalators = scenario.changes.filter((c): c is EscalatorChange => c.kind === 'escalator');
  const commits = scenario.changes.filter((c): c is CommitChange => c.kind === 'commit');
  const base = createPricer(opts.pricing, { catalog });
  const prefixes: Pricer[] = tables.map((_, i) => scenarioPricer(opts.pricing, tables.slice(0, i + 1), catalog));
  const effects = new Map<number, ChangeEffect>(scenario.changes.map((c) => [c.index, { index: c.index, change: c, calls: 0, deltaNano: 0n, periods: [] }]));

  const scopeNode = opts.scope === undefined ? null : await store.directory.getScope(opts.scope);
  if (opts.scope !== undefined && !scopeNode) throw new TollgateError('not_found', `scope "${opts.scope}" does not exist (see \`tollgate scopes list\`)`);
  const within = scopeNode ? { tier: scopeNode.tier, id: scopeNode.id } : undefined;
  const contractual = escalators.length > 0 || commits.length > 0;
  const inScope = (e: ScanRow) => !within || e.chain[`${within.tier}Id`] === within.id;

  const names = new Map<string, string[]>();
  const namesOf = (provider: string, model: string) => {
    const k = `${provider}\u0000${model}`;
    let n = names.get(k);
    if (!n) {
      const found = catalog.find(provider, model);
      n = found ? [model, found.model.id] : [model];
      names.set(k, n);
    }
    return n;
  };
  const underTerms = (e: ScanRow) =>
    commits.some((c) => c.provider === e.provider.toLowerCase()) || changesFor(escalators, e.provider, namesOf(e.provider, e.servedModel)).length > 0;

  const acc = new Accumulator();
  const pending: Pending[] = [];
  let recordedDiffers = 0;
  // Escalator volume counts from the first of the month the window starts in.
  const readFrom = escalators.length > 0 ? MONTH(opts.from) : opts.from;
  for await (const batch of store.ledger.scan({ from: readFrom, to: opts.to, ...(within && !contractual ? { within } : {}) })) {
    for (const e of batch) {
      const inWindow = e.startedAt >= opts.from;
      const mine = inScope(e);
      let cost = e.effectiveCostNano;
      const hits = inWindow ? changesFor(tables, e.provider, namesOf(e.provider, e.servedModel)).filter((h) => h.fromMs <= e.startedAt) : [];
      if (hits.length > 0) {
        const today = base.price(e.provider, e.servedModel, e.usage, e.startedAt).effectiveNano;
        if (mine && today !== e.effectiveCostNano) recordedDiffers++;
        let prev = today;
        for (const h of hits) {
          const now = prefixes[tables.indexOf(h)]!.price(e.provider, e.servedModel, e.usage, e.startedAt).effectiveNano;
          if (mine) count(effects.get(h.index)!, now - prev);
          prev = now;
        }
        cost += prev - today;
      }
      if (contractual && underTerms(e)) {
        pending.push({ event: e, inWindow, inScope: mine, tokens: BigInt(totalInputTokens(e.usage) + e.usage.outputTokens), cost });
      } else if (inWindow && mine) {
        // Read oldest first: the newest call names its lines, as when the ledger was read newest first.
        acc.add(e, e.effectiveCostNano, cost, true);
      }
    }
  }

  pending.sort((a, b) => a.event.startedAt - b.event.startedAt || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
  for (const x of escalators) {
    const volume = new Map<number, bigint>();
    for (const p of pending) {
      if (changesFor([x], p.event.provider, namesOf(p.event.provider, p.event.servedModel)).length === 0) continue;
      const month = MONTH(p.event.startedAt);
      const before = volume.get(month) ?? 0n;
      volume.set(month, before + p.tokens);
      if (!p.inWindow) continue;
      const now = escalate(p.cost, before, p.tokens, x.tiers);
      if (p.inScope) count(effects.get(x.index)!, now - p.cost);
      p.cost = now;
    }
  }
  let unusedCommitmentNano = 0n;
  for (const c of commits) {
    const eff = effects.get(c.index)!;
    for (const period of periodsOf(c.period, opts.from, opts.to)) {
      const calls = pending.filter((p) => p.inWindow && p.event.provider.toLowerCase() === c.provider && p.event.startedAt >= period.from && p.event.startedAt < period.to);
      const out = applyCommit(
        calls.map((p) => p.cost),
        { amountNano: c.amountNano, shareNum: BigInt(period.to - period.from), shareDen: BigInt(period.fullTo - period.fullFrom), discountBp: c.discountBp },
      );
      calls.forEach((p, i) => {
        const now = out.paid[i]!;
        if (p.inScope) count(eff, now - p.cost);
        p.cost = now;
      });
      eff.periods.push({ provider: c.provider, label: period.label, commitmentNano: out.commitmentNano, usedNano: out.usedNano, unusedNano: out.unusedNano });
      if (!within) {
        eff.deltaNano += out.unusedNano;
        unusedCommitmentNano += out.unusedNano;
      }
    }
  }
  for (const p of pending) if (p.inWindow && p.inScope) acc.add(p.event, p.event.effectiveCostNano, p.cost);

  const paths = new Map((await store.directory.listScopes({ includeArchived: true })).map((n) => [n.id, n.path]));
  const lines = (m: Map<string, RepriceLine>, named: boolean) =>
    [...m.values()].map((l) => ({ ...l, name: named ? (paths.get(l.key) ?? l.name) : l.name })).sort(hardestHit);
  const baseNano = acc.total.baseNano;
  const scenarioNano = acc.total.scenarioNano + (within ? 0n : unusedCommitmentNano);
  return {
    scenario: { name: scenario.name, description: scenario.description },
    window: { from: opts.from, to: opts.to },
    scope: scopeNode?.path ?? null,
    calls: acc.total.calls,
    changedCalls: acc.total.changedCalls,
    baseNano,
    scenarioNano,
    deltaNano: scenarioNano - baseNano,
    byTeam: lines(acc.team, true),
    byAgent: lines(acc.agent, true),
    byModel: lines(acc.model, false),
    changes: [...effects.values()],
    unusedCommitmentNano,
    recordedDiffers,
  };
}

/** One call's change from one scenario change. */
function count(effect: ChangeEffect, delta: bigint): void {
  if (delta === 0n) return;
  effect.calls++;
  effect.deltaNano += delta;
}

/** Sums per team, agent and model; a line is named by the scope path, else by the names on its calls. */
class Accumulator {
  readonly total = line('', '');
  readonly team = new Map<string, RepriceLine>();
  readonly agent = new Map<string, RepriceLine>();
  readonly model = new Map<string, RepriceLine>();

  /** `rename`: this call's names replace the line's. */
  add(e: ScanRow, baseNano: bigint, scenarioNano: bigint, rename = false): void {
    const c = e.chain;
    const model = `${e.provider}/${e.servedModel}`;
    for (const [m, key, name] of [
      [this.team, c.teamId, `${c.orgName}/${c.teamName}`],
      [this.agent, c.agentId, `${c.orgName}/${c.teamName}/${c.projectName}/${c.agentName}`],
      [this.model, model, model],
    ] as const) {
      let l = m.get(key);
      if (!l) m.set(key, (l = line(key, name)));
      else if (rename) l.name = name;
      bump(l, baseNano, scenarioNano);
    }
    bump(this.total, baseNano, scenarioNano);
  }
}

function line(key: string, name: string): RepriceLine {
  return { key, name, calls: 0, changedCalls: 0, baseNano: 0n, scenarioNano: 0n, deltaNano: 0n };
}

function bump(l: RepriceLine, baseNano: bigint, scenarioNano: bigint): void {
  l.calls++;
  if (scenarioNano !== baseNano) l.changedCalls++;
  l.baseNano += baseNano;
  l.scenarioNano += scenarioNano;
  l.deltaNano += scenarioNano - baseNano;
}

function hardestHit(a: RepriceLine, b: RepriceLine): number {
  if (a.deltaNano !== b.deltaNano) return a.deltaNano > b.deltaNano ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The UTC months or years overlapping [from, to), each clipped to the window. */
function periodsOf(period: 'month' | 'year', from: number, to: number): { from: number; to: number; fullFrom: number; fullTo: number; label: string }[] {
  const out = [];
  const d = new Date(from);
  let start = period === 'month' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) : Date.UTC(d.getUTCFullYear(), 0, 1);
  while (start < to) {
    const s = new Date(start);
    const end = period === 'month' ? Date.UTC(s.getUTCFullYear(), s.getUTCMonth() + 1, 1) : Date.UTC(s.getUTCFullYear() + 1, 0, 1);
    const clipped = start < from || end > to;
    const label = period === 'month' ? s.toISOString().slice(0, 7) : String(s.getUTCFullYear());
    out.push({ from: Math.max(start, from), to: Math.min(end, to), fullFrom: start, fullTo: end, label: clipped ? `${label} (part)` : label });
    start = end;
  }
  return out;
}
