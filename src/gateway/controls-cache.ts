/**
 * The hot path's view of budgets, rate limits and kill switches: maps by scope id, reloaded when the
 * directory version moves. The version is polled in the background (every 250 ms by default) so a
 * kill switch set on any replica, or by the CLI, lands everywhere within a second, in-flight streams
 * included, even on a replica that receives no request meanwhile.
 */
import type { BudgetPolicy, Controls, Directory, KillSwitch, RateLimit } from '../ledger/contract.ts';

export interface ControlsSnapshot {
  budgets: ReadonlyMap<string, readonly BudgetPolicy[]>;
  limits: ReadonlyMap<string, RateLimit>;
  kills: ReadonlyMap<string, KillSwitch>;
}

export interface ControlsCacheOptions {
  pollMs?: number;
  log?: { warn: (obj: object, msg: string) => void };
}

const EMPTY: ControlsSnapshot = { budgets: new Map(), limits: new Map(), kills: new Map() };

export class ControlsCache {
  readonly #controls: Controls;
  readonly #directory: Directory;
  readonly #pollMs: number;
  readonly #log: ControlsCacheOptions['log'];
  readonly #onKill: ((kills: KillSwitch[]) => void)[] = [];
  #snapshot: ControlsSnapshot = EMPTY;
  #version = -1;
  #timer: NodeJS.Timeout | null = null;
  #loading: Promise<void> | null = null;
  #failing = false;

  constructor(controls: Controls, directory: Directory, opts: ControlsCacheOptions = {}) {
    this.#controls = controls;
    this.#directory = directory;
    this.#pollMs = opts.pollMs ?? 250;
    this.#log = opts.log;
  }

  get snapshot(): ControlsSnapshot {
    return this.#snapshot;
  }

  /** Loads now, then keeps polling until `close()`. */
  async start(): Promise<void> {
    await this.reload();
    this.#timer = setInterval(() => void this.#poll().catch(() => undefined), this.#pollMs);
    this.#timer.unref();
  }

  /** Called with the kill switches that appeared in a reload (not those already known). */
  onKill(listener: (kills: KillSwitch[]) => void): void {
    this.#onKill.push(listener);
  }

  /** Reloads at once (after a change made through this process). */
  async reload(): Promise<void> {
    this.#version = -1;
    await this.#poll();
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #poll(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    try {
      const version = await this.#directory.version();
      if (version === this.#version) return;
      const [budgets, limits, kills] = await Promise.all([this.#controls.listBudgets(), this.#controls.listRateLimits(), this.#controls.listKills()]);
      const byScope = new Map<string, BudgetPolicy[]>();
      for (const b of budgets) byScope.set(b.scopeId, [...(byScope.get(b.scopeId) ?? []), b]);
      const before = this.#snapshot.kills;
      this.#snapshot = { budgets: byScope, limits: new Map(limits.map((l) => [l.scopeId, l])), kills: new Map(kills.map((k) => [k.scopeId, k])) };
      this.#version = version;
      this.#failing = false;
      const fresh = kills.filter((k) => !before.has(k.scopeId));
      if (fresh.length > 0) for (const l of this.#onKill) l(fresh);
    } catch (err) {
      // Keep enforcing what is loaded; say so once per outage.
      if (!this.#failing) this.#log?.warn({ err }, 'cannot reload budgets and kill switches; enforcing the last loaded set');
      this.#failing = true;
      if (this.#version < 0) throw err;
    }
  }
}
