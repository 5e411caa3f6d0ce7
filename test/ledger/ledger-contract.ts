/**
 * The storage contract, run against every backend: each backend's test file is a few lines that
 * call `runStoreContract` with a way to open a fresh store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TollgateError } from '../../src/domain/errors.ts';
import { usage } from '../../src/domain/usage.ts';
import { generateKeySecret, newKeyId } from '../../src/domain/virtual-key.ts';
import type { LedgerEvent, ScanQuery, ScanRow, Store } from '../../src/ledger/contract.ts';
import { chainOf, makeEvent } from '../support/events.ts';

export interface ContractOptions {
  name: string;
  /** Opens a fresh, empty store. Called once per suite. */
  open: () => Promise<Store>;
  /** Cleans up after the suite (drop schema, delete file). */
  dispose?: () => Promise<void>;
  /** Whether to run the 1M-row exact-sum test (slow on a remote database). */
  millionRows?: boolean;
}

const OCT = Date.UTC(2026, 9, 1);
const NOV = Date.UTC(2026, 10, 1);
/** The scan tests' month: no other test of the suite records calls in it. */
const JAN = Date.UTC(2027, 0, 1);

/** What `scan` should return for an event. */
function scanned(e: LedgerEvent): ScanRow {
  const r = e.routing;
  return {
    id: e.id,
    startedAt: e.startedAt,
    chain: e.chain,
    provider: e.provider,
    servedModel: e.servedModel,
    usage: e.usage,
    listCostNano: e.listCostNano,
    effectiveCostNano: e.effectiveCostNano,
    routing: r ? { alias: r.alias, tier: r.tier, escalatedFrom: r.escalatedFrom, frontier: r.frontier } : null,
  };
}

/** Every batch of a scan, checked to be non-empty and within the batch size. */
async function scanAll(store: Store, query: ScanQuery): Promise<{ rows: ScanRow[]; batches: number }> {
  const rows: ScanRow[] = [];
  let batches = 0;
  for await (const batch of store.ledger.scan(query)) {
    expect(batch.length).toBeGreaterThan(0);
    if (query.batchSize !== undefined) expect(batch.length).toBeLessThanOrEqual(query.batchSize);
    rows.push(...batch);
    batches++;
  }
  return { rows, batches };
}

