/**
 * Bounded tables of the heaviest keys in a stream (trace ids, prompt fingerprints), O(1) per call.
 *
 * Each key hashes to one of `capacity` slots; a slot keeps one key and a net vote (Boyer–Moore
 * majority per slot, as in Misra–Gries): the same key adds one, another key takes one away, and an
 * empty slot goes to whoever comes next. A key that outnumbers the rest of its slot's traffic (a
 * loop's trace id, a prompt sent again and again) keeps its slot, and its vote never overstates its
 * calls, so a loop is never claimed on borrowed counts. Memory is fixed however many distinct keys
 * an agent sends, and a call costs a hash (computed once for all tiers) and a few array writes.
 *
 * Two tables, the current period's and the previous, are swapped when a period ends, so old keys
 * age out without a clock per key; a key's figures are the sum over both.
 */

/** FNV-1a of a string, as an unsigned 32-bit integer. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A key's figures over the recent window (current and previous period together). */
export interface RecentHitter {
  key: string;
  /** Calls the key is known to have made (a lower bound). */
  calls: number;
  /** Spend while the key held its slot, nano-USD. */
  costNano: number;
  firstAt: number;
}

class VoteTable {
  readonly keys: (string | null)[];
  readonly votes: Int32Array;
  readonly cost: Float64Array;
  readonly firstAt: Float64Array;

  constructor(readonly capacity: number) {
    this.keys = new Array<string | null>(capacity).fill(null);
    this.votes = new Int32Array(capacity);
    this.cost = new Float64Array(capacity);
    this.firstAt = new Float64Array(capacity);
  }

  add(key: string, hash: number, costNano: number, at: number): void {
    const i = hash % this.capacity;
    if (this.keys[i] === key) {
      this.votes[i]! += 1;
      this.cost[i]! += costNano;
    } else if (this.votes[i] === 0) {
      this.keys[i] = key;
      this.votes[i] = 1;
      this.cost[i] = costNano;
      this.firstAt[i] = at;
    } else {
      this.votes[i]! -= 1;
    }
  }

  clear(): void {
    this.keys.fill(null);
    this.votes.fill(0);
  }
}

export class RecentHitters {
  private cur: VoteTable;
  private prev: VoteTable;
  private period = Number.NEGATIVE_INFINITY;

  constructor(
    capacity: number,
    private readonly periodMs: number,
  ) {
    this.cur = new VoteTable(capacity);
    this.prev = new VoteTable(capacity);
  }

  /** `hash` is `hashKey(key)`, passed in so one call's hash serves every tier. */
  add(key: string, hash: number, costNano: number, at: number): void {
    this.roll(at);
    this.cur.add(key, hash, costNano, at);
  }

  /** Moves to the period of `now`; a late call (earlier period) is counted in the current one. */
  roll(now: number): void {
    const p = Math.floor(now / this.periodMs);
    if (p <= this.period) return;
    if (p === this.period + 1) {
      const old = this.prev;
      this.prev = this.cur;
      this.cur = old;
      this.cur.clear();
    } else {
      this.cur.clear();
      this.prev.clear();
    }
    this.period = p;
  }

  /** Calls of the heaviest key over both periods (0 when empty): cheap enough for every evaluation. */
  heaviestCalls(now: number): number {
    this.roll(now);
    let best = 0;
    for (let i = 0; i < this.cur.capacity; i++) {
      const v = this.figures(i);
      if (v > best) best = v;
    }
    return best;
  }

  /** Every held key over both periods, heaviest first by `by`. */
  ranked(now: number, by: 'calls' | 'costNano'): RecentHitter[] {
    this.roll(now);
    const out: RecentHitter[] = [];
    for (let i = 0; i < this.cur.capacity; i++) {
      const c = this.cur.keys[i] ?? null;
      const p = this.prev.keys[i] ?? null;
      const same = c !== null && c === p;
      if (c !== null && this.cur.votes[i]! > 0) {
        out.push({
          key: c,
          calls: this.cur.votes[i]! + (same ? this.prev.votes[i]! : 0),
          costNano: this.cur.cost[i]! + (same ? this.prev.cost[i]! : 0),
          firstAt: same ? this.prev.firstAt[i]! : this.cur.firstAt[i]!,
        });
      }
      if (p !== null && !same && this.prev.votes[i]! > 0) {
        out.push({ key: p, calls: this.prev.votes[i]!, costNano: this.prev.cost[i]!, firstAt: this.prev.firstAt[i]! });
      }
    }
    return out.sort((a, b) => b[by] - a[by] || (a.key < b.key ? -1 : 1));
  }

  /** Net votes of slot i over both periods. */
  private figures(i: number): number {
    const c = this.cur.votes[i]!;
    if (c > 0 && this.prev.keys[i] === this.cur.keys[i]) return c + this.prev.votes[i]!;
    return Math.max(c, this.prev.votes[i]!);
  }
}

/**
 * Exact calls and spend per key (models: a few dozen at most) over the current and previous
 * period; keys past `capacity` in a period are not listed.
 */
export class RecentTotals {
  private cur = new Map<string, { calls: number; costNano: number }>();
  private prev = new Map<string, { calls: number; costNano: number }>();
  private period = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly capacity: number,
    private readonly periodMs: number,
  ) {}

  add(key: string, costNano: number, at: number): void {
    this.roll(at);
    const t = this.cur.get(key);
    if (t) {
      t.calls += 1;
      t.costNano += costNano;
    } else if (this.cur.size < this.capacity) {
      this.cur.set(key, { calls: 1, costNano });
    }
  }

  roll(now: number): void {
    const p = Math.floor(now / this.periodMs);
    if (p <= this.period) return;
    const old = this.prev;
    this.prev = p === this.period + 1 ? this.cur : new Map<string, { calls: number; costNano: number }>();
    this.cur = old;
    this.cur.clear();
    this.period = p;
  }

  /** Keys by spend over both periods, highest first. */
  ranked(now: number): { key: string; calls: number; costNano: number }[] {
    this.roll(now);
    const merged = new Map<string, { key: string; calls: number; costNano: number }>();
    for (const table of [this.prev, this.cur]) {
      for (const [key, t] of table) {
        const m = merged.get(key);
        if (m) {
          m.calls += t.calls;
          m.costNano += t.costNano;
        } else merged.set(key, { key, calls: t.calls, costNano: t.costNano });
      }
    }
    return [...merged.values()].sort((a, b) => b.costNano - a.costNano || (a.key < b.key ? -1 : 1));
  }
}
