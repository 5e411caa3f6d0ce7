/**
 * Group commit: many callers each waiting for their own row, one transaction for all of them.
 * Only one write is in flight. When the writer is idle a row goes at once (after the current tick,
 * so rows of the same tick share a transaction): no added latency at low load. Rows arriving during
 * a write queue up and form the next batch (up to `maxBatch`), which is how batches grow with load.
 * `maxDelayMs`, when set above 0, instead holds an idle writer's first row that long for company.
 * Each caller's promise settles when its row is committed, so a response's last bytes can wait for
 * exactly that. With a spool (ledger/spool), a batch the database cannot take (unreachable, or no
 * commit within the write timeout) is forced to a local file instead, and its callers settle then.
 */
import type { Ledger, LedgerEvent } from './contract.ts';
import type { LedgerSpool, SpoolLog } from './spool/ledger-spool.ts';
import { isOutage } from './spool/outage-error.ts';

export interface GroupCommitOptions {
  /** Rows per transaction at most (default 500). */
  maxBatch?: number;
  /** How long an idle writer holds its first row for company, in ms (default 0: write at once). */
  maxDelayMs?: number;
  /** Where rows go while the database cannot take them; absent: such a write fails its callers. The committer starts and closes it. */
  spool?: LedgerSpool;
  /** Where the spool reports spooling and replay. */
  log?: SpoolLog;
}

interface Pending {
  event: LedgerEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter {
  readonly #ledger: Ledger;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  readonly #spool: LedgerSpool | null;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #inFlight: Promise<void> | null = null;
  #closed = false;

  constructor(ledger: Ledger, opts: GroupCommitOptions = {}) {
    this.#ledger = ledger;
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 500);
    this.#maxDelayMs = Math.max(0, opts.maxDelayMs ?? 0);
    this.#spool = opts.spool ?? null;
    this.#spool?.start(ledger, { batch: this.#maxBatch, ...(opts.log ? { log: opts.log } : {}) });
  }

  /** Rows waiting for a transaction. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Bytes of rows waiting in the spool for the database (0 without a spool): a health signal. */
  get spoolBytes(): number {
    return this.#spool?.bytes ?? 0;
  }

  /** True while rows go to the spool because the database was found unreachable. */
  get spooling(): boolean {
    return this.#spool?.spooling ?? false;
  }

  /** Throws `unavailable` when a new paid call must be refused: the spool is full, or rows cannot be written anywhere. */
  assertAccepting(): void {
    this.#spool?.assertAccepting();
  }

  /** Queues one row; resolves once it is committed (or was already in the ledger under its id). */
  record(event: LedgerEvent): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('ledger writer is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (this.#queue.length >= this.#maxBatch) this.#kick();
      else if (this.#inFlight) return; // the write in flight kicks the next batch when it ends
      else if (this.#maxDelayMs > 0) this.#timer ??= setTimeout(() => this.#kick(), this.#maxDelayMs);
      else this.#immediate ??= setImmediate(() => this.#kick());
    });
  }

  /** Writes everything queued so far and waits for it. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight) {
      this.#kick();
      await this.#inFlight;
    }
  }

  /** Flushes and refuses further rows; rows still in the spool stay there for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    await this.#spool?.close();
  }

  #kick(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#immediate) {
      clearImmediate(this.#immediate);
      this.#immediate = null;
    }
    if (this.#inFlight || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#maxBatch);
    this.#inFlight = this.#write(batch).finally(() => {
      this.#inFlight = null;
      // Rows that arrived during the write go now: they have waited at least as long as a timer would.
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #write(batch: Pending[]): Promise<void> {
    const spool = this.#spool;
    if (spool?.spooling) return this.#toSpool(spool, batch);
    try {
      await this.#record(batch.map((p) => p.event));
      for (const p of batch) p.resolve();
      return;
    } catch (err) {
      if (spool && isOutage(err)) return this.#toSpool(spool, batch, err);
    }
    // One bad row must not fail its neighbours: retry each alone (record is idempotent, so rows of
    // the failed transaction cannot be counted twice), and fail only the rows that fail alone.
    for (const [i, p] of batch.entries()) {
      if (spool?.spooling) return this.#toSpool(spool, batch.slice(i));
      try {
        await this.#record([p.event]);
        p.resolve();
      } catch (err) {
        if (spool && isOutage(err)) await this.#toSpool(spool, [p], err);
        else p.reject(err);
      }
    }
  }

  #record(events: readonly LedgerEvent[]): Promise<unknown> {
    return this.#spool ? this.#spool.record(events) : this.#ledger.record(events);
  }

  /** Forces the rows to the spool; their callers settle once they are durable there (or fail when they cannot be). */
  async #toSpool(spool: LedgerSpool, batch: Pending[], cause?: unknown): Promise<void> {
    try {
      await spool.append(
        batch.map((p) => p.event),
        cause,
      );
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) p.resolve();
  }
}
