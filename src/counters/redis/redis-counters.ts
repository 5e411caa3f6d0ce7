/**
 * Counters shared by gateway replicas through one Redis. Each operation is one Lua script (EVALSHA),
 * so it is atomic and one round trip; the reservations (and settlements) of calls that arrive in the
 * same event-loop turn share one script run, each still atomic and all or nothing on its own. Layout, all under one hash tag so a cluster keeps it in a slot:
 * `{prefix}:c:<key>` a hash {spent, reserved, g} expiring at the counter's `expiresAt`;
 * `{prefix}:leases` a sorted set of lease ids scored by expiry; `{prefix}:l:<lease id>` a hash from
 * `<g>:<counter key>` to the amount the lease holds there. `g` is the counter's generation: a lease
 * only releases into the counter it reserved on, not a re-seeded one of the same name.
 *
 * Lua numbers are doubles, so limits and amounts must stay within 2^53-1 (checked before Redis is
 * called). Stored totals change with HINCRBY (exact int64) and come back as strings.
 */
import { Redis } from 'ioredis';
import { TollgateError } from '../../domain/errors.ts';
import type { Actual, Charge, CounterState, Counters, ReserveResult } from '../contract.ts';

export interface RedisCountersOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** Hash tag of every key (`{prefix}:…`), so several deployments or test runs can share a Redis. */
  prefix?: string;
  /** How long to wait for a connection, in ms, at start-up and on each reconnect. Default 1000. */
  connectTimeoutMs?: number;
  /** How long a command may take before it fails, in ms. Default 2000. */
  commandTimeoutMs?: number;
  /** Called with the first error of each outage (not once per reconnect attempt). */
  onError?: (err: Error) => void;
}

// Drops leases whose expiry is <= now, releasing what they hold into the generation they reserved on.
const DROP_EXPIRED = `
local function release(field, amount)
  local gen, counter = string.match(field, '^(%d+):(.*)$')
  if amount == '0' or redis.call('HGET', counter, 'g') ~= gen then return end
  if string.sub(amount, 1, 1) == '-' then amount = string.sub(amount, 2) else amount = '-' .. amount end
  redis.call('HINCRBY', counter, 'reserved', amount)
end
local function releaseLease(lease)
  local held = redis.call('HGETALL', lease)
  for i = 1, #held, 2 do release(held[i], held[i + 1]) end
  redis.call('DEL', lease)
end
local function dropExpired(leases, leasePrefix, now)
  local ids = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
  for _, id in ipairs(ids) do releaseLease(leasePrefix .. id) end
  if #ids > 0 then redis.call('ZREMRANGEBYSCORE', leases, '-inf', now) end
end
`;

// Reservations of several calls in one script (calls that arrived in the same event-loop turn), each
// atomic and all or nothing on its own, in order. KEYS: leases, then per call its lease and counters.
// ARGV: now, lease prefix, #calls, then per call: #counters, until, lease id, #charges, then per
// charge: counter index, amount, limit, enforce (1/0), #also, also indexes… Per call the reply is
// {'ok', state…}, {'refused', charge index, state…} or {'missing', counter indexes…}, where state is
// spent, reserved of each of its counters before it reserved.
const RESERVE = `${DROP_EXPIRED}
dropExpired(KEYS[1], ARGV[2], ARGV[1])
local out, k, p = {}, 2, 4
for r = 1, tonumber(ARGV[3]) do
  local nKeys, untilMs, leaseId, nCharges = tonumber(ARGV[p]), ARGV[p + 1], ARGV[p + 2], tonumber(ARGV[p + 3])
  p = p + 4
  local lease, base = KEYS[k], k
  k = k + 1 + nKeys
  local state, gens, missing = {}, {}, {'missing'}
  for i = 1, nKeys do
    local v = redis.call('HMGET', KEYS[base + i], 'spent', 'reserved', 'g')
    if not v[1] then missing[#missing + 1] = i end
    state[#state + 1] = v[1] or '0'
    state[#state + 1] = v[2] or '0'
    gens[i] = v[3] or '0'
  end
  local function used(i) return tonumber(state[2 * i - 1]) + tonumber(state[2 * i]) end
  local charges, refused = {}, nil
  for c = 1, nCharges do
    local idx, amount, nAlso = tonumber(ARGV[p]), ARGV[p + 1], tonumber(ARGV[p + 4])
    if #missing == 1 and not refused then
      local total = used(idx)
      for a = 1, nAlso do total = total + used(tonumber(ARGV[p + 4 + a])) end
      if ARGV[p + 3] == '1' and total + tonumber(amount) > tonumber(ARGV[p + 2]) then refused = c - 1 end
      charges[c] = {idx, amount}
    end
    p = p + 5 + nAlso
  end
  if #missing > 1 then
    out[r] = missing
  elseif refused then
    out[r] = {'refused', refused, unpack(state)}
  else
    for _, charge in ipairs(charges) do
      local counter = KEYS[base + charge[1]]
      redis.call('HINCRBY', counter, 'reserved', charge[2])
      redis.call('HINCRBY', lease, gens[charge[1]] .. ':' .. counter, charge[2])
    end
    local current = redis.call('ZSCORE', KEYS[1], leaseId)
    if not current or tonumber(current) < tonumber(untilMs) then redis.call('ZADD', KEYS[1], untilMs, leaseId) end
    out[r] = {'ok', unpack(state)}
  end
end
return out
`;

