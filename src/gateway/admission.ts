/**
 * Admission: before a call is forwarded, its cost upper bound is reserved on every budget and rate
 * limit of its owner chain in one atomic counters operation (all or nothing); when it ends, the
 * reservation is replaced by the actual cost. Kill switches are checked first, from memory.
 */
import { parsePeriod, periodWindow } from '../domain/budget-period.ts';
import type { Period, PeriodWindow } from '../domain/budget-period.ts';
import { TollgateError } from '../domain/errors.ts';
import { formatUsd, nanoToDecimalString } from '../domain/money.ts';
import type { ScopeChain } from '../domain/scope.ts';
import type { Actual, Charge, Counters, CounterState } from '../counters/contract.ts';
import type { BudgetPolicy, Controls, KillSwitch, Ledger, RateLimit } from '../ledger/contract.ts';
import type { ControlsCache } from './controls-cache.ts';

const REFUSING = new Set(['hard', 'chargeback']);
const MINUTE = 60_000;
/** Counters outlive their period by this much, so late settles still land. */
const GRACE_MS = 3_600_000;
/** Seeding races (another replica seeding, a period starting) resolve within a couple of tries. */
const MAX_TRIES = 4;
/** Settles kept while the counters are down; past this, the counters undercount until re-seeded (logged). */
const MAX_UNSETTLED = 100_000;

export interface AdmissionRequest {
  /** The call id; also the lease id. */
  id: string;
  chain: ScopeChain;
  /** When the call started: picks the budget period (the ledger row carries the same instant). */
  at: number;
  /** Upper bound of the call's effective cost, nano-USD. */
  costNano: bigint;
  /** Upper bound of its tokens, input and output together (for tokens-per-minute limits). */
  tokens: number;
  /** The largest max_tokens whose bound fits `roomNano` (for the refusal message). */
  fit: (roomNano: bigint) => number;
}

interface Seed {
  /** What the ledger already holds for this counter's span (rate-limit minutes start empty). */
  spent: () => Promise<bigint>;
  expiresAt: number;
}

type Held =
  | { kind: 'budget'; key: string; policy: BudgetPolicy; window: PeriodWindow }
  | { kind: 'requests' | 'tokens'; key: string; limit: RateLimit; minute: number };

/** A call let through; pass it back to `settle` (exactly once) when the call ends. */
export interface Admitted {
  /** Null when nothing was reserved (no limits apply, or counters down with only non-refusing budgets). */
  leaseId: string | null;
  held: Held[];
  /** `x-ratelimit-*` headers for the response. */
  headers: Record<string, string>;
}

export interface AdmissionOptions {
  counters: Counters;
  cache: ControlsCache;
  controls: Controls;
  ledger: Ledger;
  now: () => number;
  /** How long a reservation lives without renewal (default 60 s); live calls renew it every third of that. */
  leaseMs?: number;
  log: { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };
  /** Called once per budget, period and threshold crossed (across replicas). */
  onAlert?: (alert: { policy: BudgetPolicy; threshold: number; spentNano: bigint; periodStart: number }) => void;
}

export class Admission {
  readonly #o: AdmissionOptions;
  readonly #leaseMs: number;
  /** Leases of calls in flight, with what they reserved (to reserve again if a lease is lost). */
  readonly #live = new Map<string, Charge[]>();
  readonly #inFlight = new Map<string, { scopes: readonly string[]; cut: (reason: TollgateError) => void }>();
  /** `<budget id>:<period start>` of soft budgets known to be spent, for degrading. */
  readonly #overSoft = new Set<string>();
  readonly #alerted = new Set<string>();
  /** Seeds in progress, so a burst of calls on a fresh period asks the ledger once. */
  readonly #seeding = new Map<string, Promise<void>>();
  /** Each budget's current window, recomputed only when a call falls outside it (time-zone math is not free). */
  readonly #windows = new WeakMap<BudgetPolicy, { period: Period; window: PeriodWindow }>();
  /** Settles that failed while the counters were down: applied when they answer again, before any new reservation. */
  #unsettled: { leaseId: string; actuals: Actual[] }[] = [];
  #flushing: Promise<void> | null = null;
  #renewer: NodeJS.Timeout | null = null;
  #countersDown = false;

