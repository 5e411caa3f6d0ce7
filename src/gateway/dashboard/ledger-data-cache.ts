/**
 * The forecast's ledger reads, kept for a few minutes per (scope, unit, as-of day, history). The data
 * ends before the as-of day, so it moves only when late rows or imports land; meanwhile the
 * dashboard asks again for every change of users, growth or prices, and the read (a scan of the
 * window's events for customers) is most of a forecast's time. Concurrent asks share one read;
 * a failed read is not kept.
 */
import type { LedgerData } from '../../analytics/forecast/forecast-source.ts';

export class LedgerDataCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { at: number; data: Promise<LedgerData> }>();

  constructor(opts: { ttlMs: number; maxEntries: number; now: () => number }) {
    this.#ttlMs = opts.ttlMs;
    this.#maxEntries = opts.maxEntries;
    this.#now = opts.now;
  }

  /** The entry for `key` while it is fresh, else what `load` reads (and keeps). */
  get(key: string, load: () => Promise<LedgerData>): Promise<LedgerData> {
    const now = this.#now();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.#ttlMs) return hit.data;
    for (const [k, e] of this.#entries) if (now - e.at >= this.#ttlMs) this.#entries.delete(k);
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    const data = load();
    const entry = { at: now, data };
    this.#entries.set(key, entry);
    data.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return data;
  }
}
