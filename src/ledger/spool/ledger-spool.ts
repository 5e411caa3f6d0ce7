/**
 * What keeps "nothing is lost" true while the database is unreachable. When a ledger write fails
 * for want of the database (or does not commit within `writeTimeoutMs`), the group committer hands
 * the batch here: it is appended to a local file and forced to disk before its callers resolve, so
 * a response still waits for a durable row. Until a replay succeeds, later rows come straight here.
 * Replay runs in the background every `replayEveryMs`: it seals the current file, records its rows
 * (idempotent by event id, so a replay cut by a crash and run again counts nothing twice) and deletes
 * the file only after they are committed. A spool left by a crashed process is replayed at start-up.
 * Past `maxBytes` the gateway refuses new paid calls (503) rather than lose rows.
 */
import { TollgateError } from '../../domain/errors.ts';
import type { Ledger, LedgerEvent } from '../contract.ts';
import { isOutage, LedgerWriteTimeout } from './outage-error.ts';
import { SpoolFiles } from './spool-files.ts';

export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
/** How often a running gateway looks for spool files left by a process that died. */
const SWEEP_MS = 30_000;

export interface SpoolAlert {
  /** `spooling`: the database is unreachable and rows go to the spool; `spool_full`: new paid calls are refused; `spool_failed`: a row could not be spooled either; `replayed`: the database is back and the spool is empty. */
  kind: 'spooling' | 'spool_full' | 'spool_failed' | 'replayed';
  /** One line for people, the same as the log line. */
  message: string;
  /** The spool directory. */
  path: string;
  bytes: number;
  maxBytes: number;
  /** Rows concerned: spooled so far this outage, or replayed. */
  rows: number;
}

export interface LedgerSpoolOptions {
  /** Directory of the spool files (created when missing); local disk, one per host is enough. */
  dir: string;
  /** Identity of the database (file path, or URL without password): only its own files are replayed into it. */
  database: string;
  /** Spool size from which new paid calls are refused, bytes (default 256 MiB). */
  maxBytes?: number;
  /** How often replay is tried while rows wait, ms (default 2 000). */
  replayEveryMs?: number;
  /** A ledger write not committed within this many ms is spooled, ms (default 10 000). */
  writeTimeoutMs?: number;
  /** Called when spooling starts, when the spool fills, when a row cannot be spooled, and once it is replayed. Must not throw. */
  onAlert?: (alert: SpoolAlert) => void;
}

export interface SpoolLog {
  error: (obj: object, msg: string) => void;
  warn: (obj: object, msg: string) => void;
}

export interface SpoolStats {
  /** Rows appended to the spool since start. */
  spooled: number;
  /** Rows replayed into the ledger (newly inserted). */
  replayed: number;
  /** Replayed rows the ledger already had (a write that committed after all, or a replay run twice). */
  duplicates: number;
  /** Rows the database refused outright, kept in the `rejected-…` file. */
  rejected: number;
  /** Lines that were not events (a write cut off by a crash before it was acknowledged). */
  unreadable: number;
}

export class LedgerSpool {
  readonly maxBytes: number;
  readonly #files: SpoolFiles;
  readonly #replayEveryMs: number;
  readonly #writeTimeoutMs: number;
  readonly stats: SpoolStats = { spooled: 0, replayed: 0, duplicates: 0, rejected: 0, unreadable: 0 };
  readonly #listeners: ((alert: SpoolAlert) => void)[] = [];
  #ledger: Ledger | null = null;
  #log: SpoolLog = { error: () => undefined, warn: () => undefined };
  #batch = 500;
  /** The database was found unreachable and no replay has succeeded since: rows come straight here. */
  #spooling = false;
  /** The last append failed: new calls are refused until a row is durable again. */
  #broken = false;
  /** The stats when the open outage began (spooling alerted, or leftovers found at start-up); null when none is open. */
  #outage: SpoolStats | null = null;
  #wasFull = false;
  #timer: NodeJS.Timeout | null = null;
  #sweeper: NodeJS.Timeout | null = null;
  #replaying: Promise<void> | null = null;
  #again = false;
  #closed = false;

  private constructor(files: SpoolFiles, opts: LedgerSpoolOptions) {
    this.#files = files;
    this.maxBytes = opts.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.#replayEveryMs = opts.replayEveryMs ?? 2000;
    this.#writeTimeoutMs = opts.writeTimeoutMs ?? 10_000;
    if (opts.onAlert) this.#listeners.push(opts.onAlert);
  }

