/**
 * The spool on disk: append-only JSON-lines files in one directory, each line one ledger event.
 * Every process writes its own files, named `ledger-<database tag>-<pid>-<token>-<seq>.jsonl`, so
 * replicas sharing a host (and a directory) never write into each other's files. A file is sealed
 * (closed for appends) before it is replayed and deleted only once its rows are committed. The
 * files of a process that is gone are claimed by renaming them to the claimer's own name: the
 * rename is atomic, so two processes never replay the same file at once.
 */
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerEvent } from '../contract.ts';
import { eventLine, parseEventLine } from './event-line.ts';

/** A file past this size is sealed, so a replay never reads a huge file at once. */
const SEAL_AT_BYTES = 16 * 1024 * 1024;

/** Tokens of the spools open in this process: files with our pid and one of these are not orphans. */
const LIVE_TOKENS = new Set<string>();

export interface SpoolFilesOptions {
  dir: string;
  /** Identity of the database the rows belong to (a file path, or a URL without its password). */
  database: string;
}

export interface SpoolRead {
  events: LedgerEvent[];
  /** Lines that are not events: a write cut off by a crash (never acknowledged, so never answered). */
  bad: number;
}

export class SpoolFiles {
  readonly dir: string;
  /** Short hash of the database identity: files of another database are never touched. */
  readonly #tag: string;
  readonly #token = randomBytes(4).toString('hex');
  /** Sealed files of this process (its own and those it claimed), with their sizes. */
  readonly #sealed = new Map<string, number>();
  #seq = 0;
  #active: { path: string; fh: FileHandle; bytes: number } | null = null;
  /** Appends, seals and claims run one at a time, so a seal never splits an append. */
  #lock: Promise<unknown> = Promise.resolve();

  private constructor(opts: SpoolFilesOptions) {
    this.dir = opts.dir;
    this.#tag = createHash('sha256').update(opts.database).digest('hex').slice(0, 12);
  }

  /** Creates the directory when missing and claims the files left by processes that are gone. */
  static open(opts: SpoolFilesOptions): SpoolFiles {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const files = new SpoolFiles(opts);
    LIVE_TOKENS.add(files.#token);
    files.#claimOrphans();
    return files;
  }

  /** Bytes held in this process's files, sealed and active. */
  get bytes(): number {
    let n = this.#active?.bytes ?? 0;
    for (const size of this.#sealed.values()) n += size;
    return n;
  }

  /** Appends the events and forces them to disk; resolves only once they are durable. */
  append(events: readonly LedgerEvent[]): Promise<void> {
    return this.#locked(async () => {
      const buf = Buffer.from(events.map(eventLine).join(''), 'utf8');
      const active = (this.#active ??= await this.#create());
      try {
        for (let off = 0; off < buf.length; ) off += (await active.fh.write(buf, off, buf.length - off)).bytesWritten;
        await active.fh.datasync();
        active.bytes += buf.length;
      } catch (err) {
        // Part of the batch may be on disk without its newline: seal the file so the next append starts clean.
        active.bytes = (await stat(active.path).catch(() => null))?.size ?? active.bytes;
        await this.#sealActive();
        throw err;
      }
      if (active.bytes >= SEAL_AT_BYTES) await this.#sealActive();
    });
  }

  /** Seals the active file, claims orphaned files, and lists every sealed file, oldest first. */
  seal(): Promise<string[]> {
    return this.#locked(async () => {
      await this.#sealActive();
      this.#claimOrphans();
      return [...this.#sealed.keys()];
    });
  }

  /** Claims the files of processes that have gone since; resolves to how many were claimed. */
  claim(): Promise<number> {
    return this.#locked(() => Promise.resolve(this.#claimOrphans()));
  }

  /** The events of a sealed file. */
  async read(path: string): Promise<SpoolRead> {
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      this.#sealed.delete(path);
      return '';
    });
    const events: LedgerEvent[] = [];
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        events.push(parseEventLine(line));
      } catch {
        bad++;
      }
    }
    return { events, bad };
  }

  /** Deletes a sealed file whose rows are all committed. */
  async remove(path: string): Promise<void> {
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    this.#sealed.delete(path);
  }

  /** Keeps rows the database refuses (not an outage: the row itself is bad) in a file that is never replayed. */
  async reject(events: readonly LedgerEvent[]): Promise<string> {
    const path = join(this.dir, `rejected-${this.#tag}.jsonl`);
    const fh = await open(path, 'a', 0o600);
    try {
      await fh.write(events.map(eventLine).join(''));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    return path;
  }

  /** Closes the active file; its rows stay on disk for the next start. */
  close(): Promise<void> {
    LIVE_TOKENS.delete(this.#token);
    return this.#locked(() => this.#sealActive());
  }

  #locked<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(f, f);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  #nextName(): string {
    return join(this.dir, `ledger-${this.#tag}-${process.pid}-${this.#token}-${String(++this.#seq).padStart(6, '0')}.jsonl`);
  }

  async #create(): Promise<{ path: string; fh: FileHandle; bytes: number }> {
    const path = this.#nextName();
    const fh = await open(path, 'a', 0o600);
    // The new file's directory entry must survive a power cut too, not only its contents.
    try {
      const d = await open(this.dir, 'r');
      await d.sync().finally(() => d.close());
    } catch (err) {
      await fh.close();
      throw err;
    }
    return { path, fh, bytes: 0 };
  }

  async #sealActive(): Promise<void> {
    const a = this.#active;
    if (!a) return;
    // Listed as sealed before the awaits: `bytes` must never read 0 while rows wait.
    if (a.bytes > 0) this.#sealed.set(a.path, a.bytes);
    this.#active = null;
    await a.fh.close().catch(() => undefined);
    if (a.bytes === 0) await unlink(a.path).catch(() => undefined);
  }

  /** Renames the files of gone processes (of this database) to this process's names. */
  #claimOrphans(): number {
    let claimed = 0;
    const pattern = new RegExp(`^ledger-${this.#tag}-(\\d+)-([0-9a-f]+)-\\d+\\.jsonl$`);
    for (const name of readdirSync(this.dir).sort()) {
      const m = pattern.exec(name);
      if (!m) continue;
      const pid = Number(m[1]);
      // Our pid with a token not open here: an earlier run that had our pid (containers restart as pid 1).
      if (pid === process.pid ? LIVE_TOKENS.has(m[2]!) : alive(pid)) continue;
      const from = join(this.dir, name);
      const to = this.#nextName();
      try {
        renameSync(from, to);
        this.#sealed.set(to, statSync(to).size);
        claimed++;
      } catch (err) {
        // Another process claimed it first.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return claimed;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