// Settlements of several calls in one script. KEYS: leases, then per call its lease and counters.
// ARGV: #calls, then per call: lease id, #counters, amounts… Per call: spent after, false when missing.
const SETTLE = `${DROP_EXPIRED}
local out, k, p = {}, 2, 2
for r = 1, tonumber(ARGV[1]) do
  local leaseId, nKeys = ARGV[p], tonumber(ARGV[p + 1])
  releaseLease(KEYS[k])
  redis.call('ZREM', KEYS[1], leaseId)
  local spent = {}
  for i = 1, nKeys do
    local counter = KEYS[k + i]
    if redis.call('EXISTS', counter) == 1 then
      redis.call('HINCRBY', counter, 'spent', ARGV[p + 1 + i])
      spent[i] = redis.call('HGET', counter, 'spent')
    else
      spent[i] = false
    end
  end
  out[r] = spent
  k = k + 1 + nKeys
  p = p + 2 + nKeys
end
return out
`;

// KEYS: leases; ARGV: until, now, lease prefix, lease ids… Drops expired leases, raises the expiry of
// those left and returns the ids that no longer exist.
const RENEW = `${DROP_EXPIRED}
dropExpired(KEYS[1], ARGV[3], ARGV[2])
local lost = {}
for i = 4, #ARGV do
  local current = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if not current then lost[#lost + 1] = ARGV[i]
  elseif tonumber(current) < tonumber(ARGV[1]) then redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i]) end
end
return lost
`;