  constructor(opts: AdmissionOptions) {
    this.#o = opts;
    this.#leaseMs = opts.leaseMs ?? 60_000;
    opts.cache.onKill((kills) => this.#cutKilled(kills));
  }

  /** Starts renewing the leases of calls in flight. */
  start(): void {
    this.#renewer = setInterval(() => void this.#renew(), Math.max(50, Math.floor(this.#leaseMs / 3)));
    this.#renewer.unref();
  }

  close(): void {
    if (this.#renewer) clearInterval(this.#renewer);
    this.#renewer = null;
  }

  /** Whether the counters answered the last operation (for health checks). */
  get countersUp(): boolean {
    return !this.#countersDown;
  }

  /** Throws `killed` when the chain or any scope above it is killed. */
  checkKill(chain: ScopeChain): void {
    const kills = this.#o.cache.snapshot.kills;
    if (kills.size === 0) return;
    for (const id of scopeIds(chain)) {
      const k = kills.get(id);
      if (k) throw killedError(k);
    }
  }

  /** The model alias a spent soft budget sends this chain's calls to, most specific scope first; null when none. */
  degradeTarget(chain: ScopeChain, at: number): string | null {
    if (this.#overSoft.size === 0) return null;
    const budgets = this.#o.cache.snapshot.budgets;
    for (const id of scopeIds(chain).reverse()) {
      for (const p of budgets.get(id) ?? []) {
        if (p.degradeTo === null) continue;
        if (this.#overSoft.has(`${p.id}:${this.#window(p, at).window.start}`)) return p.degradeTo;
      }
    }
    return null;
  }

  /** Reserves the call's bound on every budget and limit of its chain, or throws the refusal. */
  async admit(req: AdmissionRequest): Promise<Admitted> {
    const { charges, held, seeds } = this.#charges(req);
    if (charges.length === 0) return { leaseId: null, held: [], headers: {} };
    const enforcing = charges.some((c) => c.enforce);
    const leaseUntil = this.#o.now() + this.#leaseMs;
    for (let attempt = 1; ; attempt++) {
      let r;
      try {
        // Costs the counters missed while down go in first: admitting on an undercount would break the ceiling.
        if (this.#unsettled.length > 0) await this.#flushUnsettled();
        r = await this.#o.counters.reserve(req.id, charges, leaseUntil, this.#o.now());
        if (!r.ok && 'missing' in r) {
          if (attempt >= MAX_TRIES) throw new Error(`counters ${r.missing.join(', ')} could not be initialised`);
          await Promise.all(r.missing.map((k) => this.#seed(k, seeds.get(k))));
          continue;
        }
        this.#up();
      } catch (err) {
        this.#down(err);
        if (enforcing) {
          throw new TollgateError('unavailable', 'budget counters (or the ledger they start from) are unreachable, so calls under a hard or chargeback budget are refused until they are back (showback budgets keep flowing); retry shortly', {
            cause: err,
          });
        }
        return { leaseId: null, held: [], headers: {} };
      }
      if (r.ok) {
        this.#live.set(req.id, charges);
        this.#noteSoft(held, r.used);
        return { leaseId: req.id, held, headers: rateHeaders(held, charges, r.used, this.#o.now()) };
      }
      throw this.#refusal(req, held[r.refused]!, charges[r.refused]!, r.state);
    }
  }

  /** Registers a running stream so a kill switch on its chain (or a lost reservation) can cut it; returns the unregister function. */
  track(id: string, chain: ScopeChain, cut: (reason: TollgateError) => void): () => void {
    this.#inFlight.set(id, { scopes: scopeIds(chain), cut });
    return () => this.#inFlight.delete(id);
  }

  /** Replaces the reservation with the actual cost and tokens; fires threshold alerts. Never throws. */
  async settle(a: Admitted, actual: { costNano: bigint; tokens: number }): Promise<void> {
    if (a.leaseId === null) return;
    this.#live.delete(a.leaseId);
    const actuals = a.held.map((h) => ({ key: h.key, amount: h.kind === 'budget' ? actual.costNano : h.kind === 'requests' ? 1n : BigInt(actual.tokens) }));
    let spent: bigint[];
    try {
      spent = await this.#o.counters.settle(a.leaseId, actuals);
      this.#up();
    } catch (err) {
      // The lease expires on its own, but the counter must still learn what the call cost: kept and applied once the counters answer.
      this.#down(err);
      if (this.#unsettled.length < MAX_UNSETTLED) this.#unsettled.push({ leaseId: a.leaseId, actuals });
      else this.#o.log.error({ requestId: a.leaseId }, 'too many settles waiting for the budget counters: this call is missing from them until they are re-seeded');
      return;
    }
    for (const [i, h] of a.held.entries()) if (h.kind === 'budget') await this.#thresholds(h, spent[i]!);
  }

  /** Applies the settles that failed while the counters were down (a lost reply may count one twice: over, never under). */
  #flushUnsettled(): Promise<void> {
    this.#flushing ??= (async () => {
      while (this.#unsettled.length > 0) {
        const batch = this.#unsettled.splice(0, 256);
        try {
          await Promise.all(batch.map((u) => this.#o.counters.settle(u.leaseId, u.actuals)));
        } catch (err) {
          this.#unsettled.unshift(...batch);
          throw err;
        }
      }
    })().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  #charges(req: AdmissionRequest): { charges: Charge[]; held: Held[]; seeds: Map<string, Seed> } {
    const { budgets, limits } = this.#o.cache.snapshot;
    const charges: Charge[] = [];
    const held: Held[] = [];
    const seeds = new Map<string, Seed>();
    const ids = scopeIds(req.chain);
    for (const id of ids) {
      for (const policy of budgets.get(id) ?? []) {
        const { period, window } = this.#window(policy, req.at);
        const key = `b:${policy.id}:${window.start}`;
        const slice = period.kind === 'rolling' ? period.sliceMs : 0;
        const also = window.earlier.map((s) => `b:${policy.id}:${s}`);
        const expiresAt = window.end + (period.kind === 'rolling' ? period.slices * period.sliceMs : 0) + GRACE_MS;
        charges.push({ key, ...(also.length > 0 ? { also } : {}), limit: policy.amountNano, amount: req.costNano, enforce: REFUSING.has(policy.action) });
        held.push({ kind: 'budget', key, policy, window });
        const within = { tier: policy.tier, id: policy.scopeId };
        const spentIn = (from: number, to: number): Seed => ({ spent: async () => (await this.#o.ledger.totals({ from, to, within })).effectiveCostNano, expiresAt });
        seeds.set(key, spentIn(window.start, window.end));
        for (const s of window.earlier) seeds.set(`b:${policy.id}:${s}`, spentIn(s, s + slice));
      }
    }
    const minute = Math.floor(req.at / MINUTE) * MINUTE;
    for (const id of ids) {
      const limit = limits.get(id);
      if (!limit) continue;
      if (limit.rpm !== null) {
        const key = `r:${id}:${minute}`;
        charges.push({ key, limit: BigInt(limit.rpm), amount: 1n, enforce: true });
        seeds.set(key, { spent: () => Promise.resolve(0n), expiresAt: minute + 2 * MINUTE });
        held.push({ kind: 'requests', key, limit, minute });
      }
      if (limit.tpm !== null) {
        const key = `t:${id}:${minute}`;
        charges.push({ key, limit: BigInt(limit.tpm), amount: BigInt(req.tokens), enforce: true });
        seeds.set(key, { spent: () => Promise.resolve(0n), expiresAt: minute + 2 * MINUTE });
        held.push({ kind: 'tokens', key, limit, minute });
      }
    }
    return { charges, held, seeds };
  }

  #window(policy: BudgetPolicy, at: number): { period: Period; window: PeriodWindow } {
    const cached = this.#windows.get(policy);
    if (cached && at >= cached.window.start && at < cached.window.end) return cached;
    const period = cached?.period ?? parsePeriod(policy.period);
    const fresh = { period, window: periodWindow(period, policy.timeZone, at) };
    this.#windows.set(policy, fresh);
    return fresh;
  }

  #seed(key: string, seed: Seed | undefined): Promise<void> {
    let p = this.#seeding.get(key);
    if (!p) {
      const s = seed ?? { spent: () => Promise.resolve(0n), expiresAt: this.#o.now() + 2 * MINUTE };
      p = s
        .spent()
        .then((spent) => this.#o.counters.seed(key, spent, s.expiresAt))
        .finally(() => this.#seeding.delete(key));
      this.#seeding.set(key, p);
    }
    return p;
  }

  #refusal(req: AdmissionRequest, h: Held, c: Charge, state: CounterState): TollgateError {
    const room = c.limit - state.spent - state.reserved;
    if (h.kind === 'budget') {
      const p = h.policy;
      const left = room > 0n ? room : 0n;
      const fits = req.fit(left);
      const resetsAt = new Date(h.window.end).toISOString();
      const inFlight = state.reserved > 0n ? ` and ${formatUsd(state.reserved, 4)} held by calls in flight` : '';
      return new TollgateError(
        'budget_exceeded',
        `${p.tier} budget of ${p.scopePath} is spent: ${formatUsd(p.amountNano)} per ${p.period} (${p.action}), ${formatUsd(state.spent, 4)} spent${inFlight}, ` +
          `${formatUsd(left, 4)} left; this call could cost up to ${formatUsd(req.costNano, 4)}. ` +
          (fits > 0 ? `It would fit with max_tokens ≤ ${fits}. ` : '') +
          `The budget ${p.period.startsWith('rolling') ? 'frees up from' : 'resets at'} ${resetsAt}${p.period.startsWith('rolling') ? '' : ` (${p.timeZone})`}.`,
        {
          details: {
            scope: p.scopePath,
            tier: p.tier,
            period: p.period,
            action: p.action,
            limit_usd: nanoToDecimalString(p.amountNano),
            spent_usd: nanoToDecimalString(state.spent),
            reserved_usd: nanoToDecimalString(state.reserved),
            remaining_usd: nanoToDecimalString(left),
            required_usd: nanoToDecimalString(req.costNano),
            resets_at: resetsAt,
            max_tokens_that_fit: fits,
          },
        },
      );
    }
    const unit = h.kind === 'requests' ? 'requests' : 'tokens';
    const retryAfter = Math.max(1, Math.ceil((h.minute + MINUTE - this.#o.now()) / 1000));
    return new TollgateError(
      'rate_limited',
      `rate limit of ${h.limit.scopePath}: ${c.limit} ${unit} per minute, ${state.spent + state.reserved} used this minute` +
        (h.kind === 'tokens' ? `, this call may use up to ${req.tokens}` : '') +
        `; retry in ${retryAfter} s`,
      { details: { scope: h.limit.scopePath, limit: Number(c.limit), unit, used: Number(state.spent + state.reserved), retry_after_seconds: retryAfter } },
    );
  }

  #noteSoft(held: Held[], used: bigint[]): void {
    for (const [i, h] of held.entries()) {
      if (h.kind !== 'budget' || h.policy.degradeTo === null) continue;
      const id = `${h.policy.id}:${h.window.start}`;
      if (used[i]! >= h.policy.amountNano) this.#overSoft.add(id);
      else this.#overSoft.delete(id);
    }
  }

  async #thresholds(h: Extract<Held, { kind: 'budget' }>, spent: bigint): Promise<void> {
    const p = h.policy;
    if (p.degradeTo !== null && spent >= p.amountNano) this.#overSoft.add(`${p.id}:${h.window.start}`);
    for (const t of p.thresholds) {
      if (spent * 100n < BigInt(t) * p.amountNano) continue;
      const id = `${p.id}:${h.window.start}:${t}`;
      if (this.#alerted.has(id)) continue;
      this.#alerted.add(id);
      try {
        const fresh = await this.#o.controls.recordAlert({ budgetId: p.id, periodStart: h.window.start, threshold: t, at: this.#o.now(), spentNano: spent, limitNano: p.amountNano });
        if (!fresh) continue;
        this.#o.log.warn({ scope: p.scopePath, period: p.period, threshold: t, spentUsd: nanoToDecimalString(spent), limitUsd: nanoToDecimalString(p.amountNano) }, `budget ${t}% reached`);
        this.#o.onAlert?.({ policy: p, threshold: t, spentNano: spent, periodStart: h.window.start });
      } catch (err) {
        this.#alerted.delete(id);
        this.#o.log.error({ err, scope: p.scopePath }, 'cannot record a budget alert');
      }
    }
  }

  async #renew(): Promise<void> {
    if (this.#live.size === 0) return;
    let lost: string[];
    try {
      lost = await this.#o.counters.renew([...this.#live.keys()], this.#o.now() + this.#leaseMs, this.#o.now());
      this.#up();
    } catch (err) {
      this.#down(err);
      return;
    }
    for (const id of lost) await this.#reclaim(id);
  }

  /**
   * This process stalled past a lease (its reservation was released and may have been given to
   * others): reserve the bound again, or cut the call if it is a stream, so the ceiling still holds.
   */
  async #reclaim(id: string): Promise<void> {
    const charges = this.#live.get(id);
    if (!charges) return;
    let ok = false;
    try {
      const r = await this.#o.counters.reserve(id, charges, this.#o.now() + this.#leaseMs, this.#o.now());
      ok = r.ok;
    } catch (err) {
      this.#down(err);
    }
    if (ok && !this.#live.has(id)) {
      // The call settled while we reserved again: give the new reservation back.
      await this.#o.counters.settle(id, []).catch(() => undefined);
      return;
    }
    if (ok) {
      this.#o.log.warn({ requestId: id }, 'a reservation lease expired while its call ran (the process stalled longer than controls.lease_ms); reserved again');
      return;
    }
    const call = this.#inFlight.get(id);
    this.#o.log.error({ requestId: id, stream: call !== undefined }, 'a reservation lease expired while its call ran and its budget is now taken; cutting the call if it streams');
    call?.cut(new TollgateError('budget_exceeded', 'this call was stopped: its budget reservation expired while the gateway stalled, and the budget has since been used by other calls'));
  }

  #cutKilled(kills: KillSwitch[]): void {
    const byScope = new Map(kills.map((k) => [k.scopeId, k]));
    for (const call of this.#inFlight.values()) {
      const kill = call.scopes.map((s) => byScope.get(s)).find((k) => k !== undefined);
      if (kill) call.cut(killedError(kill));
    }
  }

  #down(err: unknown): void {
    if (!this.#countersDown) this.#o.log.error({ err }, 'budget counters unreachable: refusing calls under hard and chargeback budgets, letting showback through');
    this.#countersDown = true;
  }

  #up(): void {
    if (this.#countersDown) this.#o.log.warn({}, 'budget counters reachable again');
    this.#countersDown = false;
  }
}

/** The chain's scope ids, org first. */
function scopeIds(chain: ScopeChain): string[] {
  return [chain.orgId, chain.teamId, chain.projectId, chain.agentId];
}

export function killedError(k: KillSwitch): TollgateError {
  return new TollgateError('killed', `${k.scopePath} was stopped by ${k.actor} at ${new Date(k.at).toISOString()}: ${k.reason}. Calls resume after "tollgate revive --scope ${k.scopePath}".`, {
    details: { scope: k.scopePath, killed_by: k.actor, killed_at: new Date(k.at).toISOString(), reason: k.reason },
  });
}

/** OpenAI-style `x-ratelimit-*` headers from the tightest requests and tokens limits. */
function rateHeaders(held: Held[], charges: Charge[], used: bigint[], now: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ['requests', 'tokens'] as const) {
    let best: { limit: bigint; remaining: bigint; reset: number } | null = null;
    for (const [i, h] of held.entries()) {
      if (h.kind !== kind) continue;
      const remaining = charges[i]!.limit - used[i]!;
      if (!best || remaining < best.remaining) best = { limit: charges[i]!.limit, remaining, reset: h.minute + MINUTE };
    }
    if (!best) continue;
    headers[`x-ratelimit-limit-${kind}`] = String(best.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(best.remaining > 0n ? best.remaining : 0n);
    headers[`x-ratelimit-reset-${kind}`] = `${Math.max(0, Math.ceil((best.reset - now) / 1000))}s`;
  }
  return headers;
}