  /** Opens the spool directory, claiming the files of processes that are gone (replayed once `start` runs). */
  static open(opts: LedgerSpoolOptions): LedgerSpool {
    try {
      return new LedgerSpool(SpoolFiles.open(opts), opts);
    } catch (err) {
      throw new TollgateError('unavailable', `cannot open the ledger spool directory ${opts.dir}: ${(err as Error).message} (set ledger.spool.dir to a writable local directory)`, { cause: err });
    }
  }

  /** The spool directory. */
  get path(): string {
    return this.#files.dir;
  }

  /** Bytes waiting in the spool. */
  get bytes(): number {
    return this.#files.bytes;
  }

  /** True while rows go to the spool instead of the database. */
  get spooling(): boolean {
    return this.#spooling;
  }

  /** False when new paid calls must be refused: the spool is full, or rows cannot be written anywhere. */
  get accepting(): boolean {
    return !this.#broken && this.bytes < this.maxBytes;
  }

  /** Throws the 503 a new paid call gets while `accepting` is false. */
  assertAccepting(): void {
    if (this.accepting) return;
    const why = this.#broken
      ? `the ledger database is unreachable and the local spool (${this.path}) cannot be written either`
      : `the ledger database has been unreachable long enough to fill the local spool (${this.path}: ${mib(this.bytes)} of ${mib(this.maxBytes)} MiB, ledger.spool.max_bytes)`;
    throw new TollgateError('unavailable', `model calls are paused so that none goes unrecorded: ${why}; they resume once the database is back and the spool is replayed; retry shortly`);
  }

  /** Adds a listener for spool alerts (as `onAlert`), e.g. the alert dispatcher once it is built. */
  onAlert(listener: (alert: SpoolAlert) => void): void {
    this.#listeners.push(listener);
  }

  /** Starts replaying into `ledger` (at once when a spool was left over from an earlier run). */
  start(ledger: Ledger, opts: { log?: SpoolLog; batch?: number } = {}): void {
    this.#ledger = ledger;
    if (opts.log) this.#log = opts.log;
    if (opts.batch) this.#batch = opts.batch;
    if (this.bytes > 0) {
      this.#outage = { ...this.stats };
      this.#log.warn({ spool: this.path, bytes: this.bytes }, 'ledger rows left in the spool by an earlier run: replaying them');
      this.#schedule(0);
    }
    // A replica on this host that died while another keeps running: the survivor replays its spool.
    this.#sweeper = setInterval(() => void this.#sweep(), SWEEP_MS);
    this.#sweeper.unref();
  }