// KEYS: counter, generation counter; ARGV: spent, expiresAt.
const SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'spent', ARGV[1], 'reserved', '0', 'g', redis.call('INCR', KEYS[2]))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`;

// KEYS: leases, counters…; ARGV: now, lease prefix. Returns spent, reserved per counter (false: missing).
const READ = `${DROP_EXPIRED}
dropExpired(KEYS[1], ARGV[2], ARGV[1])
local out = {}
for i = 2, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'spent', 'reserved')
  out[#out + 1] = v[1]
  out[#out + 1] = v[2]
end
return out
`;

const SCRIPTS = { tgReserve: RESERVE, tgSettle: SETTLE, tgRenew: RENEW, tgSeed: SEED, tgRead: READ };
type ScriptName = keyof typeof SCRIPTS;
type ScriptFn = (numKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>;

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
/** Most calls one batched script carries. */
const MAX_BATCH = 256;

export class RedisCounters implements Counters {
  /** Where the counters live, without credentials. */
  readonly location: string;
  readonly #redis: Redis;
  readonly #tag: string;
  /** Pending while the first connection attempt runs: commands wait for it instead of failing. */
  #starting: Promise<void> | undefined;
  #inOutage = false;
  /** Calls that arrive in the same event-loop turn share one script run: fewer round trips and less work on both sides. */
  readonly #reserves = new ScriptBatch((keys, args) => this.#run('tgReserve', keys, args), (leases, now) => [now, this.#leaseKey(''), leases], () => this.#leasesKey());
  readonly #settles = new ScriptBatch((keys, args) => this.#run('tgSettle', keys, args), (calls) => [calls], () => this.#leasesKey());

  /**
   * Connects in the background and reconnects after an outage on its own. While disconnected,
   * commands fail at once with an `unavailable` TollgateError: nothing is queued, so nothing hangs.
   */
  constructor(opts: RedisCountersOptions) {
    const prefix = opts.prefix ?? 'tollgate';
    if (!/^[\w.:-]+$/.test(prefix)) throw new TollgateError('internal', `Redis counters prefix must match [A-Za-z0-9_.:-]+, got ${JSON.stringify(prefix)}`);
    this.#tag = `{${prefix}}`;
    this.location = locationOf(opts.url);
    const connectTimeout = opts.connectTimeoutMs ?? 1000;
    this.#redis = new Redis(opts.url, {
      connectTimeout,
      commandTimeout: opts.commandTimeoutMs ?? 2000,
      enableOfflineQueue: false,
      // Scripts are not idempotent: a command cut off by a disconnect fails rather than runs twice.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    // EVALSHA, falling back to EVAL once per connection when Redis does not know the script yet.
    for (const [name, lua] of Object.entries(SCRIPTS)) this.#redis.defineCommand(name, { lua });
    this.#redis.on('error', (err: Error) => {
      if (this.#inOutage) return;
      this.#inOutage = true;
      opts.onError?.(err);
    });
    this.#redis.on('ready', () => {
      this.#inOutage = false;
    });
    this.#starting = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#redis.off('ready', done).off('close', done);
        this.#starting = undefined;
        resolve();
      };
      const timer = setTimeout(done, connectTimeout);
      timer.unref();
      this.#redis.once('ready', done).once('close', done);
    });
  }

  /** Connects and waits for the first attempt; resolves even when Redis is down (see `ready`). */
  static async open(opts: RedisCountersOptions): Promise<RedisCounters> {
    const counters = new RedisCounters(opts);
    await counters.ready();
    return counters;
  }

  /** Waits for the first connection attempt to end; true when connected. */
  async ready(): Promise<boolean> {
    await this.#starting;
    return this.#redis.status === 'ready';
  }

  async reserve(leaseId: string, charges: readonly Charge[], leaseUntil: number, now: number): Promise<ReserveResult> {
    const keys: string[] = [];
    const indexOf = new Map<string, number>();
    const slot = (key: string): number => {
      let i = indexOf.get(key);
      if (i === undefined) {
        i = keys.length + 1;
        indexOf.set(key, i);
        keys.push(key);
      }
      return i;
    };
    const spec: (string | number)[] = [];
    for (const [i, c] of charges.entries()) {
      const own = slot(c.key);
      const also = (c.also ?? []).map(slot);
      spec.push(own, exact(c.amount, `charge ${i} amount`), exact(c.limit, `charge ${i} limit`), c.enforce ? 1 : 0, also.length, ...also);
    }
    const args: (string | number)[] = [keys.length, time(leaseUntil, 'leaseUntil'), leaseId, charges.length, ...spec];
    const callKeys = [this.#leaseKey(leaseId), ...keys.map((k) => this.#counterKey(k))];
    return this.#reserves.add(time(now, 'now'), callKeys, args).then((reply) => {
      const [status, ...rest] = list(reply);
      if (status === 'missing') return { ok: false, missing: rest.map((i) => keys[Number(i) - 1]!) };
      const refused = status === 'refused' ? Number(rest.shift()) : -1;
      const states = pairs(rest).map((st) => st ?? { spent: 0n, reserved: 0n });
      const totals = charges.map((c) => {
        const parts = [c.key, ...(c.also ?? [])].map((k) => states[slot(k) - 1]!);
        return { spent: parts.reduce((sum, st) => sum + st.spent, 0n), reserved: parts.reduce((sum, st) => sum + st.reserved, 0n) };
      });
      if (refused >= 0) return { ok: false, refused, state: totals[refused]! };
      return { ok: true, used: totals.map((t, i) => t.spent + t.reserved + charges[i]!.amount) };
    });
  }

  async settle(leaseId: string, actual: readonly Actual[]): Promise<bigint[]> {
    const amounts = actual.map((a, i) => exact(a.amount, `actual ${i} amount`));
    const callKeys = [this.#leaseKey(leaseId), ...actual.map((a) => this.#counterKey(a.key))];
    return this.#settles.add(0, callKeys, [leaseId, actual.length, ...amounts]).then((reply) => list(reply).map((v) => (v === null ? 0n : big(v))));
  }

  async renew(leaseIds: readonly string[], leaseUntil: number, now: number): Promise<string[]> {
    if (leaseIds.length === 0) return [];
    const reply = await this.#run('tgRenew', [this.#leasesKey()], [time(leaseUntil, 'leaseUntil'), time(now, 'now'), this.#leaseKey(''), ...leaseIds]);
    return list(reply).map(String);
  }

  async seed(key: string, spent: bigint, expiresAt: number): Promise<void> {
    // PEXPIREAT takes whole milliseconds; rounding up never forgets a counter early.
    await this.#run('tgSeed', [this.#counterKey(key), `${this.#tag}:gen`], [exact(spent, 'spent'), Math.ceil(time(expiresAt, 'expiresAt'))]);
  }

  async read(keys: readonly string[], now: number): Promise<(CounterState | null)[]> {
    const reply = await this.#run('tgRead', [this.#leasesKey(), ...keys.map((k) => this.#counterKey(k))], [time(now, 'now'), this.#leaseKey('')]);
    return pairs(list(reply));
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  async #run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    if (this.#starting) await this.#starting;
    if (this.#redis.status !== 'ready') throw new TollgateError('unavailable', `Redis counters at ${this.location} are not connected (${this.#redis.status})`);
    const script = (this.#redis as unknown as Record<ScriptName, ScriptFn>)[name];
    try {
      const reply = await script.call(this.#redis, keys.length, ...keys, ...args);
      // A command timeout is reported without a reconnect, so an answer also ends the outage.
      this.#inOutage = false;
      return reply;
    } catch (err) {
      throw new TollgateError('unavailable', `Redis counters at ${this.location}: ${(err as Error).message}`, { cause: err });
    }
  }

  #counterKey(key: string): string {
    return `${this.#tag}:c:${key}`;
  }

  #leasesKey(): string {
    return `${this.#tag}:leases`;
  }

  #leaseKey(leaseId: string): string {
    return `${this.#tag}:l:${leaseId}`;
  }
}

/** A bigint Lua can compare exactly, as a decimal string. */
function exact(value: bigint, what: string): string {
  if (value > MAX_EXACT || value < -MAX_EXACT) {
    throw new TollgateError('internal', `Redis counters: ${what} ${value} is beyond 2^53-1, the exact range of Lua's double numbers`);
  }
  return value.toString();
}

function time(ms: number, what: string): number {
  if (!Number.isFinite(ms)) throw new TollgateError('internal', `Redis counters: ${what} must be a finite epoch ms, got ${ms}`);
  return ms;
}

function list(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new TollgateError('internal', `Redis counters: unexpected script reply ${String(reply)}`);
  return reply as unknown[];
}

function big(v: unknown): bigint {
  if (typeof v === 'string' || typeof v === 'number') return BigInt(v);
  throw new TollgateError('internal', `Redis counters: unexpected value ${String(v)}`);
}

/** Flat [spent, reserved, …] to states; a null spent is a missing counter. */
function pairs(flat: unknown[]): (CounterState | null)[] {
  const out: (CounterState | null)[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push(flat[i] === null ? null : { spent: big(flat[i]), reserved: big(flat[i + 1]) });
  return out;
}

function locationOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    throw new TollgateError('internal', 'Redis counters: the Redis URL is not a valid URL');
  }
}

