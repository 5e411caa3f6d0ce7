/**
 * The hot path's view of virtual keys: a map from the SHA-256 of a secret to its resolved key and
 * owner chain. One map lookup per request; the map reloads when the directory's version counter
 * moves (checked at most every `checkEveryMs`), so a revocation on any replica lands within that.
 */
import { TollgateError } from '../domain/errors.ts';
import { hashKey, looksLikeKey } from '../domain/virtual-key.ts';
import type { Directory, ResolvedKey } from '../ledger/contract.ts';

const MAX_UNKNOWN = 10_000;
/** How long a call waits for a key reload before it is served from the loaded map. */
const STALE_WAIT_MS = 250;

export interface KeyCacheOptions {
  /** How stale the cache may be, in ms (default 1000). */
  checkEveryMs?: number;
  now?: () => number;
}

export class KeyCache {
  readonly #directory: Directory;
  readonly #checkEveryMs: number;
  readonly #now: () => number;
  #byHash = new Map<string, ResolvedKey>();
  #byId = new Map<string, ResolvedKey>();
  /** Hashes looked up and not found since the last reload: a spray of random keys costs one query each, once. */
  #unknown = new Set<string>();
  #version = -1;
  #checkedAt = -Infinity;
  #refreshing: Promise<void> | null = null;

  constructor(directory: Directory, opts: KeyCacheOptions = {}) {
    this.#directory = directory;
    this.#checkEveryMs = opts.checkEveryMs ?? 1000;
    this.#now = opts.now ?? Date.now;
  }

  /** Number of keys held. */
  get size(): number {
    return this.#byHash.size;
  }

  /**
   * Returns the key for a presented secret, or throws the error the client should see:
   * `key_invalid`, `key_suspended`, `key_revoked`, `key_expired` or `scope_archived`.
   */
  async authenticate(secret: string): Promise<ResolvedKey> {
    const key = await this.resolve(secret);
    if (key.kind !== 'agent') {
      throw new TollgateError('key_invalid', `${key.display} is a ${key.kind} key: it reads reports and the dashboard; model calls need an agent key (tg-…)`);
    }
    return key;
  }

  /** Any usable key (agent or viewer) for a presented secret; throws as `authenticate` does. */
  async resolve(secret: string): Promise<ResolvedKey> {
    if (!looksLikeKey(secret)) {
      throw new TollgateError('key_invalid', 'invalid virtual key: expected a Tollgate agent key, "tg-" followed by 43 characters (check the Authorization or x-api-key header)');
    }
    await this.refreshIfStale();
    const hash = hashKey(secret);
    let key = this.#byHash.get(hash);
    if (!key && !this.#unknown.has(hash)) {
      // Not in the map: maybe created on another replica since the last reload, or revoked (revoked keys are not cached).
      try {
        key = (await this.#directory.findKeyByHash(hash)) ?? undefined;
      } catch (err) {
        throw new TollgateError('unavailable', 'cannot check this virtual key right now: the key directory is unreachable; retry shortly', { cause: err });
      }
      if (key && key.state !== 'revoked') {
        this.#byHash.set(hash, key);
        this.#byId.set(key.id, key);
      }
      else if (!key) {
        if (this.#unknown.size >= MAX_UNKNOWN) this.#unknown.clear();
        this.#unknown.add(hash);
      }
    }
    if (!key) throw new TollgateError('key_invalid', 'unknown virtual key: it was never issued here (or the database was reset)');
    return check(key, this.#now());
  }

  /** A usable key by id (a dashboard session names its key by id); null when it is gone or revoked. */
  async byId(id: string): Promise<ResolvedKey | null> {
    await this.refreshIfStale();
    const key = this.#byId.get(id);
    if (!key || key.state === 'revoked') return null;
    return check(key, this.#now());
  }

  /** Reloads when the directory version moved and the last check is older than `checkEveryMs`. */
  async refreshIfStale(): Promise<void> {
    if (this.#now() - this.#checkedAt < this.#checkEveryMs) return;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    if (this.#version < 0) return this.#refreshing;
    // With a map loaded, a directory that hangs (a network partition, not a refusal) must not hold every
    // call: wait a moment for the fresh map, then serve the one we have while the refresh goes on.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#refreshing, new Promise<void>((resolve) => (timer = setTimeout(resolve, STALE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** Forces a reload now (after a local change). */
  async reload(): Promise<void> {
    this.#checkedAt = -Infinity;
    this.#version = -1;
    await this.refreshIfStale();
  }

  async #refresh(): Promise<void> {
    try {
      const version = await this.#directory.version();
      this.#checkedAt = this.#now();
      if (version === this.#version) return;
      const keys = await this.#directory.loadKeys();
      this.#byHash = new Map(keys.map((k) => [k.hash, k]));
      this.#byId = new Map(keys.map((k) => [k.id, k]));
      this.#unknown.clear();
      this.#version = version;
    } catch (err) {
      // With a loaded map, a database blip must not refuse known keys: keep serving it and retry after the window.
      if (this.#version >= 0) {
        this.#checkedAt = this.#now();
        return;
      }
      throw new TollgateError('unavailable', 'cannot load virtual keys: the key directory is unreachable; retry shortly', { cause: err });
    }
  }
}

function check(key: ResolvedKey, now: number): ResolvedKey {
  const who = `virtual key ${key.display} (${key.scopePath})`;
  if (key.state === 'revoked') throw new TollgateError('key_revoked', `${who} was revoked; ask its owner for a new key`);
  if (key.state === 'suspended') throw new TollgateError('key_suspended', `${who} is suspended; an administrator can resume it`);
  if (key.expiresAt !== null && key.expiresAt <= now) {
    throw new TollgateError('key_expired', `${who} expired at ${new Date(key.expiresAt).toISOString()}; create a new key`);
  }
  if (key.scopeArchived) throw new TollgateError('scope_archived', `${who} belongs to an archived scope`);
  return key;
}