  async #sweep(): Promise<void> {
    try {
      const claimed = await this.#files.claim();
      if (claimed > 0) {
        this.#log.warn({ spool: this.path, files: claimed }, 'ledger spool files of a process that is gone: replaying them');
        this.#schedule(0);
      }
    } catch (err) {
      this.#log.error({ err, spool: this.path }, 'cannot look for orphaned ledger spool files');
    }
  }

  /** `ledger.record` with the write timeout: a write that hangs (a network partition) is treated as failed. */
  record(events: readonly LedgerEvent[]): Promise<{ inserted: number; duplicates: number }> {
    if (!this.#ledger) throw new Error('ledger spool used before start()');
    return this.#bounded(this.#ledger.record(events));
  }

  #bounded<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LedgerWriteTimeout(`the ledger database did not answer within ${this.#writeTimeoutMs} ms (ledger.spool.write_timeout_ms)`)), this.#writeTimeoutMs);
    });
    // Work that completes after its timeout is harmless: its rows are spooled too and replay skips them by id.
    work.catch(() => undefined);
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Appends rows and forces them to disk. With `cause` (the failed write), spooling starts: later rows
   * come here until a replay succeeds. Throws when the rows could not be made durable.
   */
  async append(events: readonly LedgerEvent[], cause?: unknown): Promise<void> {
    const starting = cause !== undefined && !this.#spooling;
    if (cause !== undefined) this.#spooling = true;
    try {
      await this.#files.append(events);
    } catch (err) {
      const first = !this.#broken;
      this.#broken = true;
      if (first) this.#alert('spool_failed', `ledger rows cannot be written to the database nor to the spool at ${this.path} (${(err as Error).message}); new model calls are refused until one of them works`, events.length, err);
      this.#schedule(this.#replayEveryMs);
      throw new TollgateError('unavailable', `ledger row not recorded: database unreachable and spool ${this.path} not writable: ${(err as Error).message}`, { cause: err });
    }
    this.#broken = false;
    if (starting && !this.#outage) this.#outage = { ...this.stats };
    this.stats.spooled += events.length;
    const rows = this.stats.spooled - (this.#outage?.spooled ?? 0);
    if (starting) {
      this.#alert('spooling', `ledger database unreachable (${messageOf(cause)}): spooling rows to ${this.path} (${mib(this.bytes)} of ${mib(this.maxBytes)} MiB); they are replayed when it is back`, rows, cause);
    }
    if (!this.#wasFull && this.bytes >= this.maxBytes) {
      this.#wasFull = true;
      this.#alert('spool_full', `ledger spool ${this.path} is full (${mib(this.bytes)} of ${mib(this.maxBytes)} MiB, ${rows} rows): new model calls are refused with 503 until the database is back`, rows);
    }
    this.#schedule(this.#replayEveryMs);
  }

  /** Stops replaying (rows left stay on disk for the next start) and closes the files. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#replaying;
    await this.#files.close();
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    if (this.#replaying) {
      this.#again = true;
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#replaying = this.#replay().finally(() => {
        this.#replaying = null;
        if (this.#again) {
          this.#again = false;
          this.#schedule(0);
        }
      });
    }, ms);
    // Rows waiting here are on disk: they must not keep a stopping process alive.
    this.#timer.unref();
  }

  async #replay(): Promise<void> {
    const before = { ...this.stats };
    try {
      let files = await this.#files.seal();
      // Spooling with nothing to replay (the spool itself failed): probe the database before going back to it.
      if (files.length === 0 && this.#spooling) await this.#bounded(this.#ledger!.get('spool-probe'));
      while (files.length > 0 && !this.#closed) {
        for (const path of files) {
          if (this.#closed) return;
          const { events, bad } = await this.#files.read(path);
          this.stats.unreadable += bad;
          for (let i = 0; i < events.length; i += this.#batch) {
            await this.#commit(events.slice(i, i + this.#batch));
            // The database took a write: new rows go to it again while the rest of the spool drains.
            this.#spooling = false;
          }
          await this.#files.remove(path);
        }
        files = await this.#files.seal();
      }
    } catch (err) {
      if (!isOutage(err)) this.#log.error({ err, spool: this.path }, 'ledger spool replay failed; retrying');
      this.#schedule(this.#replayEveryMs);
      return;
    }
    if (this.#closed) return;
    this.#spooling = false;
    this.#broken = false;
    this.#wasFull = false;
    const since = this.#outage;
    this.#outage = null;
    if (since) {
      const replayed = this.stats.replayed - since.replayed;
      const duplicates = this.stats.duplicates - since.duplicates;
      this.#alert('replayed', `ledger database reachable again: replayed ${replayed} spooled rows (${duplicates} were already recorded); the spool ${this.path} is empty`, replayed, undefined, { replayed, duplicates });
    } else if (this.stats.replayed + this.stats.duplicates > before.replayed + before.duplicates) {
      // Rows spooled at the very end of an outage already reported: no second alert.
      const replayed = this.stats.replayed - before.replayed;
      const duplicates = this.stats.duplicates - before.duplicates;
      this.#log.warn({ spool: this.path, replayed, duplicates, stats: { ...this.stats } }, `replayed ${replayed} spooled rows (${duplicates} were already recorded)`);
    }
  }

  /** Records a chunk; a row the database refuses outright goes to the rejected file instead of blocking the replay. */
  async #commit(chunk: LedgerEvent[]): Promise<void> {
    try {
      const r = await this.record(chunk);
      this.stats.replayed += r.inserted;
      this.stats.duplicates += r.duplicates;
      return;
    } catch (err) {
      if (isOutage(err)) throw err;
    }
    for (const e of chunk) {
      try {
        const r = await this.record([e]);
        this.stats.replayed += r.inserted;
        this.stats.duplicates += r.duplicates;
      } catch (err) {
        if (isOutage(err)) throw err;
        const file = await this.#files.reject([e]);
        this.stats.rejected++;
        this.#log.error({ err, requestId: e.id, file }, 'the ledger refused a spooled row; it is kept in the rejected file for inspection and not replayed again');
      }
    }
  }

  #alert(kind: SpoolAlert['kind'], message: string, rows: number, err?: unknown, more: object = {}): void {
    const alert: SpoolAlert = { kind, message, path: this.path, bytes: this.bytes, maxBytes: this.maxBytes, rows };
    const fields = { spool: this.path, bytes: this.bytes, maxBytes: this.maxBytes, rows, ...more, stats: { ...this.stats }, ...(err === undefined ? {} : { err }) };
    if (kind === 'replayed') this.#log.warn(fields, message);
    else this.#log.error(fields, message);
    for (const listener of this.#listeners) {
      try {
        listener(alert);
      } catch (e) {
        this.#log.error({ err: e }, 'ledger spool alert listener failed');
      }
    }
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
