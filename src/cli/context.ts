/**
 * What every command gets: the parsed config, a lazily opened store (so `--help` needs no database),
 * the clock and the output streams. Wiring lives here: it is the one place that picks a backend.
 */
import { userInfo } from 'node:os';
import type { LoadedConfig } from '../config/load-config.ts';
import { loadConfig } from '../config/load-config.ts';
import type { OpenedCounters } from '../counters/open-counters.ts';
import { openCounters } from '../counters/open-counters.ts';
import type { Store } from '../ledger/contract.ts';
import { DEFAULT_DB_FILE, openStore } from '../ledger/open-store.ts';
import type { Pricer } from '../pricing/index.ts';
import { createPricer } from '../pricing/index.ts';
import type { Io } from './output.ts';

export interface GlobalOptions {
  db?: string;
  config?: string;
}

export class CliContext {
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => number;
  #globals: GlobalOptions = {};
  #config: LoadedConfig | undefined;
  #store: Promise<Store> | undefined;
  #pricer: Pricer | undefined;
  #counters: Promise<OpenedCounters> | undefined;

  constructor(io: Io, env: NodeJS.ProcessEnv, now: () => number = Date.now) {
    this.io = io;
    this.env = env;
    this.now = now;
  }

  setGlobals(g: GlobalOptions): void {
    this.#globals = g;
  }

  get actor(): string {
    let user = 'unknown';
    try {
      user = this.env['USER'] ?? userInfo().username;
    } catch {
      // no passwd entry (some containers): keep "unknown"
    }
    return `cli:${user}`;
  }

  config(): LoadedConfig {
    this.#config ??= loadConfig(this.#globals.config, this.env);
    return this.#config;
  }

  /** --db, then TOLLGATE_DB, then the config file's `database`, then ./tollgate-data/tollgate.db. */
  dbTarget(): string {
    return this.#globals.db ?? this.env['TOLLGATE_DB'] ?? this.config().config.database ?? DEFAULT_DB_FILE;
  }

  store(): Promise<Store> {
    this.#store ??= openStore(this.dbTarget());
    return this.#store;
  }

  /** TOLLGATE_REDIS, then the config's `redis`; null: in-process counters. */
  redisTarget(): string | null {
    return this.env['TOLLGATE_REDIS'] || this.config().config.redis || null;
  }

  /** The budget counters: Redis when configured, else in-process (which only the gateway process sees). */
  counters(opts: { onError?: (err: Error) => void } = {}): Promise<OpenedCounters> {
    const prefix = this.env['TOLLGATE_REDIS_PREFIX'] || this.config().config.controls?.redis_prefix;
    this.#counters ??= openCounters(this.redisTarget(), { ...opts, ...(prefix ? { prefix } : {}) });
    return this.#counters;
  }

  /** The zone calendar budget periods use when a budget names none. */
  timeZone(): string {
    return this.config().config.controls?.time_zone ?? 'UTC';
  }

  pricer(): Pricer {
    this.#pricer ??= createPricer(this.config().config.pricing);
    return this.#pricer;
  }

  async close(): Promise<void> {
    if (this.#counters) {
      const c = await this.#counters.catch(() => null);
      await c?.close();
    }
    if (this.#store) {
      const s = await this.#store.catch(() => null);
      await s?.close();
    }
  }
}
