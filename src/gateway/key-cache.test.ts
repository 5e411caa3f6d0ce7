import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKey } from '../admin/create-key.ts';
import type { ErrorCode } from '../domain/errors.ts';
import { TollgateError } from '../domain/errors.ts';
import type { Directory, Store } from '../ledger/contract.ts';
import { openSqliteStore } from '../ledger/sqlite/sqlite-store.ts';
import { generateKeySecret, newKeyId } from '../domain/virtual-key.ts';
import { KeyCache } from './key-cache.ts';

const AGENT = 'acme/support/helpdesk/triage-bot';
const WINDOW = 1000;

/** A Directory that records which of its methods are called; `overrides` replace methods (called with the real one). */
function counting(real: Directory, overrides: Partial<Record<keyof Directory, (realMethod: (...args: unknown[]) => unknown, ...args: unknown[]) => unknown>> = {}) {
  const calls: string[] = [];
  const directory = new Proxy(real, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      // Call on the real object: KyselyDirectory keeps its state in #private fields a proxy cannot reach.
      const method = (...args: unknown[]): unknown => (value as (...a: unknown[]) => unknown).apply(target, args);
      const override = overrides[prop as keyof Directory];
      return (...args: unknown[]): unknown => {
        calls.push(String(prop));
        return override ? override(method, ...args) : method(...args);
      };
    },
  });
  return { directory, calls };
}

async function rejection(promise: Promise<unknown>): Promise<TollgateError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TollgateError);
    return err as TollgateError;
  }
  throw new Error('expected authentication to fail, it succeeded');
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<TollgateError> {
  const e = await rejection(promise);
  expect(e.code).toBe(code);
  return e;
}