/**
 * Collects script calls made in one event-loop turn and runs them as one script (at most
 * MAX_BATCH calls, so Redis is never blocked long); each caller gets its own part of the reply.
 */
type RunScript = (keys: string[], args: (string | number)[]) => Promise<unknown>;
/** The arguments before the calls' own: given the number of calls and the batch's clock. */
type BatchHead = (calls: number, now: number) => (string | number)[];

class ScriptBatch {
  readonly #run: RunScript;
  readonly #head: BatchHead;
  readonly #firstKey: () => string;
  #pending: { now: number; keys: string[]; args: (string | number)[]; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];

  constructor(run: RunScript, head: BatchHead, firstKey: () => string) {
    this.#run = run;
    this.#head = head;
    this.#firstKey = firstKey;
  }

  add(now: number, keys: string[], args: (string | number)[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#flush());
      this.#pending.push({ now, keys, args, resolve, reject });
    });
  }

  #flush(): void {
    const all = this.#pending;
    this.#pending = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) {
      const calls = all.slice(i, i + MAX_BATCH);
      // The latest clock of the batch: leases expired by then are dropped before any of its calls.
      const now = Math.max(...calls.map((c) => c.now));
      const keys = [this.#firstKey(), ...calls.flatMap((c) => c.keys)];
      const args = [...this.#head(calls.length, now), ...calls.flatMap((c) => c.args)];
      this.#run(keys, args).then(
        (reply) => {
          const parts = list(reply);
          for (const [j, c] of calls.entries()) c.resolve(parts[j]);
        },
        (err: unknown) => {
          for (const c of calls) c.reject(err);
        },
      );
    }
  }
}