export function runStoreContract(opts: ContractOptions): void {
  describe(`store contract: ${opts.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await opts.open();
    });
    afterAll(async () => {
      await store?.close();
      await opts.dispose?.();
    });

    describe('scopes', () => {
      it('creates the missing tiers of a path and says which', async () => {
        const first = await store.directory.ensureScope('acme/support/helpdesk/triage-bot', { create: true, actor: 'test' });
        expect(first.created).toEqual(['acme', 'acme/support', 'acme/support/helpdesk', 'acme/support/helpdesk/triage-bot']);
        expect(first.nodes.map((n) => n.tier)).toEqual(['org', 'team', 'project', 'agent']);
        expect(first.nodes[3]?.parentId).toBe(first.nodes[2]?.id);

        const again = await store.directory.ensureScope('acme/support/helpdesk/triage-bot', { create: true, actor: 'test' });
        expect(again.created).toEqual([]);
        expect(again.nodes.map((n) => n.id)).toEqual(first.nodes.map((n) => n.id));

        const sibling = await store.directory.ensureScope('acme/support/helpdesk/summariser', { create: true, actor: 'test' });
        expect(sibling.created).toEqual(['acme/support/helpdesk/summariser']);
      });

      it('refuses to create when told not to, and rejects malformed paths', async () => {
        await expect(store.directory.ensureScope('acme/sales/crm/bot', { create: false, actor: 'test' })).rejects.toMatchObject({ code: 'not_found' });
        expect(await store.directory.getScope('acme/sales')).toBeNull();
        for (const bad of ['', 'Acme/x', 'a/b/c/d/e', 'acme//x', 'acme/ space', 'acme/-x']) {
          await expect(store.directory.ensureScope(bad, { create: true, actor: 'test' })).rejects.toBeInstanceOf(TollgateError);
        }
      });

      it('lists a subtree in path order without matching look-alike prefixes', async () => {
        await store.directory.ensureScope('acme/support_x/p/a', { create: true, actor: 'test' });
        const under = await store.directory.listScopes({ under: 'acme/support' });
        expect(under.map((n) => n.path)).toEqual([
          'acme/support',
          'acme/support/helpdesk',
          'acme/support/helpdesk/summariser',
          'acme/support/helpdesk/triage-bot',
        ]);
      });

      it('renames a node and moves the paths beneath it, keeping ids', async () => {
        await store.directory.ensureScope('globex/ops/billing/bot-1', { create: true, actor: 'test' });
        const before = await store.directory.getScope('globex/ops/billing/bot-1');
        const renamed = await store.directory.renameScope('globex/ops', { slug: 'operations', name: 'Operations' }, 'alice');
        expect(renamed.path).toBe('globex/operations');
        expect(renamed.name).toBe('Operations');
        const after = await store.directory.getScope('globex/operations/billing/bot-1');
        expect(after?.id).toBe(before?.id);
        expect(await store.directory.getScope('globex/ops/billing/bot-1')).toBeNull();
        await store.directory.ensureScope('globex/infra', { create: true, actor: 'test' });
        await expect(store.directory.renameScope('globex/infra', { slug: 'operations' }, 'alice')).rejects.toMatchObject({ code: 'conflict' });
        const audit = await store.directory.audit({ target: 'globex/ops' });
        expect(audit[0]).toMatchObject({ action: 'scope.rename', actor: 'alice', before: { path: 'globex/ops' }, after: { path: 'globex/operations' } });
      });

      it('archives a subtree, hides it from lists, and refuses new keys there', async () => {
        await store.directory.ensureScope('initech/tps/reports/bot', { create: true, actor: 'test' });
        const agent = await store.directory.getScope('initech/tps/reports/bot');
        expect(await store.directory.archiveScope('initech/tps', 'bob')).toBe(3);
        expect((await store.directory.listScopes({ under: 'initech' })).map((n) => n.path)).toEqual(['initech']);
        expect((await store.directory.listScopes({ under: 'initech', includeArchived: true })).length).toBe(4);
        const s = generateKeySecret();
        await expect(
          store.directory.insertKey({ id: newKeyId(), hash: s.hash, display: s.display, kind: 'agent', scopeId: agent!.id, name: 'k', expiresAt: null }, 'bob'),
        ).rejects.toMatchObject({ code: 'scope_archived' });
        await expect(store.directory.ensureScope('initech/tps/reports/bot2', { create: true, actor: 'bob' })).rejects.toMatchObject({ code: 'scope_archived' });
      });
    });

    describe('keys', () => {
      it('stores only the hash and resolves the whole chain from it', async () => {
        const { nodes } = await store.directory.ensureScope('acme/support/helpdesk/triage-bot', { create: true, actor: 'test' });
        const agent = nodes[3]!;
        const s = generateKeySecret();
        const v0 = await store.directory.version();
        const rec = await store.directory.insertKey({ id: newKeyId(), hash: s.hash, display: s.display, kind: 'agent', scopeId: agent.id, name: 'prod', expiresAt: null }, 'test');
        expect(rec).toMatchObject({ state: 'active', scopePath: 'acme/support/helpdesk/triage-bot', display: s.display });
        expect(await store.directory.version()).toBeGreaterThan(v0);

        const found = await store.directory.findKeyByHash(s.hash);
        expect(found?.chain).toEqual({
          orgId: nodes[0]!.id,
          orgName: 'acme',
          teamId: nodes[1]!.id,
          teamName: 'support',
          projectId: nodes[2]!.id,
          projectName: 'helpdesk',
          agentId: agent.id,
          agentName: 'triage-bot',
        });
        expect(found?.scopeArchived).toBe(false);
        expect(await store.directory.findKeyByHash(generateKeySecret().hash)).toBeNull();
        expect((await store.directory.loadKeys()).some((k) => k.id === rec.id && k.chain?.agentId === agent.id)).toBe(true);
        expect(JSON.stringify(await store.directory.audit({ limit: 1000 }))).not.toContain(s.secret);
      });

      it('refuses an agent key on a non-agent scope', async () => {
        const team = await store.directory.getScope('acme/support');
        const s = generateKeySecret();
        await expect(
          store.directory.insertKey({ id: newKeyId(), hash: s.hash, display: s.display, kind: 'agent', scopeId: team!.id, name: 'x', expiresAt: null }, 'test'),
        ).rejects.toMatchObject({ code: 'invalid_request' });
      });

      it('suspends, re-activates and revokes (finally), found by id or display prefix', async () => {
        const agent = await store.directory.getScope('acme/support/helpdesk/summariser');
        const s = generateKeySecret();
        const id = newKeyId();
        await store.directory.insertKey({ id, hash: s.hash, display: s.display, kind: 'agent', scopeId: agent!.id, name: 'tmp', expiresAt: Date.now() + 86_400_000 }, 'test');
        expect((await store.directory.setKeyState(s.display.slice(0, 9), 'suspended', 'carol')).state).toBe('suspended');
        expect((await store.directory.findKeyByHash(s.hash))?.state).toBe('suspended');
        expect((await store.directory.setKeyState(id, 'active', 'carol')).state).toBe('active');
        const revoked = await store.directory.setKeyState(id, 'revoked', 'carol');
        expect(revoked.state).toBe('revoked');
        expect(revoked.revokedAt).not.toBeNull();
        await expect(store.directory.setKeyState(id, 'active', 'carol')).rejects.toMatchObject({ code: 'conflict' });
        expect((await store.directory.listKeys({ under: 'acme/support' })).some((k) => k.id === id)).toBe(false);
        expect((await store.directory.listKeys({ under: 'acme/support', includeRevoked: true })).some((k) => k.id === id)).toBe(true);
        expect((await store.directory.loadKeys()).some((k) => k.id === id)).toBe(false);
        await expect(store.directory.setKeyState('key_doesnotexist', 'revoked', 'carol')).rejects.toMatchObject({ code: 'not_found' });
        const actions = (await store.directory.audit({ target: id })).map((a) => a.action);
        expect(actions).toEqual(['key.revoke', 'key.activate', 'key.suspend', 'key.create']);
      });
    });

    describe('ledger', () => {
      const a1 = chainOf('acme/support/helpdesk/triage-bot');
      const a2 = chainOf('acme/support/helpdesk/summariser');
      const b1 = chainOf('acme/eng/ci/review-bot');

      it('records idempotently and keeps rollups equal to the events', async () => {
        const events = [
          makeEvent(a1, { startedAt: OCT + 3_600_000 + 5, listCostNano: 1_000n, effectiveCostNano: 800n }),
          makeEvent(a1, { startedAt: OCT + 3_600_000 + 10, listCostNano: 2_000n, effectiveCostNano: 1_600n, status: 429, errorCode: 'rate_limited' }),
          makeEvent(a2, { startedAt: OCT + 7_200_000, listCostNano: 3_000n, effectiveCostNano: 2_400n, estimated: true }),
          makeEvent(b1, { startedAt: OCT + 86_400_000, servedModel: 'gpt-4o-2024-08-06', provider: 'openai', listCostNano: 4_000n, effectiveCostNano: 4_000n }),
          makeEvent(b1, { startedAt: OCT + 86_400_000, servedModel: 'mystery-1', provider: 'vllm', listCostNano: 0n, effectiveCostNano: 0n, priceSource: 'unpriced' }),
        ];
        expect(await store.ledger.record(events)).toEqual({ inserted: 5, duplicates: 0 });
        // Replaying the same batch (a retry after a lost acknowledgement) changes nothing.
        expect(await store.ledger.record([...events, events[0]!])).toEqual({ inserted: 0, duplicates: 6 });

        const byTeam = await store.ledger.spend({ from: OCT, to: NOV, groupBy: 'team' });
        expect(byTeam.map((r) => [r.key, r.calls, r.listCostNano, r.effectiveCostNano])).toEqual([
          [a1.teamId, 3, 6_000n, 4_800n],
          [b1.teamId, 2, 4_000n, 4_000n],
        ]);
        const support = byTeam[0]!;
        expect(support).toMatchObject({ errors: 1, estimatedCalls: 1, unpricedCalls: 0, inputTokens: 3000n, outputTokens: 600n });
        expect(byTeam[1]).toMatchObject({ unpricedCalls: 1 });

        const agents = await store.ledger.spend({ from: OCT, to: NOV, groupBy: 'agent', within: { tier: 'team', id: a1.teamId } });
        // Equal spend: ties are broken by id, so the order is stable.
        expect(agents.map((r) => [r.key, r.effectiveCostNano])).toEqual([
          [a2.agentId, 2_400n],
          [a1.agentId, 2_400n],
        ]);
        const models = await store.ledger.spend({ from: OCT, to: NOV, groupBy: 'model' });
        expect(models.map((r) => r.key).sort()).toEqual(['claude-sonnet-4-5-20250929', 'gpt-4o-2024-08-06', 'mystery-1']);

        const totals = await store.ledger.totals({ from: OCT, to: NOV });
        expect(totals).toEqual({ calls: 5, listCostNano: 10_000n, effectiveCostNano: 8_800n });
        // The rollups and the raw events agree.
        expect(byTeam.reduce((s, r) => s + r.effectiveCostNano, 0n)).toBe(totals.effectiveCostNano);
      });

      it('keeps a batch atomic: a bad row stores nothing, rollups included', async () => {
        const c = chainOf('atomic/t/p/a');
        const good = makeEvent(c, { startedAt: OCT + 1, listCostNano: 5n, effectiveCostNano: 5n });
        const bad = makeEvent(c, { startedAt: OCT + 2, provider: null as unknown as string });
        await expect(store.ledger.record([good, bad])).rejects.toThrow();
        expect((await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).calls).toBe(0);
        expect(await store.ledger.spend({ from: OCT, to: NOV, groupBy: 'org', within: { tier: 'org', id: c.orgId } })).toEqual([]);
        expect(await store.ledger.record([good])).toEqual({ inserted: 1, duplicates: 0 });
      });

      it('records concurrent, overlapping batches exactly once', async () => {
        const c = chainOf('race/t/p/a');
        const events = Array.from({ length: 200 }, (_, i) => makeEvent(c, { startedAt: OCT + i * 60_000, listCostNano: BigInt(i + 1), effectiveCostNano: BigInt(i + 1) }));
        const batches = Array.from({ length: 8 }, (_, k) => events.filter((_, i) => (i + k) % 3 !== 0));
        const results = await Promise.all(batches.map((b) => store.ledger.record(b)));
        expect(results.reduce((s, r) => s + r.inserted, 0)).toBe(200);
        const expected = (200n * 201n) / 2n;
        expect((await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).effectiveCostNano).toBe(expected);
        const [row] = await store.ledger.spend({ from: OCT, to: NOV, groupBy: 'org', within: { tier: 'org', id: c.orgId } });
        expect(row?.effectiveCostNano).toBe(expected);
        expect(row?.calls).toBe(200);
      });

      it('answers any hour-aligned range from rollups exactly as the raw events do', async () => {
        const c = chainOf('ranges/t/p/a');
        const H = 3_600_000;
        // 400 events over ~6 days at irregular times, with odd costs.
        const events = Array.from({ length: 400 }, (_, i) =>
          makeEvent(c, { startedAt: OCT + ((i * 7_919_993) % (6 * 24 * H)), listCostNano: BigInt(1 + ((i * 37) % 101)), effectiveCostNano: BigInt(1 + ((i * 53) % 97)) }),
        );
        await store.ledger.record(events);
        const ranges: [number, number][] = [
          [OCT, OCT + 6 * 24 * H], // whole days only
          [OCT + 5 * H, OCT + 3 * 24 * H + 7 * H], // ragged both ends
          [OCT + 26 * H, OCT + 29 * H], // inside one day
          [OCT + 24 * H, OCT + 48 * H + 1], // "to" rounds up to the next hour
          [OCT + 30 * H, OCT + 30 * H], // empty
        ];
        for (const [from, to] of ranges) {
          const rolled = await store.ledger.spend({ from, to, groupBy: 'agent', within: { tier: 'org', id: c.orgId } });
          const raw = await store.ledger.totals({ from: Math.floor(from / H) * H, to: Math.ceil(to / H) * H, within: { tier: 'org', id: c.orgId } });
          expect([rolled[0]?.calls ?? 0, rolled[0]?.effectiveCostNano ?? 0n, rolled[0]?.listCostNano ?? 0n]).toEqual([raw.calls, raw.effectiveCostNano, raw.listCostNano]);
        }
      });

      it('gives the series per hour and per day, each bucket equal to the raw events in it', async () => {
        const c = chainOf('series/t/p/a');
        const d = chainOf('series/t/p/b');
        const H = 3_600_000;
        const events = Array.from({ length: 300 }, (_, i) =>
          makeEvent(i % 3 === 0 ? d : c, { startedAt: OCT + ((i * 4_999_999) % (3 * 24 * H)), listCostNano: BigInt(1 + (i % 11)), effectiveCostNano: BigInt(1 + ((i * 7) % 13)) }),
        );
        await store.ledger.record(events);
        const within = { tier: 'org' as const, id: c.orgId };
        for (const bucket of ['hour', 'day'] as const) {
          const ms = bucket === 'hour' ? H : 24 * H;
          const rows = await store.ledger.series({ from: OCT + 5 * H + 1, to: OCT + 50 * H, groupBy: 'agent', within, bucket });
          expect(rows.length).toBeGreaterThan(0);
          expect(rows.map((r) => r.at)).toEqual([...rows.map((r) => r.at)].sort((a, b) => a - b));
          for (const r of rows) {
            expect(r.at % ms).toBe(0);
            const raw = await store.ledger.totals({ from: r.at, to: r.at + ms, within: { tier: 'agent', id: r.key } });
            expect([r.calls, r.effectiveCostNano]).toEqual([raw.calls, raw.effectiveCostNano]);
          }
          // Buckets are rounded out: the series covers the events of every bucket the range touches.
          const first = Math.floor((OCT + 5 * H + 1) / ms) * ms;
          const last = Math.ceil((OCT + 50 * H) / ms) * ms;
          const total = await store.ledger.totals({ from: first, to: last, within });
          expect(rows.reduce((s, r) => s + r.effectiveCostNano, 0n)).toBe(total.effectiveCostNano);
        }
      });

      it('sums beyond 2^53 exactly', async () => {
        const c = chainOf('whale/t/p/a');
        const big = 2n ** 60n + 7n; // ≈ $1.15 billion in nano-USD, odd on purpose
        await store.ledger.record([
          makeEvent(c, { startedAt: OCT + 1, listCostNano: big, effectiveCostNano: big }),
          makeEvent(c, { startedAt: OCT + 2, listCostNano: 1n, effectiveCostNano: 3n }),
        ]);
        const t = await store.ledger.totals({ within: { tier: 'org', id: c.orgId } });
        expect(t.listCostNano).toBe(big + 1n);
        expect(t.effectiveCostNano).toBe(big + 3n);
        const [r] = await store.ledger.spend({ from: OCT, to: NOV, groupBy: 'org', within: { tier: 'org', id: c.orgId } });
        expect(r?.listCostNano).toBe(big + 1n);
      });

      it('pages raw events newest first with an opaque cursor, round-tripping every field', async () => {
        const c = chainOf('pages/t/p/a');
        const events: LedgerEvent[] = Array.from({ length: 25 }, (_, i) =>
          makeEvent(c, {
            startedAt: OCT + Math.floor(i / 2) * 1000, // pairs share a timestamp: the cursor must break ties by id
            traceId: i % 5 === 0 ? 'trace-1' : null,
            stream: i % 2 === 0,
            tags: { customer: `cust-${i % 3}`, env: 'prod' },
            usage: usage({ inputTokens: i, cacheReadTokens: 2, cacheWrite5mTokens: 3, cacheWrite1hTokens: 4, outputTokens: 10, reasoningTokens: 6 }),
          }),
        );
        await store.ledger.record(events);
        const seen: LedgerEvent[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const res = await store.ledger.events({ within: { tier: 'agent', id: c.agentId }, limit: 10, ...(cursor ? { cursor } : {}) });
          seen.push(...res.rows);
          if (!res.nextCursor) break;
          cursor = res.nextCursor;
        }
        expect(seen.length).toBe(25);
        expect(new Set(seen.map((e) => e.id)).size).toBe(25);
        for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.startedAt).toBeGreaterThanOrEqual(seen[i]!.startedAt);
        const byId = new Map(events.map((e) => [e.id, e]));
        for (const e of seen) expect(e).toEqual(byId.get(e.id));
        expect(await store.ledger.get(events[3]!.id)).toEqual(events[3]);
        expect(await store.ledger.get('req_missing')).toBeNull();
        expect((await store.ledger.events({ traceId: 'trace-1' })).rows.length).toBe(5);
        await expect(store.ledger.events({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'invalid_request' });
      });

      describe('scan', () => {
        const H = 3_600_000;
        const x1 = chainOf('scan/support/helpdesk/bot');
        const x2 = chainOf('scan/support/helpdesk/summariser');
        const y1 = chainOf('scan/eng/ci/fixer');
        // 90 calls over three days; every third timestamp is shared by three calls whose ids run against
        // the insertion order, so ties are broken by id and not by the order rows went in. Ids have one
        // shape (fixed length, lower case) so any collation orders them as JavaScript does.
        const events: LedgerEvent[] = Array.from({ length: 90 }, (_, i) => {
          const chain = [x1, x2, y1][i % 3]!;
          const routed = i % 4 !== 0;
          return makeEvent(chain, {
            id: `scan-${String(500 - i).padStart(4, '0')}`,
            startedAt: JAN + Math.floor(i / 3) * 2 * H + (i % 7 === 0 ? 1 : 0),
            provider: i % 5 === 0 ? 'openai' : 'anthropic',
            servedModel: i % 5 === 0 ? 'gpt-4.1-mini' : 'claude-sonnet-4-5',
            usage: usage({ inputTokens: 1000 + i, cacheReadTokens: i, cacheWrite5mTokens: 2 * i, cacheWrite1hTokens: i % 3, outputTokens: 40 + i, reasoningTokens: i % 2, requests: 1 + (i % 2) }),
            // One call past 2^53 nano-USD: sums and rows stay exact.
            listCostNano: i === 17 ? 2n ** 60n + 11n : BigInt(1_000_003 * (i + 1)),
            effectiveCostNano: i === 17 ? 2n ** 59n + 5n : BigInt(900_001 * (i + 1)),
            ...(routed
              ? { routing: { alias: 'auto', tier: i % 3 === 0 ? 'frontier' : 'budget', reason: 'test', escalatedFrom: i % 8 === 1 ? `scan-${String(501 - i).padStart(4, '0')}` : null, frontier: i % 3 === 0 ? null : 'anthropic/claude-opus-4-1' } }
              : {}),
          });
        });
        const key = (e: { startedAt: number; id: string }) => `${String(e.startedAt).padStart(16, '0')} ${e.id}`;
        const expected = (q: ScanQuery) =>
          events
            .filter((e) => e.startedAt >= q.from && e.startedAt < q.to)
            .filter((e) => !q.within || e.chain[`${q.within.tier}Id`] === q.within.id)
            .filter((e) => !q.routedOnly || e.routing !== undefined)
            .sort((a, b) => (key(a) < key(b) ? -1 : 1))
            .map(scanned);

        beforeAll(async () => {
          await store.ledger.record(events);
        });

        it('returns the rows of totals(), oldest first, each once, across batch boundaries, with exact costs', async () => {
          const windows: Omit<ScanQuery, 'batchSize'>[] = [
            { from: JAN, to: JAN + 3 * 24 * H },
            // Starts on a shared timestamp (inclusive) and ends on another (exclusive).
            { from: JAN + 6 * H, to: JAN + 40 * H },
            { from: JAN + 6 * H + 1, to: JAN + 40 * H + 2 },
            { from: JAN, to: JAN + 3 * 24 * H, within: { tier: 'team', id: x1.teamId } },
            { from: JAN + 5 * H, to: JAN + 50 * H, within: { tier: 'agent', id: y1.agentId } },
            { from: JAN, to: JAN + 3 * 24 * H, within: { tier: 'org', id: x1.orgId }, routedOnly: true },
            { from: JAN + 10 * H, to: JAN + 30 * H, within: { tier: 'project', id: x2.projectId }, routedOnly: true },
            { from: JAN + 30 * H, to: JAN + 30 * H },
          ];
          for (const w of windows) {
            const want = expected(w);
            const totals = await store.ledger.totals({ from: w.from, to: w.to, ...(w.within ? { within: w.within } : {}), ...(w.routedOnly ? { routed: true } : {}) });
            expect(totals.calls).toBe(want.length);
            for (const batchSize of [1, 4, 7, want.length || 1, undefined]) {
              const { rows, batches } = await scanAll(store, { ...w, ...(batchSize === undefined ? {} : { batchSize }) });
              expect(rows).toEqual(want);
              // The default batch holds all of these.
              expect(batches).toBe(Math.ceil(want.length / (batchSize ?? Math.max(want.length, 1))));
              expect({ calls: rows.length, listCostNano: rows.reduce((s, r) => s + r.listCostNano, 0n), effectiveCostNano: rows.reduce((s, r) => s + r.effectiveCostNano, 0n) }).toEqual(totals);
            }
          }
          // The whole month holds the call past 2^53: its sum must not have passed through a float.
          const all = await scanAll(store, { from: JAN, to: JAN + 3 * 24 * H, batchSize: 8 });
          expect(all.rows.reduce((s, r) => s + r.listCostNano, 0n)).toBe(events.reduce((s, e) => s + e.listCostNano, 0n));
          expect(all.rows.find((r) => r.id === events[17]!.id)?.effectiveCostNano).toBe(2n ** 59n + 5n);
        });

        it('refuses a batch size it cannot honour and a window that is not a number', async () => {
          for (const batchSize of [0, -1, 2.5, 50_001, Number.NaN]) {
            await expect(scanAll(store, { from: JAN, to: JAN + H, batchSize })).rejects.toMatchObject({ code: 'invalid_request' });
          }
          await expect(scanAll(store, { from: Number.NaN, to: JAN })).rejects.toBeInstanceOf(TollgateError);
        });
      });

      describe('filters: provider, model, customer, status', () => {
        const H = 3_600_000;
        const f1 = chainOf('filters/support/helpdesk/bot');
        const f2 = chainOf('filters/eng/ci/fixer');
        const within = { tier: 'org' as const, id: f1.orgId };
        // 150 calls over three days: two agents, two providers and three models, two customers and
        // untagged calls, errors, estimated and unpriced calls, at irregular times.
        const events: LedgerEvent[] = Array.from({ length: 150 }, (_, i) => {
          const openai = i % 3 === 0;
          return makeEvent(i % 2 === 0 ? f1 : f2, {
            startedAt: OCT + ((i * 1_733_333) % (3 * 24 * H)),
            provider: openai ? 'openai' : 'anthropic',
            servedModel: openai ? 'gpt-4.1-mini' : i % 3 === 1 ? 'claude-sonnet-4-5' : 'claude-haiku-4-5',
            status: i % 7 === 0 ? 500 : i % 11 === 0 ? 429 : 200,
            estimated: i % 13 === 0,
            priceSource: i % 17 === 0 ? 'unpriced' : 'catalog',
            tags: i % 4 === 0 ? {} : { customer: i % 4 === 1 ? 'cust-a' : 'cust-b' },
            usage: usage({ inputTokens: 100 + i, cacheReadTokens: i % 5, cacheWrite5mTokens: i % 3, cacheWrite1hTokens: i % 2, outputTokens: 10 + i, reasoningTokens: i % 4 }),
            listCostNano: BigInt(1_000_007 * (i + 1)),
            effectiveCostNano: BigInt(900_001 * (i + 1)),
          });
        });
        type Filter = { provider?: string; model?: string; customer?: string };
        const matches = (e: LedgerEvent, f: Filter) =>
          (f.provider === undefined || e.provider === f.provider) && (f.model === undefined || e.servedModel === f.model) && (f.customer === undefined || e.tags['customer'] === f.customer);
        /** What the sums over `events` in [from, to) matching `f` are, per agent. */
        const expectedByAgent = (from: number, to: number, f: Filter) => {
          const out = new Map<string, { calls: number; errors: number; inputTokens: bigint; outputTokens: bigint; cacheReadTokens: bigint; reasoningTokens: bigint; listCostNano: bigint; effectiveCostNano: bigint; estimatedCalls: number; unpricedCalls: number }>();
          for (const e of events) {
            if (e.startedAt < from || e.startedAt >= to || !matches(e, f)) continue;
            const acc = out.get(e.chain.agentId) ?? { calls: 0, errors: 0, inputTokens: 0n, outputTokens: 0n, cacheReadTokens: 0n, reasoningTokens: 0n, listCostNano: 0n, effectiveCostNano: 0n, estimatedCalls: 0, unpricedCalls: 0 };
            acc.calls++;
            if (e.status >= 400) acc.errors++;
            acc.inputTokens += BigInt(e.usage.inputTokens);
            acc.outputTokens += BigInt(e.usage.outputTokens);
            acc.cacheReadTokens += BigInt(e.usage.cacheReadTokens);
            acc.reasoningTokens += BigInt(e.usage.reasoningTokens);
            acc.listCostNano += e.listCostNano;
            acc.effectiveCostNano += e.effectiveCostNano;
            if (e.estimated) acc.estimatedCalls++;
            if (e.priceSource === 'unpriced') acc.unpricedCalls++;
            out.set(e.chain.agentId, acc);
          }
          return out;
        };
        const pick = (r: { calls: number; errors: number; inputTokens: bigint; outputTokens: bigint; cacheReadTokens: bigint; reasoningTokens: bigint; listCostNano: bigint; effectiveCostNano: bigint; estimatedCalls: number; unpricedCalls: number }) => ({
          calls: r.calls, errors: r.errors, inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheReadTokens: r.cacheReadTokens, reasoningTokens: r.reasoningTokens,
          listCostNano: r.listCostNano, effectiveCostNano: r.effectiveCostNano, estimatedCalls: r.estimatedCalls, unpricedCalls: r.unpricedCalls,
        });
        const filters: Filter[] = [
          {},
          { provider: 'openai' },
          { model: 'claude-sonnet-4-5' },
          { provider: 'anthropic', model: 'claude-haiku-4-5' },
          { customer: 'cust-a' },
          { customer: 'cust-b', provider: 'anthropic' },
          { customer: 'cust-a', model: 'gpt-4.1-mini' },
          { provider: 'nobody' },
          { customer: 'nobody' },
        ];

        beforeAll(async () => {
          await store.ledger.record(events);
        });

        it('spend() keeps to the filter, from the rollups (provider, model) or the events (customer), to the same sums', async () => {
          // Whole days plus ragged hours at both ends: the daily and hourly rollups both take part.
          const [from, to] = [OCT + 5 * H + 1, OCT + 2 * 24 * H + 7 * H];
          for (const f of filters) {
            const rows = await store.ledger.spend({ from, to, groupBy: 'agent', within, ...f });
            const want = expectedByAgent(Math.floor(from / H) * H, Math.ceil(to / H) * H, f);
            expect(new Map(rows.map((r) => [r.key, pick(r)]))).toEqual(want);
            // Biggest first, whichever path answered.
            expect(rows.map((r) => r.effectiveCostNano)).toEqual([...rows.map((r) => r.effectiveCostNano)].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
          }
          // Grouped by model with a customer filter: the events' served model is the group.
          const byModel = await store.ledger.spend({ from: OCT, to: NOV, groupBy: 'model', within, customer: 'cust-a' });
          const models = new Map<string, bigint>();
          for (const e of events.filter((x) => x.tags['customer'] === 'cust-a')) models.set(e.servedModel, (models.get(e.servedModel) ?? 0n) + e.effectiveCostNano);
          expect(new Map(byModel.map((r) => [r.key, r.effectiveCostNano]))).toEqual(models);
        });

        it('series() keeps to the filter per hour and per day, each bucket equal to the matching events', async () => {
          for (const bucket of ['hour', 'day'] as const) {
            const ms = bucket === 'hour' ? H : 24 * H;
            for (const f of filters) {
              const rows = await store.ledger.series({ from: OCT + 3 * H + 5, to: OCT + 60 * H, groupBy: 'agent', within, bucket, ...f });
              const first = Math.floor((OCT + 3 * H + 5) / ms) * ms;
              const last = Math.ceil((OCT + 60 * H) / ms) * ms;
              const want = new Map<string, ReturnType<typeof pick>>();
              for (let at = first; at < last; at += ms) for (const [agent, r] of expectedByAgent(at, at + ms, f)) want.set(`${at} ${agent}`, r);
              expect(new Map(rows.map((r) => [`${r.at} ${r.key}`, pick(r)]))).toEqual(want);
              expect(rows.map((r) => r.at)).toEqual([...rows.map((r) => r.at)].sort((a, b) => a - b));
            }
          }
        });

        it('events() and totals() keep to provider, model, customer and status', async () => {
          const statusOf = (e: LedgerEvent) => (e.status >= 400 ? 'error' : 'ok');
          for (const f of filters) {
            for (const status of [undefined, 'ok', 'error'] as const) {
              const want = events.filter((e) => matches(e, f) && (status === undefined || statusOf(e) === status));
              const q = { within, ...f, ...(status === undefined ? {} : { status }) };
              const seen: string[] = [];
              let cursor: string | undefined;
              for (let page = 0; page < 50; page++) {
                const res = await store.ledger.events({ ...q, limit: 40, ...(cursor ? { cursor } : {}) });
                seen.push(...res.rows.map((r) => r.id));
                for (const r of res.rows) expect(matches(r, f) && (status === undefined || statusOf(r) === status)).toBe(true);
                if (!res.nextCursor) break;
                cursor = res.nextCursor;
              }
              expect(seen.sort()).toEqual(want.map((e) => e.id).sort());
              expect(await store.ledger.totals(q)).toEqual({
                calls: want.length,
                listCostNano: want.reduce((s, e) => s + e.listCostNano, 0n),
                effectiveCostNano: want.reduce((s, e) => s + e.effectiveCostNano, 0n),
              });
            }
          }
        });
      });

      if (opts.millionRows !== false) {
        it('sums 1,000,000 rows of an awkward price exactly', async () => {
          // $0.0375 per million tokens = 37.5 nano-USD per token. Token counts vary per row but stay
          // even, so every row's cost is an exact integer: tokens × 75 / 2.
          const c = chainOf('million/t/p/a');
          const N = 1_000_000;
          const batch = 5_000;
          let expected = 0n;
          for (let start = 0; start < N; start += batch) {
            const events: LedgerEvent[] = [];
            for (let i = start; i < start + batch; i++) {
              const tokens = 1000 + (i % 17) * 2;
              const cost = (BigInt(tokens) * 75n) / 2n;
              expected += cost;
              events.push(makeEvent(c, { id: `m-${i}`, startedAt: OCT + (i % 720) * 3_600_000, usage: usage({ inputTokens: tokens }), listCostNano: cost, effectiveCostNano: cost }));
            }
            await store.ledger.record(events);
          }
          // Σ over i of (1000 + 2·(i mod 17)) × 37.5: 58823 full cycles of 17 plus 9 rows.
          const cycles = BigInt(Math.floor(N / 17));
          const rest = N % 17;
          let handTokens = cycles * (17n * 1000n + 2n * 136n);
          for (let r = 0; r < rest; r++) handTokens += BigInt(1000 + 2 * r);
          const hand = (handTokens * 75n) / 2n;
          expect(expected).toBe(hand);

          const t = await store.ledger.totals({ within: { tier: 'org', id: c.orgId } });
          expect(t.calls).toBe(N);
          expect(t.listCostNano).toBe(hand);
          const [r] = await store.ledger.spend({ from: OCT, to: NOV, groupBy: 'org', within: { tier: 'org', id: c.orgId } });
          expect(r?.effectiveCostNano).toBe(hand);
        }, 600_000);
      }
    });
  });
}
