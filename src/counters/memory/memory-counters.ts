/**
 * In-process counters for one gateway process: plain maps updated synchronously, so a reservation
 * is atomic by construction (no await between check and write).
 */
import type { Actual, Charge, CounterState, Counters, ReserveResult } from '../contract.ts';

interface Counter {
  spent: bigint;
  reserved: bigint;
  expiresAt: number;
}

interface Lease {
  until: number;
  held: [Counter, bigint][];
}

/** How often expired counters are forgotten, in ms (leases are dropped exactly at their expiry). */
const FORGET_EVERY_MS = 10_000;

export class MemoryCounters implements Counters {
  readonly #counters = new Map<string, Counter>();
  readonly #leases = new Map<string, Lease>();
  #forgotAt = -Infinity;
  /** The soonest lease expiry: leases are scanned only once `now` reaches it. */
  #nextExpiry = Infinity;

  reserve(leaseId: string, charges: readonly Charge[], leaseUntil: number, now: number): Promise<ReserveResult> {
    this.#sweep(now);
    const missing: string[] = [];
    for (const c of charges) {
      if (!this.#counters.has(c.key)) missing.push(c.key);
      for (const k of c.also ?? []) if (!this.#counters.has(k)) missing.push(k);
    }
    if (missing.length > 0) return Promise.resolve({ ok: false, missing: [...new Set(missing)] });
    const used: bigint[] = [];
    for (const [i, c] of charges.entries()) {
      const state = this.#total(c);
      if (c.enforce && state.spent + state.reserved + c.amount > c.limit) return Promise.resolve({ ok: false, refused: i, state });
      used.push(state.spent + state.reserved + c.amount);
    }
    const lease = this.#leases.get(leaseId) ?? { until: leaseUntil, held: [] };
    lease.until = Math.max(lease.until, leaseUntil);
    this.#nextExpiry = Math.min(this.#nextExpiry, lease.until);
    for (const c of charges) {
      const counter = this.#counters.get(c.key)!;
      counter.reserved += c.amount;
      lease.held.push([counter, c.amount]);
    }
    this.#leases.set(leaseId, lease);
    return Promise.resolve({ ok: true, used });
  }

  settle(leaseId: string, actual: readonly Actual[]): Promise<bigint[]> {
    const lease = this.#leases.get(leaseId);
    if (lease) {
      this.#leases.delete(leaseId);
      for (const [counter, amount] of lease.held) counter.reserved -= amount;
    }
    return Promise.resolve(
      actual.map((a) => {
        const counter = this.#counters.get(a.key);
        if (!counter) return 0n;
        counter.spent += a.amount;
        return counter.spent;
      }),
    );
  }

  renew(leaseIds: readonly string[], leaseUntil: number, now: number): Promise<string[]> {
    this.#sweep(now);
    const lost: string[] = [];
    for (const id of leaseIds) {
      const lease = this.#leases.get(id);
      if (!lease) {
        lost.push(id);
        continue;
      }
      lease.until = Math.max(lease.until, leaseUntil);
    }
    return Promise.resolve(lost);
  }

  seed(key: string, spent: bigint, expiresAt: number): Promise<void> {
    if (!this.#counters.has(key)) this.#counters.set(key, { spent, reserved: 0n, expiresAt });
    return Promise.resolve();
  }

  read(keys: readonly string[], now: number): Promise<(CounterState | null)[]> {
    this.#sweep(now);
    return Promise.resolve(
      keys.map((k) => {
        const c = this.#counters.get(k);
        return c ? { spent: c.spent, reserved: c.reserved } : null;
      }),
    );
  }

  close(): Promise<void> {
    this.#counters.clear();
    this.#leases.clear();
    return Promise.resolve();
  }

  #total(c: Charge): CounterState {
    const own = this.#counters.get(c.key)!;
    let spent = own.spent;
    let reserved = own.reserved;
    for (const k of c.also ?? []) {
      const other = this.#counters.get(k)!;
      spent += other.spent;
      reserved += other.reserved;
    }
    return { spent, reserved };
  }

  #sweep(now: number): void {
    if (now >= this.#nextExpiry) {
      this.#nextExpiry = Infinity;
      for (const [id, lease] of this.#leases) {
        if (lease.until > now) {
          this.#nextExpiry = Math.min(this.#nextExpiry, lease.until);
          continue;
        }
        this.#leases.delete(id);
        for (const [counter, amount] of lease.held) counter.reserved -= amount;
      }
    }
    if (Math.abs(now - this.#forgotAt) < FORGET_EVERY_MS) return;
    this.#forgotAt = now;
    for (const [key, c] of this.#counters) if (c.expiresAt <= now && c.reserved === 0n) this.#counters.delete(key);
  }
}
