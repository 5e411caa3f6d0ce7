import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Observation } from '../analytics/anomalies/contract.ts';
import type { ScopeChain } from '../domain/scope.ts';
import { seededRandom } from '../domain/seeded-random.ts';
import type { Store } from '../ledger/contract.ts';
import { openSqliteStore } from '../ledger/sqlite/sqlite-store.ts';
import { DEMO_REPLAY_ACTOR, replayDemoAnomalies } from './replay-anomalies.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 16 November 2026, 00:00 UTC. */
const START = Date.UTC(2026, 10, 16);
let store: Store;
let chain: ScopeChain;

beforeEach(async () => {
  store = await openSqliteStore(':memory:');
  const [org, team, project, agent] = (await store.directory.ensureScope('acme/eng/ci/looper', { create: true, actor: 'test' })).nodes;
  chain = { orgId: org!.id, orgName: org!.slug, teamId: team!.id, teamName: team!.slug, projectId: project!.id, projectName: project!.slug, agentId: agent!.id, agentName: agent!.slug };
});
afterEach(async () => {
  await store.close();
});

/** Twelve days of a steady agent (about 20 calls an hour, each its own task), then a loop on one trace from `loopFrom` to `loopTo`. */
function traffic(loopFrom: number, loopTo: number): Observation[] {
  const r = seededRandom(7);
  const out: Observation[] = [];
  for (let at = START; at < START + 12 * DAY; at += 3 * 60_000 * (0.5 + r())) {
    out.push({ at, chain, model: 'claude-sonnet-4-5', costNano: Math.round(20_000_000 * (0.5 + r())), tokens: 8000, traceId: `task-${Math.floor(at / 60_000)}` });
  }
  for (let at = loopFrom; at < loopTo; at += 10_000) out.push({ at, chain, model: 'claude-sonnet-4-5', costNano: 20_000_000, tokens: 8000, traceId: 'stuck-task' });
  return out;
}

describe('replayDemoAnomalies', () => {
  it('leaves an anomaly the history ends in open (the detector thinks it is still going), and refreshes it in place on a second run', async () => {
    const loopFrom = START + 11 * DAY + 10 * HOUR;
    const now = loopFrom + 2 * HOUR;
    const calls = traffic(loopFrom, now);
    const first = await replayDemoAnomalies(store, calls, { now });
    const found = first.found.filter((f) => f.signal === 'runaway_loop');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ path: 'acme/eng/ci/looper', resolvedAt: null });
    expect(found[0]!.since).toBeGreaterThanOrEqual(loopFrom - 15 * 60_000);
    const [loop] = await store.anomalies.list({ open: true });
    expect(loop).toMatchObject({ signal: 'runaway_loop', state: 'open', resolvedAt: null, resolvedBy: null, lastSeenAt: now });
    expect(loop!.openedAt).toBeLessThan(loopFrom + HOUR);
    expect(loop!.evidence.topTraces[0]?.traceId).toBe('stuck-task');

    const before = await store.anomalies.list({});
    const again = await replayDemoAnomalies(store, calls, { now });
    expect(again.found).toEqual(first.found);
    expect(await store.anomalies.list({})).toEqual(before);
    expect((await store.anomalies.list({})).filter((a) => a.signal === 'runaway_loop')).toHaveLength(1);
  });

  it('resolves a loop that stopped, at the time the detector resolved it, as the demo replay', async () => {
    const loopFrom = START + 11 * DAY + 10 * HOUR;
    const now = loopFrom + 6 * HOUR;
    await replayDemoAnomalies(store, traffic(loopFrom, loopFrom + 2 * HOUR), { now });
    const loops = (await store.anomalies.list({})).filter((a) => a.signal === 'runaway_loop');
    expect(loops).toHaveLength(1);
    expect(loops[0]).toMatchObject({ state: 'resolved', resolvedBy: DEMO_REPLAY_ACTOR });
    expect(loops[0]!.resolvedAt).toBeGreaterThan(loopFrom + 2 * HOUR);
    expect(loops[0]!.resolvedAt).toBeLessThan(loopFrom + 3 * HOUR);
    // Resolving is audited under the replay's name.
    const [entry] = await store.directory.audit({ limit: 1 });
    expect(entry).toMatchObject({ actor: DEMO_REPLAY_ACTOR, action: 'anomaly.resolve' });
  });
});
