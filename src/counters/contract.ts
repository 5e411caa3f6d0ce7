/**
 * The counters behind budgets and rate limits. A counter holds what was spent and what is reserved
 * by calls in flight. Admission reserves an upper bound on every counter a call is charged against,
 * all or nothing; settling replaces the reservation with the actual amount. Reservations are leases:
 * a lease that is neither settled nor renewed before it expires is dropped, so a crashed replica
 * cannot hold budget forever. `counters/memory` serves one process, `counters/redis` many.
 */

/** One limit a call is charged against: a budget period, a slice of a rolling window, a rate-limit minute. */
export interface Charge {
  /** Counter the reservation is written to, e.g. `b:<policy id>:<period start>`. */
  key: string;
  /** Other counters whose totals count against the same limit (the older slices of a rolling window). */
  also?: readonly string[];
  /** The limit, in the counter's unit (nano-USD, requests or tokens). */
  limit: bigint;
  /** What this call reserves: an upper bound of what it can use. */
  amount: bigint;
  /** True: refuse the whole reservation when this charge does not fit. False: track only. */
  enforce: boolean;
}

/** A counter's state; for a charge with `also`, the totals over all its counters. */
export interface CounterState {
  spent: bigint;
  reserved: bigint;
}

export type ReserveResult =
  /** Reserved on every charge; `used[i]` is spent + reserved of charge i afterwards. */
  | { ok: true; used: bigint[] }
  /** Nothing reserved: charge `refused` (the first enforced one that did not fit) was at `state`. */
  | { ok: false; refused: number; state: CounterState }
  /** Nothing reserved: these counters do not exist yet; seed them (from the ledger) and try again. */
  | { ok: false; missing: string[] };

/** Actual use of one counter at settle time. */
export interface Actual {
  key: string;
  amount: bigint;
}

/** The charges of one reservation name distinct counters (one per budget or limit). */
export interface Counters {
  /**
   * Atomically: drops expired leases, then reserves every charge under `leaseId` until `leaseUntil`
   * (epoch ms), or nothing when a counter is missing or an enforced charge would go over its limit.
   */
  reserve(leaseId: string, charges: readonly Charge[], leaseUntil: number, now: number): Promise<ReserveResult>;
  /**
   * Ends the lease: its reservations are released and `actual` added to what was spent. Actual use is
   * counted even when the lease had expired (the call happened); counters that no longer exist are
   * skipped. Returns the spent total of each actual's counter afterwards (0n when skipped).
   */
  settle(leaseId: string, actual: readonly Actual[]): Promise<bigint[]>;
  /**
   * Drops expired leases, then extends the given live leases to `leaseUntil`. Returns the ids it no
   * longer holds: their reservations were released (the caller stalled past the lease), so the caller
   * must reserve again or stop those calls.
   */
  renew(leaseIds: readonly string[], leaseUntil: number, now: number): Promise<string[]>;
  /**
   * Creates a counter with `spent` already used, unless it exists. It may be forgotten from `expiresAt`
   * (wall-clock epoch ms), so that must outlast the counter's period by more than the longest call.
   */
  seed(key: string, spent: bigint, expiresAt: number): Promise<void>;
  /** Current state of counters (expired leases dropped first); a missing counter reads as null. */
  read(keys: readonly string[], now: number): Promise<(CounterState | null)[]>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
