import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../ledger/contract.ts';
import { openSqliteStore } from '../ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../pricing/index.ts';
import { boardSummary } from '../analytics/board.ts';
import { unitEconomics } from '../analytics/unit-economics.ts';
import { DEMO_AGENTS, DEMO_OUTCOME_TYPES, demoCallsPerHour, seedDemo } from './seed-demo.ts';
import { DEMO_REPLAY_ACTOR } from './replay-anomalies.ts';

const NOW = Date.UTC(2026, 10, 28, 18);
const DAY = 86_400_000;
let store: Store;
let first: Awaited<ReturnType<typeof seedDemo>>;

beforeAll(async () => {
  store = await openSqliteStore(':memory:');
  first = await seedDemo(store, createPricer(), { now: NOW, days: 30, actor: 'test' });
});
afterAll(async () => {
  await store.close();
});

describe('demo history', () => {
  it('is idempotent', async () => {
    expect(first.inserted).toBeGreaterThan(10_000);
    expect(first.outcomes.inserted).toBeGreaterThan(1_000);
    const auditBefore = (await store.directory.audit({ limit: 1 }))[0]!.id;
    const anomaliesBefore = await store.anomalies.list({ limit: 1000 });
    expect(first.anomalies!.stored).toBeGreaterThan(0);
    const again = await seedDemo(store, createPricer(), { now: NOW, days: 30, actor: 'test' });
    expect(again.inserted).toBe(0);
    expect(again.outcomes).toEqual({ inserted: 0, total: first.outcomes.total });
    // The replay finds the same episodes again and stores none of them twice.
    expect(again.anomalies!.found).toEqual(first.anomalies!.found);
    expect(again.anomalies!.stored).toBe(0);
    expect(await store.anomalies.list({ limit: 1000 })).toEqual(anomaliesBefore);
    // Types and budgets are not set again (nor audited again).
    expect((await store.directory.audit({ limit: 1 }))[0]!.id).toBe(auditBefore);
  });

  it('is heavy-tailed: one agent burns most of the spend', async () => {
    const rows = await store.ledger.spend({ from: NOW - 30 * DAY, to: NOW + DAY, groupBy: 'agent' });
    const total = rows.reduce((s, r) => s + r.effectiveCostNano, 0n);
    expect(Number((rows[0]!.effectiveCostNano * 100n) / total)).toBeGreaterThan(40);
    expect(Number((rows.at(-1)!.effectiveCostNano * 100n) / total)).toBeLessThan(2);
  });

  it('has a runaway loop: one trace with hundreds of calls in the small hours', async () => {
    const day = Math.floor(NOW / DAY) - 20;
    const loop = await store.ledger.totals({ traceId: `demo-trace-${day}-runaway-test-fixer` });
    expect(loop.calls).toBe(900);
    const night = await store.ledger.totals({ from: day * DAY + 2 * 3_600_000, to: day * DAY + 5 * 3_600_000, within: { tier: 'agent', id: first.chains.get('acme/eng/ci/test-fixer')!.agentId } });
    expect(night.calls).toBeGreaterThanOrEqual(900);
  });

  it('has a prompt-bloat week: the summariser reads about 3× the tokens per call', async () => {
    const id = first.chains.get('acme/support/helpdesk/summariser')!.agentId;
    const today = Math.floor(NOW / DAY);
    const perCall = async (fromDay: number, toDay: number) => {
      const [r] = await store.ledger.spend({ from: fromDay * DAY, to: toDay * DAY, groupBy: 'agent', within: { tier: 'agent', id } });
      return Number(r!.inputTokens + r!.cacheReadTokens) / r!.calls;
    };
    const bloated = await perCall(today - 12, today - 5);
    const normal = await perCall(today - 28, today - 13);
    expect(bloated / normal).toBeGreaterThan(2.3);
    expect(bloated / normal).toBeLessThan(3.8);
  });

  it('has outcome types with baselines, team budgets of both modes and an annual plan', async () => {
    const types = await store.outcomes.listTypes({ under: 'acme' });
    expect(types.map((t) => `${t.projectPath}:${t.type}`)).toEqual(DEMO_OUTCOME_TYPES.map((t) => `${t.project}:${t.type}`).sort());
    expect(types.find((t) => t.type === 'resolved_ticket')?.baselineNano).toBe(6_000_000_000n);
    const budgets = await store.controls.listBudgets({ under: 'acme' });
    expect(budgets.map((b) => [b.scopePath, b.period, b.action])).toEqual([
      ['acme', 'year', 'plan'],
      ['acme/eng', 'month', 'chargeback'],
      ['acme/support', 'month', 'showback'],
    ]);
  });

  it('gives the reports something to show: $/outcome, the runaway loop in the tail, drift from the prompt bloat', async () => {
    const from = Math.floor(NOW / DAY) * DAY - 27 * DAY;
    const r = await unitEconomics(store, { scope: 'acme', from, to: NOW, driftWeeks: 1, now: NOW });
    expect(r.workloads).toHaveLength(4);
    for (const w of r.workloads) {
      expect(w.outcomes).toBeGreaterThan(0n);
      expect(w.perTrace.traces).toBeGreaterThan(0);
      expect(w.savingsNano! > 0n).toBe(true);
    }
    expect(r.unmeasured.map((u) => u.projectPath)).toEqual(['acme/research/deep']);
    const ci = r.workloads.find((w) => w.type === 'fixed_test')!;
    expect(ci.perTrace.worst?.traceId).toBe(`demo-trace-${Math.floor(NOW / DAY) - 20}-runaway-test-fixer`);
    // The summariser read 3× the tokens from 12 to 6 days ago: the helpdesk's $/ticket drifted, for that reason.
    const helpdesk = r.workloads.find((w) => w.type === 'resolved_ticket')!;
    const flagged = helpdesk.weeks.filter((k) => k.drift?.flagged);
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.every((k) => k.drift!.cause === 'tokens_per_call')).toBe(true);
    const board = await boardSummary(store, { quarter: '2026-Q4', now: NOW });
    expect(board.plan?.amountNano).toBe(12_000_000_000_000n);
    expect(board.teams).toHaveLength(4);
    expect(board.movers).toHaveLength(3);
  });

  it('gives live traffic the rate of the history: the hours of a weekday add up to the calls a day, and the seeded peak hours match', async () => {
    const triage = DEMO_AGENTS.find((a) => a.path === 'acme/support/helpdesk/triage-bot')!;
    const monday = Date.UTC(2026, 10, 23);
    const hours = Array.from({ length: 24 }, (_, h) => demoCallsPerHour(triage, monday + h * 3_600_000));
    expect(hours.reduce((a, b) => a + b, 0)).toBeCloseTo(triage.callsPerDay, 6);
    expect(hours[14]).toBeGreaterThan(hours[3]! * 20);
    expect(demoCallsPerHour(triage, Date.UTC(2026, 10, 22, 14))).toBeCloseTo(hours[14]! * 0.35, 6);
    // Against the seeded history: the weekday 13:00-16:00 calls of the last 4 weeks, per hour, are what the rate says (±15%).
    const agentId = (await store.directory.getScope(triage.path))!.id;
    const series = await store.ledger.series({ from: NOW - 28 * DAY, to: Math.floor(NOW / DAY) * DAY, groupBy: 'agent', bucket: 'hour', within: { tier: 'agent', id: agentId } });
    expect(series.length).toBeGreaterThan(100);
    const peak = series.filter((r) => [1, 2, 3, 4, 5].includes(new Date(r.at).getUTCDay()) && [13, 14, 15].includes(new Date(r.at).getUTCHours()));
    const seen = peak.reduce((s, r) => s + r.calls, 0) / peak.length;
    const expected = peak.reduce((s, r) => s + demoCallsPerHour(triage, r.at), 0) / peak.length;
    expect(seen / expected).toBeGreaterThan(0.85);
    expect(seen / expected).toBeLessThan(1.15);
  });

  it('shows its incidents on the Anomalies page: the runaway loop and the prompt bloat, as the detector saw them, resolved when it resolved them', async () => {
    const today = Math.floor(NOW / DAY);
    const night = (today - 20) * DAY;
    const alerts = await store.anomalies.list({ under: 'acme', limit: 1000 });
    const loop = alerts.find((a) => a.signal === 'runaway_loop');
    expect(loop).toMatchObject({ tier: 'agent', path: 'acme/eng/ci/test-fixer', scopeId: first.chains.get('acme/eng/ci/test-fixer')!.agentId, state: 'resolved', resolvedBy: DEMO_REPLAY_ACTOR });
    // The loop ran from 02:00 to 05:00 that night: caught within the hour, resolved within the hour after it stopped.
    expect(loop!.since).toBeGreaterThanOrEqual(night + 2 * 3_600_000 - 15 * 60_000);
    expect(loop!.openedAt).toBeLessThan(night + 3 * 3_600_000);
    expect(loop!.resolvedAt).toBeGreaterThan(night + 4 * 3_600_000);
    expect(loop!.resolvedAt).toBeLessThan(night + 6 * 3_600_000);
    expect(loop!.evidence.signal).toBe('runaway_loop');
    expect(loop!.evidence.topTraces[0]?.traceId).toBe(`demo-trace-${today - 20}-runaway-test-fixer`);
    expect(loop!.evidence.comparisons.find((c) => c.measure === 'requests_per_hour')!.current).toBeGreaterThan(100);
    expect(loop!.peakNanoPerHour).toBeGreaterThan(0n);

    const bloat = alerts.filter((a) => a.signal === 'prompt_bloat');
    expect(bloat.length).toBeGreaterThan(0);
    for (const b of bloat) {
      expect(b).toMatchObject({ tier: 'agent', path: 'acme/support/helpdesk/summariser', state: 'resolved', resolvedBy: DEMO_REPLAY_ACTOR });
      expect(b.since).toBeGreaterThanOrEqual((today - 12) * DAY);
      expect(b.openedAt).toBeLessThan((today - 5) * DAY);
      const perCall = b.evidence.comparisons.find((c) => c.measure === 'tokens_per_request')!;
      expect(perCall.current / perCall.baseline).toBeGreaterThan(2.5);
      expect(b.evidence.topModels[0]?.model).toBe('gpt-4.1-mini');
    }

    // Nothing else: every anomaly found is one of the two staged incidents (the loop's spend shows as a spike too).
    for (const a of alerts) {
      const inLoop = a.path === 'acme/eng/ci/test-fixer' && a.since >= night && a.since < night + 6 * 3_600_000;
      const inBloat = a.path === 'acme/support/helpdesk/summariser' && a.since >= (today - 12) * DAY && a.since < (today - 5) * DAY;
      expect(inLoop || inBloat, `${a.signal} on ${a.path} at ${new Date(a.since).toISOString()}`).toBe(true);
      expect(a.resolvedAt === null || a.resolvedAt <= NOW).toBe(true);
    }
    // The replay only writes anomalies: nobody is notified and no kill switch is tripped.
    expect(await store.anomalies.deliveries()).toEqual([]);
    expect(await store.controls.listKills()).toEqual([]);
  });
});