describe('KeyCache over a real SQLite store', () => {
  let dir: string;
  let file: string;
  let store: Store;
  const opened: Store[] = [];
  let t: number;
  const now = () => t;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-key-cache-'));
    file = join(dir, 'tollgate.db');
    store = await openSqliteStore(file);
    opened.push(store);
    t = Date.now();
  });

  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates a key and returns its owner chain', async () => {
    const created = await createKey(store, { scope: AGENT, name: 'ci', actor: 'test' });
    const cache = new KeyCache(store.directory, { now });
    const key = await cache.authenticate(created.secret);

    const [org, team, project, agent] = await Promise.all(['acme', 'acme/support', 'acme/support/helpdesk', AGENT].map((p) => store.directory.getScope(p)));
    expect(key.id).toBe(created.key.id);
    expect(key.state).toBe('active');
    expect(key.kind).toBe('agent');
    expect(key.name).toBe('ci');
    expect(key.scopePath).toBe(AGENT);
    expect(key.scopeArchived).toBe(false);
    expect(key.hash).toBe(createHash('sha256').update(created.secret).digest('hex'));
    expect(key.chain).toEqual({
      orgId: org?.id,
      orgName: 'acme',
      teamId: team?.id,
      teamName: 'support',
      projectId: project?.id,
      projectName: 'helpdesk',
      agentId: agent?.id,
      agentName: 'triage-bot',
    });
    expect(new Set([org?.id, team?.id, project?.id, agent?.id]).size).toBe(4);
    expect(cache.size).toBe(1);
  });

  it.each(['', 'sk-proj-abc', 'tg-short', 'Bearer tg-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'tg-' + 'A'.repeat(44)])(
    'refuses the malformed secret %j without touching the database',
    async (secret) => {
      const { directory, calls } = counting(store.directory);
      const e = await expectCode(new KeyCache(directory, { now }).authenticate(secret), 'key_invalid');
      expect(e.status).toBe(401);
      expect(e.message).toContain('invalid virtual key');
      expect(calls).toEqual([]);
    },
  );

  it('refuses a well-formed key that was never issued', async () => {
    await createKey(store, { scope: AGENT, actor: 'test' });
    const e = await expectCode(new KeyCache(store.directory, { now }).authenticate('tg-' + 'A'.repeat(43)), 'key_invalid');
    expect(e.message).toContain('unknown virtual key');
  });

  it('refuses a suspended key, and accepts it again once resumed', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    await store.directory.setKeyState(created.key.id, 'suspended', 'test');
    const cache = new KeyCache(store.directory, { now });
    const e = await expectCode(cache.authenticate(created.secret), 'key_suspended');
    expect(e.status).toBe(403);
    expect(e.message).toContain(created.key.display);

    await store.directory.setKeyState(created.key.id, 'active', 'test');
    t += WINDOW;
    expect((await cache.authenticate(created.secret)).state).toBe('active');
  });

  it('refuses a revoked key once the staleness window has passed, and not before', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    const cache = new KeyCache(store.directory, { now, checkEveryMs: WINDOW });
    await cache.authenticate(created.secret);

    await store.directory.setKeyState(created.key.id, 'revoked', 'test');
    // Within the window the cache may serve the old state: that is the documented staleness.
    t += WINDOW - 1;
    expect((await cache.authenticate(created.secret)).state).toBe('active');
    t += 1;
    const e = await expectCode(cache.authenticate(created.secret), 'key_revoked');
    expect(e.status).toBe(401);
    expect(cache.size).toBe(0);
    // Still refused on every later attempt (revoked keys are not cached, the database says so each time).
    await expectCode(cache.authenticate(created.secret), 'key_revoked');
  });

  it('refuses a key revoked before the cache ever saw it', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    await store.directory.setKeyState(created.key.id, 'revoked', 'test');
    await expectCode(new KeyCache(store.directory, { now }).authenticate(created.secret), 'key_revoked');
  });

  it('sees a local change at once after reload()', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    const cache = new KeyCache(store.directory, { now });
    await cache.authenticate(created.secret);
    await store.directory.setKeyState(created.key.id, 'suspended', 'test');
    await cache.reload();
    await expectCode(cache.authenticate(created.secret), 'key_suspended');
  });

  it('refuses an expired key, the instant of expiry included', async () => {
    const created = await createKey(store, { scope: AGENT, expiresAt: t + 60_000, actor: 'test', now: t });
    const cache = new KeyCache(store.directory, { now });
    expect((await cache.authenticate(created.secret)).expiresAt).toBe(t + 60_000);
    t += 59_999;
    await cache.authenticate(created.secret);
    t += 1;
    const e = await expectCode(cache.authenticate(created.secret), 'key_expired');
    expect(e.status).toBe(401);
    expect(e.message).toContain(new Date(t).toISOString());
  });

  it('refuses a key whose scope or an ancestor is archived', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    const sibling = await createKey(store, { scope: 'acme/billing/invoices/bot', actor: 'test' });
    const cache = new KeyCache(store.directory, { now });
    await cache.authenticate(created.secret);

    expect(await store.directory.archiveScope('acme/support', 'test')).toBe(3);
    t += WINDOW;
    const e = await expectCode(cache.authenticate(created.secret), 'scope_archived');
    expect(e.status).toBe(403);
    expect(e.message).toContain(AGENT);
    expect((await cache.authenticate(sibling.secret)).scopePath).toBe('acme/billing/invoices/bot');
  });

  it('finds a key created after it loaded, asking the database once and then caching it', async () => {
    const first = await createKey(store, { scope: AGENT, actor: 'test' });
    const { directory, calls } = counting(store.directory);
    const cache = new KeyCache(directory, { now });
    await cache.authenticate(first.secret);
    expect(calls).toEqual(['version', 'loadKeys']);

    const later = await createKey(store, { scope: 'acme/support/helpdesk/escalation-bot', actor: 'test' });
    calls.length = 0;
    const key = await cache.authenticate(later.secret);
    expect(key.id).toBe(later.key.id);
    expect(key.chain?.agentName).toBe('escalation-bot');
    expect(calls).toEqual(['findKeyByHash']);

    calls.length = 0;
    await cache.authenticate(later.secret);
    expect(calls).toEqual([]);
    expect(cache.size).toBe(2);
  });

  it('sees a revocation made by another replica once the check interval passes, and not before', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    const replica = await openSqliteStore(file);
    opened.push(replica);
    const cache = new KeyCache(store.directory, { now, checkEveryMs: WINDOW });
    await cache.authenticate(created.secret);

    await replica.directory.setKeyState(created.key.id, 'revoked', 'admin-on-replica-b');
    t += WINDOW / 2;
    expect((await cache.authenticate(created.secret)).id).toBe(created.key.id);
    t += WINDOW / 2 - 1;
    expect((await cache.authenticate(created.secret)).id).toBe(created.key.id);
    t += 1;
    await expectCode(cache.authenticate(created.secret), 'key_revoked');
  });

  it('finds a key issued by another replica straight away', async () => {
    const first = await createKey(store, { scope: AGENT, actor: 'test' });
    const replica = await openSqliteStore(file);
    opened.push(replica);
    const cache = new KeyCache(store.directory, { now });
    await cache.authenticate(first.secret);
    const elsewhere = await createKey(replica, { scope: 'acme/sales/crm/lead-bot', actor: 'test' });
    expect((await cache.authenticate(elsewhere.secret)).chain?.teamName).toBe('sales');
  });

  it('costs zero directory calls for 1000 authentications of a cached key within the window', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    const { directory, calls } = counting(store.directory);
    const cache = new KeyCache(directory, { now, checkEveryMs: WINDOW });
    await cache.authenticate(created.secret);
    expect(calls).toEqual(['version', 'loadKeys']);

    calls.length = 0;
    const start = t;
    for (let i = 0; i < 1000; i++) {
      t = start + (i % WINDOW);
      expect((await cache.authenticate(created.secret)).id).toBe(created.key.id);
    }
    expect(calls).toEqual([]);

    // Past the window, one version check; nothing changed, so no reload.
    t = start + WINDOW;
    await cache.authenticate(created.secret);
    expect(calls).toEqual(['version']);
  });

  it('keeps serving loaded keys when the directory hangs (a partition), instead of holding every call', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    let hang = false;
    const { directory } = counting(store.directory, {
      version: (real) => (hang ? new Promise<never>(() => undefined) : real()),
    });
    const cache = new KeyCache(directory, { now, checkEveryMs: 1000 });
    expect((await cache.authenticate(created.secret)).id).toBe(created.key.id);
    hang = true;
    t += 5000;
    // Without the bounded wait this call would wait for the partition to end (here: forever).
    expect((await cache.authenticate(created.secret)).id).toBe(created.key.id);
  });

  it('shares one refresh among concurrent requests', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    const { directory, calls } = counting(store.directory);
    const cache = new KeyCache(directory, { now });
    const keys = await Promise.all(Array.from({ length: 50 }, () => cache.authenticate(created.secret)));
    expect(keys.every((k) => k.id === created.key.id)).toBe(true);
    expect(calls).toEqual(['version', 'loadKeys']);
  });

  it('reload() after a local change is not fooled by a refresh that read the keys before it', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    let hold = false;
    let reached!: () => void;
    const loaded = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { directory } = counting(store.directory, {
      loadKeys: async (real) => {
        const rows = await real();
        if (hold) {
          reached();
          await gate;
        }
        return rows;
      },
    });
    const cache = new KeyCache(directory, { now });
    await cache.authenticate(created.secret);

    // Another change moves the version, so the next refresh reloads; hold that reload after it has read.
    await createKey(store, { scope: 'acme/support/helpdesk/other', actor: 'test' });
    hold = true;
    t += WINDOW;
    const inFlight = cache.authenticate(created.secret);
    await loaded;
    hold = false;

    // The local change, then the reload its author relies on.
    await store.directory.setKeyState(created.key.id, 'revoked', 'test');
    const reloaded = cache.reload();
    release();
    await inFlight;
    await reloaded;

    await expectCode(cache.authenticate(created.secret), 'key_revoked');
  });

  it('refuses viewer keys: they read reports, they do not make model calls', async () => {
    const agent = await createKey(store, { scope: AGENT, actor: 'test' });
    const team = await store.directory.getScope('acme/support');
    const s = generateKeySecret('viewer');
    await store.directory.insertKey({ id: newKeyId(), hash: s.hash, display: s.display, kind: 'viewer', scopeId: team!.id, name: 'v', expiresAt: null }, 'test');
    const cache = new KeyCache(store.directory, { now });
    await expect(cache.authenticate(agent.secret)).resolves.toMatchObject({ kind: 'agent' });
    const e = await expectCode(cache.authenticate(s.secret), 'key_invalid');
    expect(e.message).toContain('viewer key');
  });

  it('asks the database about an unknown key once per reload, not once per attempt', async () => {
    const { directory, calls } = counting(store.directory);
    const cache = new KeyCache(directory, { now });
    const stranger = generateKeySecret().secret;
    for (let i = 0; i < 100; i++) await expectCode(cache.authenticate(stranger), 'key_invalid');
    expect(calls.filter((c) => c === 'findKeyByHash').length).toBe(1);
    // Once the directory changes, the next reload forgets the misses: a key issued meanwhile is found.
    await createKey(store, { scope: AGENT, actor: 'test' });
    t += WINDOW;
    await expectCode(cache.authenticate(stranger), 'key_invalid');
    expect(calls.filter((c) => c === 'findKeyByHash').length).toBe(2);
  });

  it('keeps serving known keys through a database outage, and says "unavailable" when it cannot know', async () => {
    const created = await createKey(store, { scope: AGENT, actor: 'test' });
    let down = false;
    const fail = (real: (...a: unknown[]) => unknown, ...args: unknown[]) => (down ? Promise.reject(new Error('connection refused')) : real(...args));
    const { directory } = counting(store.directory, { version: fail, loadKeys: fail, findKeyByHash: fail });
    const cache = new KeyCache(directory, { now });
    await cache.authenticate(created.secret);
    down = true;
    t += WINDOW * 5;
    await expect(cache.authenticate(created.secret)).resolves.toMatchObject({ id: created.key.id });
    await expectCode(cache.authenticate(generateKeySecret().secret), 'unavailable');

    const cold = new KeyCache(directory, { now });
    await expectCode(cold.authenticate(created.secret), 'unavailable');
  });
});
