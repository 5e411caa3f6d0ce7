/**
 * The Anomalies contract (alerts deduplicated per scope and signal, their delivery log, auto-kill
 * policies), run against every backend. Replicas are simulated by a second store opened on the
 * same database: dedup, resolve and the claim of an action must hold across both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/analytics/anomalies/contract.ts';
import { TollgateError } from '../../src/domain/errors.ts';
import { autoKillApplies } from '../../src/ledger/anomalies-contract.ts';
import type { Store } from '../../src/ledger/contract.ts';

export interface AnomaliesContractOptions {
  name: string;
  /** Opens the suite's store; called again, opens a second store on the same database (another replica). */
  open: () => Promise<Store>;
  dispose?: () => Promise<void>;
}

const USD = 1_000_000_000;
const T0 = Date.UTC(2026, 10, 3, 2, 0);
const MIN = 60_000;

export function runAnomaliesContract(opts: AnomaliesContractOptions): void {
  describe(`anomalies contract: ${opts.name}`, () => {
    let store: Store;
    let replica: Store;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      store = await opts.open();
      replica = await opts.open();
      for (const path of ['acme/support/helpdesk/triage-bot', 'acme/support/helpdesk/summariser', 'acme/eng/ci/review-bot', 'globex/ops/billing/bot']) {
        const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
        for (const n of nodes) ids[n.path] = n.id;
      }
    });
    afterAll(async () => {
      await replica?.close();
      await store?.close();
      await opts.dispose?.();
    });

    const finding = (path: string, over: Partial<Finding> = {}): Finding => ({
      tier: path.split('/').length === 4 ? 'agent' : path.split('/').length === 3 ? 'project' : 'team',
      scopeId: ids[path]!,
      path,
      signal: 'runaway_loop',
      since: T0,
      at: T0 + 5 * MIN,
      comparisons: [{ measure: 'spend_per_hour', baseline: 0.4 * USD, band: 1.2 * USD, current: 9.5 * USD }],
      atRiskNanoPerHour: 9.1 * USD,
      topModels: [{ model: 'gpt-4.1', costNano: 700_000_000, calls: 310 }],
      topTraces: [{ traceId: 'trace-7', costNano: 650_000_000, calls: 290 }],
      summary: `${path}: 290 calls of one trace in 5 min`,
      ...over,
    });

    describe('open and dedup', () => {
      it('opens one anomaly per scope and signal, and refreshes it on repeats', async () => {
        const bot = 'acme/support/helpdesk/triage-bot';
        const first = await store.anomalies.open(finding(bot));
        expect(first.created).toBe(true);
        expect(first.alert).toMatchObject({
          scopeId: ids[bot],
          tier: 'agent',
          path: bot,
          signal: 'runaway_loop',
          state: 'open',
          openedAt: T0 + 5 * MIN,
          since: T0,
          lastSeenAt: T0 + 5 * MIN,
          resolvedAt: null,
          resolvedBy: null,
          atRiskNanoPerHour: 9_100_000_000n,
          peakNanoPerHour: 9_100_000_000n,
          action: null,
        });
        expect(first.alert.id).toMatch(/^anm_[0-9a-f]{16}$/);
        expect(first.alert.evidence).toEqual(finding(bot));

        // Later, lower: the same row with the new evidence; opening time and `since` stay, the peak stays.
        const later = finding(bot, { at: T0 + 10 * MIN, since: T0 + 7 * MIN, atRiskNanoPerHour: 3 * USD, summary: 'still looping' });
        const again = await replica.anomalies.open(later);
        expect(again.created).toBe(false);
        expect(again.alert).toMatchObject({ id: first.alert.id, openedAt: T0 + 5 * MIN, since: T0, lastSeenAt: T0 + 10 * MIN, atRiskNanoPerHour: 3_000_000_000n, peakNanoPerHour: 9_100_000_000n, summary: 'still looping' });
        expect(again.alert.evidence).toEqual(later);

        // A replica behind (an older finding) changes nothing, and is told about the open row.
        const stale = await store.anomalies.open(finding(bot, { at: T0 + 8 * MIN, atRiskNanoPerHour: 50 * USD, summary: 'stale' }));
        expect(stale.created).toBe(false);
        expect(stale.alert).toMatchObject({ id: first.alert.id, lastSeenAt: T0 + 10 * MIN, summary: 'still looping', peakNanoPerHour: 9_100_000_000n });

        expect((await store.anomalies.list({ under: bot })).map((a) => a.id)).toEqual([first.alert.id]);
      });

      it('keeps other signals and other scopes apart', async () => {
        const bot = 'acme/support/helpdesk/summariser';
        const loop = await store.anomalies.open(finding(bot));
        const bloat = await store.anomalies.open(finding(bot, { signal: 'prompt_bloat' }));
        const project = await store.anomalies.open(finding('acme/support/helpdesk', { signal: 'spend_spike' }));
        expect([loop.created, bloat.created, project.created]).toEqual([true, true, true]);
        expect(new Set([loop.alert.id, bloat.alert.id, project.alert.id]).size).toBe(3);
        expect(project.alert.tier).toBe('project');
      });

      it('of many concurrent opens on two replicas, exactly one creates the row', async () => {
        const bot = 'acme/eng/ci/review-bot';
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? store : replica).anomalies.open(finding(bot, { signal: 'spend_spike', at: T0 + 20 * MIN + i, atRiskNanoPerHour: (i + 1) * USD }))),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.alert.id)).size).toBe(1);
        const open = (await store.anomalies.list({ under: bot, open: true })).filter((a) => a.signal === 'spend_spike');
        expect(open).toHaveLength(1);
        // The newest finding won, and the peak is the highest of all.
        expect(open[0]).toMatchObject({ lastSeenAt: T0 + 20 * MIN + 39, atRiskNanoPerHour: 40_000_000_000n, peakNanoPerHour: 40_000_000_000n });
      });

      it('refuses a finding about an unknown scope or with an unknown signal, recording nothing', async () => {
        const before = (await store.anomalies.list({ limit: 1000 })).length;
        const unknown = await store.anomalies.open(finding('acme/support/helpdesk/triage-bot', { scopeId: 'scp_missing', path: 'acme/ghost' })).catch((e: unknown) => e);
        expect(unknown).toBeInstanceOf(TollgateError);
        expect(unknown).toMatchObject({ code: 'not_found', message: 'scope scp_missing (acme/ghost) does not exist' });
        const bad = await store.anomalies.open(finding('acme/support/helpdesk/triage-bot', { signal: 'vibes' as Finding['signal'] })).catch((e: unknown) => e);
        expect(bad).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('unknown anomaly signal "vibes"') as unknown });
        const org = await store.anomalies.open(finding('acme/support/helpdesk/triage-bot', { tier: 'org' as Finding['tier'] })).catch((e: unknown) => e);
        expect(org).toMatchObject({ code: 'invalid_request' });
        expect((await store.anomalies.list({ limit: 1000 })).length).toBe(before);
      });
    });

    describe('resolve', () => {
      it('resolves the open row once; a new finding then opens a new anomaly', async () => {
        const bot = 'globex/ops/billing/bot';
        const opened = await store.anomalies.open(finding(bot));
        const [a, b] = await Promise.all([store.anomalies.resolve(ids[bot]!, 'runaway_loop', T0 + 30 * MIN), replica.anomalies.resolve(ids[bot]!, 'runaway_loop', T0 + 30 * MIN)]);
        // Only one replica gets the row back, so only one sends the "resolved" notification.
        const resolved = a ?? b;
        expect([a, b].filter((r) => r !== null)).toHaveLength(1);
        expect(resolved).toMatchObject({ id: opened.alert.id, state: 'resolved', resolvedAt: T0 + 30 * MIN, resolvedBy: 'detector' });
        expect(await store.anomalies.resolve(ids[bot]!, 'runaway_loop', T0 + 31 * MIN)).toBeNull();
        expect(await store.anomalies.get(opened.alert.id)).toMatchObject({ state: 'resolved', resolvedAt: T0 + 30 * MIN });

        const reopened = await store.anomalies.open(finding(bot, { since: T0 + 40 * MIN, at: T0 + 45 * MIN }));
        expect(reopened.created).toBe(true);
        expect(reopened.alert.id).not.toBe(opened.alert.id);
        const rows = await store.anomalies.list({ under: bot });
        expect(rows.map((r) => [r.id, r.state])).toEqual([
          [reopened.alert.id, 'open'],
          [opened.alert.id, 'resolved'],
        ]);
      });

      it('resolves by hand, audited; refuses twice and unknown ids', async () => {
        const bot = 'globex/ops/billing/bot';
        const open = await store.anomalies.open(finding(bot, { signal: 'silent_stop', since: T0 + 46 * MIN, at: T0 + 46 * MIN, atRiskNanoPerHour: 0 }));
        const done = await store.anomalies.resolveById(open.alert.id, 'cli:alice', T0 + 50 * MIN);
        expect(done).toMatchObject({ id: open.alert.id, state: 'resolved', resolvedAt: T0 + 50 * MIN, resolvedBy: 'cli:alice' });
        const [entry] = await store.directory.audit({ target: bot, limit: 1 });
        expect(entry).toMatchObject({ actor: 'cli:alice', action: 'anomaly.resolve', before: { id: open.alert.id, signal: 'silent_stop', state: 'open' }, after: { id: open.alert.id, state: 'resolved' } });
        await expect(store.anomalies.resolveById(open.alert.id, 'cli:alice', T0)).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('already resolved') as unknown });
        await expect(store.anomalies.resolveById('anm_0000000000000000', 'cli:alice', T0)).rejects.toMatchObject({ code: 'not_found' });
        // Resolved by hand, the detector's resolve finds nothing open.
        expect(await store.anomalies.resolve(ids[bot]!, 'silent_stop', T0 + 51 * MIN)).toBeNull();
      });
    });

    describe('list and get', () => {
      it('filters by state, subtree and time window, newest first, paged', async () => {
        const all = await store.anomalies.list({ limit: 1000 });
        expect(all.map((a) => a.openedAt)).toEqual([...all.map((a) => a.openedAt)].sort((x, y) => y - x));
        const open = await store.anomalies.list({ open: true, limit: 1000 });
        expect(open.length).toBeGreaterThan(0);
        expect(open.every((a) => a.state === 'open')).toBe(true);
        const resolved = await store.anomalies.list({ open: false, limit: 1000 });
        expect(resolved.every((a) => a.state === 'resolved')).toBe(true);
        expect(open.length + resolved.length).toBe(all.length);

        const support = await store.anomalies.list({ under: 'acme/support', limit: 1000 });
        expect(support.length).toBe(4);
        expect(support.every((a) => a.path.startsWith('acme/support/'))).toBe(true);
        // A prefix of a slug is not a subtree.
        expect(await store.anomalies.list({ under: 'acme/sup' })).toEqual([]);

        // In the window: globex's first anomaly was open 5..30 min; asking from minute 31 leaves it out.
        const globex = await store.anomalies.list({ under: 'globex', limit: 1000 });
        const first = globex.find((a) => a.resolvedAt === T0 + 30 * MIN)!;
        expect((await store.anomalies.list({ under: 'globex', from: T0 + 31 * MIN })).map((a) => a.id)).not.toContain(first.id);
        expect((await store.anomalies.list({ under: 'globex', from: T0 + 29 * MIN })).map((a) => a.id)).toContain(first.id);
        expect((await store.anomalies.list({ under: 'globex', to: T0 + 5 * MIN })).map((a) => a.id)).toEqual([]);
        expect((await store.anomalies.list({ under: 'globex', to: T0 + 5 * MIN + 1 })).map((a) => a.id)).toEqual([first.id]);

        const page1 = await store.anomalies.list({ limit: 2 });
        const page2 = await store.anomalies.list({ limit: 2, offset: 2 });
        expect([...page1, ...page2].map((a) => a.id)).toEqual(all.slice(0, 4).map((a) => a.id));

        await expect(store.anomalies.list({ limit: 0 })).rejects.toMatchObject({ code: 'invalid_request' });
        await expect(store.anomalies.list({ from: Number.NaN })).rejects.toMatchObject({ code: 'invalid_request' });
        await expect(store.anomalies.list({ under: 'Not A Path' })).rejects.toMatchObject({ code: 'invalid_request' });
      });

      it('shows the current path after a rename, and null for an unknown id', async () => {
        const [a] = await store.anomalies.list({ under: 'acme/eng/ci/review-bot' });
        await store.directory.renameScope('acme/eng', { slug: 'engineering' }, 'test');
        expect((await store.anomalies.get(a!.id))?.path).toBe('acme/engineering/ci/review-bot');
        expect((await store.anomalies.list({ under: 'acme/engineering' })).map((x) => x.id)).toEqual([a!.id]);
        expect(await store.anomalies.get('anm_ffffffffffffffff')).toBeNull();
      });
    });

    describe('actions and deliveries', () => {
      it('records an action once across replicas', async () => {
        const open = await store.anomalies.open(finding('acme/support/helpdesk/triage-bot', { signal: 'prompt_bloat' }));
        const claims = await Promise.all([store.anomalies.markAction(open.alert.id, 'auto_killed'), replica.anomalies.markAction(open.alert.id, 'auto_killed'), store.anomalies.markAction(open.alert.id, 'auto_killed')]);
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect((await store.anomalies.get(open.alert.id))?.action).toBe('auto_killed');
        // Refreshing the open anomaly keeps the action.
        expect((await store.anomalies.open(finding('acme/support/helpdesk/triage-bot', { signal: 'prompt_bloat', at: T0 + 60 * MIN }))).alert.action).toBe('auto_killed');
      });

      it('logs deliveries and dead letters, newest first', async () => {
        const [a] = await store.anomalies.list({ limit: 1 });
        const ok = await store.anomalies.recordDelivery({ anomalyId: a!.id, sink: 'webhook', url: 'https://hooks.example.com/tollgate', event: 'opened', attempts: 1, lastError: null, state: 'delivered', at: T0 + 1 });
        const dead = await store.anomalies.recordDelivery({ anomalyId: a!.id, sink: 'slack', url: 'https://hooks.slack.com/…', event: 'opened', attempts: 5, lastError: 'HTTP 500', state: 'dead', at: T0 + 2 });
        expect(ok.id).toMatch(/^dlv_[0-9a-f]{16}$/);
        expect(await store.anomalies.deliveries()).toEqual([dead, ok]);
        expect(await store.anomalies.deliveries({ state: 'dead' })).toEqual([dead]);
        expect(await store.anomalies.deliveries({ anomalyId: 'anm_other' })).toEqual([]);
        expect(await store.anomalies.deliveries({ limit: 1 })).toEqual([dead]);
      });
    });

    describe('policies', () => {
      const usd = (n: number) => BigInt(n) * 1_000_000_000n;

      it('sets, updates, lists and deletes policies, each audited and bumping the directory version', async () => {
        const v0 = await store.directory.version();
        const created = await store.anomalies.setPolicy({ scopePath: 'acme/support', autoKill: true, minNanoPerHour: usd(5) }, 'alice');
        expect(created.before).toBeNull();
        expect(created.policy).toMatchObject({ scopeId: ids['acme/support'], scopePath: 'acme/support', autoKill: true, minNanoPerHour: usd(5), updatedBy: 'alice' });
        const v1 = await store.directory.version();
        expect(v1).toBeGreaterThan(v0);
        const updated = await store.anomalies.setPolicy({ scopePath: 'acme/support', autoKill: true, minNanoPerHour: usd(20) }, 'bob');
        expect(updated.before).toEqual(created.policy);
        expect(await store.directory.version()).toBeGreaterThan(v1);
        await store.anomalies.setPolicy({ scopePath: 'acme/support/helpdesk/summariser', autoKill: false, minNanoPerHour: 0n }, 'bob');
        await store.anomalies.setPolicy({ scopePath: 'globex', autoKill: true, minNanoPerHour: usd(1) }, 'bob');

        expect((await store.anomalies.listPolicies()).map((p) => p.scopePath)).toEqual(['acme/support', 'acme/support/helpdesk/summariser', 'globex']);
        expect(await store.anomalies.listPolicies({ under: 'acme' })).toEqual([updated.policy, expect.objectContaining({ scopePath: 'acme/support/helpdesk/summariser', autoKill: false })]);

        const audit = await store.directory.audit({ target: 'acme/support', limit: 2 });
        expect(audit.map((e) => [e.action, e.actor, e.before, e.after])).toEqual([
          ['anomaly_policy.update', 'bob', { autoKill: true, minUsdPerHour: '$5.00' }, { autoKill: true, minUsdPerHour: '$20.00' }],
          ['anomaly_policy.create', 'alice', null, { autoKill: true, minUsdPerHour: '$5.00' }],
        ]);

        const gone = await store.anomalies.deletePolicy('globex', 'carol');
        expect(gone).toMatchObject({ scopePath: 'globex', autoKill: true });
        expect((await store.directory.audit({ target: 'globex', limit: 1 }))[0]).toMatchObject({ action: 'anomaly_policy.delete', actor: 'carol', after: null });
        await expect(store.anomalies.deletePolicy('globex', 'carol')).rejects.toMatchObject({ code: 'not_found' });
      });

      it('finds the nearest policy up the chain; a deeper policy overrides', async () => {
        const triage = await store.anomalies.policyFor(ids['acme/support/helpdesk/triage-bot']!);
        expect(triage).toMatchObject({ scopePath: 'acme/support', autoKill: true, minNanoPerHour: usd(20) });
        expect(await replica.anomalies.policyFor(ids['acme/support/helpdesk/summariser']!)).toMatchObject({ scopePath: 'acme/support/helpdesk/summariser', autoKill: false });
        expect(await store.anomalies.policyFor(ids['globex/ops/billing/bot']!)).toBeNull();
        expect(await store.anomalies.policyFor('scp_missing')).toBeNull();

        const agent = { tier: 'agent' as const, signal: 'runaway_loop' as const, atRiskNanoPerHour: 21 * USD };
        expect(autoKillApplies(agent, triage)).toBe(true);
        expect(autoKillApplies({ ...agent, atRiskNanoPerHour: 20 * USD }, triage)).toBe(false);
        expect(autoKillApplies({ ...agent, signal: 'spend_spike' }, triage)).toBe(false);
        expect(autoKillApplies({ ...agent, signal: 'prompt_bloat' }, triage)).toBe(true);
        expect(autoKillApplies({ ...agent, tier: 'project' }, triage)).toBe(false);
        expect(autoKillApplies(agent, null)).toBe(false);
        expect(autoKillApplies(agent, { ...triage!, autoKill: false })).toBe(false);
      });

      it('refuses bad policies and leaves everything as it was', async () => {
        const before = await store.anomalies.listPolicies();
        const version = await store.directory.version();
        await expect(store.anomalies.setPolicy({ scopePath: 'acme/support', autoKill: true, minNanoPerHour: -1n }, 'x')).rejects.toMatchObject({ code: 'invalid_request' });
        await expect(store.anomalies.setPolicy({ scopePath: 'acme/support', autoKill: true, minNanoPerHour: 2n ** 63n }, 'x')).rejects.toMatchObject({ code: 'invalid_request' });
        await expect(store.anomalies.setPolicy({ scopePath: 'acme/nowhere', autoKill: true, minNanoPerHour: 0n }, 'x')).rejects.toMatchObject({ code: 'not_found' });
        await store.directory.ensureScope('initech/tps', { create: true, actor: 'test' });
        await store.directory.archiveScope('initech/tps', 'test');
        const v1 = await store.directory.version();
        await expect(store.anomalies.setPolicy({ scopePath: 'initech/tps', autoKill: true, minNanoPerHour: 0n }, 'x')).rejects.toMatchObject({ code: 'scope_archived' });
        expect(await store.anomalies.listPolicies()).toEqual(before);
        expect(v1).toBeGreaterThan(version);
        expect(await store.directory.version()).toBe(v1);
      });
    });
  });
}
