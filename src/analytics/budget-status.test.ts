import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/support/events.ts';
import type { Counters } from '../counters/contract.ts';
import { MemoryCounters } from '../counters/memory/memory-counters.ts';
import type { ScopeChain } from '../domain/scope.ts';
import type { BudgetInput, BudgetPolicy, Store } from '../ledger/contract.ts';
import { openSqliteStore } from '../ledger/sqlite/sqlite-store.ts';
import { budgetJson, budgetStatus } from './budget-status.ts';

const USD = 1_000_000_000n;
const HOUR = 3_600_000;
const OCT = Date.UTC(2026, 9, 1);
const NOV = Date.UTC(2026, 10, 1);
/** 10 days into October's 31: the run rate multiplies spend by 3.1. */
const OCT11 = Date.UTC(2026, 9, 11);

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(':memory:');
});
afterAll(async () => {
  await store?.close();
});

async function agent(path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [org, team, project, a] = nodes;
  return { orgId: org!.id, orgName: org!.slug, teamId: team!.id, teamName: team!.slug, projectId: project!.id, projectName: project!.slug, agentId: a!.id, agentName: a!.slug };
}

async function spend(chain: ScopeChain, ...calls: [at: number, usdNano: bigint][]): Promise<void> {
  await store.ledger.record(calls.map(([startedAt, cost]) => makeEvent(chain, { startedAt, listCostNano: cost, effectiveCostNano: cost })));
}

async function policy(over: Partial<BudgetInput>): Promise<BudgetPolicy> {
  const input: BudgetInput = { scopePath: '', amountNano: 10n * USD, period: 'month', action: 'showback', thresholds: [50, 80, 100], timeZone: 'UTC', degradeTo: null, ...over };
  return (await store.controls.setBudget(input, 'test')).budget;
}

describe('budgetStatus', () => {
  it('sums what the subtree spent in the current period from the ledger, and shows no reservation without counters', async () => {
    const bot = await agent('acme/support/helpdesk/triage-bot');
    const other = await agent('acme/eng/ci/review-bot');
    await spend(bot, [OCT, 1n * USD], [OCT + 4 * 24 * HOUR, 2n * USD], [OCT - 1, 5n * USD]);
    await spend(other, [OCT + HOUR, 4n * USD]);
    const team = await policy({ scopePath: 'acme/support' });
    const org = await policy({ scopePath: 'acme', amountNano: 100n * USD });

    const [t, o] = await budgetStatus([team, org], { ledger: store.ledger, counters: null, now: OCT11 });
    expect(t).toEqual({
      policy: team,
      from: OCT,
      resetsAt: NOV,
      spentNano: 3n * USD,
      reservedNano: null,
      remainingNano: 7n * USD,
      // $3 in 240 hours, over 744 hours: $9.30.
      forecastNano: 9_300_000_000n,
      health: 'ok',
    });
    // The org sees both teams; September's $5 is in neither.
    expect(o?.spentNano).toBe(7n * USD);
    expect(o?.remainingNano).toBe(93n * USD);
    expect(await budgetStatus([], { ledger: store.ledger, counters: null, now: OCT11 })).toEqual([]);
  });

  it('says ok, warning (first threshold reached, or on course to overspend) or exceeded', async () => {
    const bot = await agent('health/t/p/a');
    await spend(bot, [OCT + HOUR, 4n * USD]);
    const p = await policy({ scopePath: 'health/t/p/a', action: 'hard', thresholds: [50, 80, 100] });
    const at = async (now: number, over: Partial<BudgetPolicy>) => (await budgetStatus([{ ...p, ...over }], { ledger: store.ledger, counters: null, now }))[0]!;

    // 40% spent on 31 October: on course for ~$4.13, under the 50% threshold.
    expect((await at(Date.UTC(2026, 9, 31), {})).health).toBe('ok');
    // The same 40% after 10 days runs at $12.40 for the month: warning before any threshold.
    const early = await at(OCT11, {});
    expect(early.forecastNano).toBe(12_400_000_000n);
    expect(early.health).toBe('warning');
    // The first (lowest) threshold counts; reaching it exactly is enough.
    expect((await at(Date.UTC(2026, 9, 31), { thresholds: [40, 90] })).health).toBe('warning');
    expect((await at(Date.UTC(2026, 9, 31), { thresholds: [41, 90] })).health).toBe('ok');
    // No thresholds: warns at 100% only.
    expect((await at(Date.UTC(2026, 9, 31), { thresholds: [], amountNano: 5n * USD })).health).toBe('ok');
    const spent = await at(Date.UTC(2026, 9, 31), { amountNano: 4n * USD });
    expect([spent.health, spent.remainingNano]).toEqual(['exceeded', 0n]);
    const over = await at(Date.UTC(2026, 9, 31), { amountNano: 3n * USD });
    expect([over.health, over.remainingNano]).toEqual(['exceeded', 0n]);
    // A new period starts from zero.
    const next = await at(Date.UTC(2026, 10, 2), { amountNano: 3n * USD });
    expect([next.spentNano, next.health, next.from, next.forecastNano]).toEqual([0n, 'ok', NOV, 0n]);
  });

  it('adds what calls in flight reserve, read from the counters of the current period', async () => {
    const bot = await agent('inflight/t/p/a');
    await spend(bot, [OCT + HOUR, 2n * USD]);
    const month = await policy({ scopePath: 'inflight/t/p/a', action: 'hard' });
    const quiet = await policy({ scopePath: 'inflight/t', period: 'week' });
    const rolling = await policy({ scopePath: 'inflight', period: 'rolling:3h', action: 'plan' });
    const counters = new MemoryCounters();
    const now = OCT11 + 30 * 60_000;
    const until = now + 60_000;
    const hold = async (lease: string, key: string, amount: bigint) => {
      await counters.seed(key, 0n, now + 10 * 24 * HOUR);
      expect(await counters.reserve(lease, [{ key, limit: 1000n * USD, amount, enforce: true }], until, now)).toMatchObject({ ok: true });
    };
    await hold('l1', `b:${month.id}:${OCT}`, 1_500_000_000n);
    await hold('l2', `b:${month.id}:${OCT}`, 250_000_000n);
    await hold('l3', `b:${month.id}:${Date.UTC(2026, 8, 1)}`, 9n * USD); // last period's counter: not this one
    // The rolling window's slices: the current hour and the one before count; three hours back does not.
    await hold('l4', `b:${rolling.id}:${OCT11}`, 3n);
    await hold('l5', `b:${rolling.id}:${OCT11 - HOUR}`, 4n);
    await hold('l6', `b:${rolling.id}:${OCT11 - 3 * HOUR}`, 100n);
    // An expired lease no longer holds anything.
    expect(await counters.reserve('old', [{ key: `b:${month.id}:${OCT}`, limit: 1000n * USD, amount: 7n * USD, enforce: true }], now - 1, now - 2)).toMatchObject({ ok: true });

    const [r, m, q] = await budgetStatus([rolling, month, quiet], { ledger: store.ledger, counters, now });
    expect(r?.reservedNano).toBe(7n);
    expect(m).toMatchObject({ spentNano: 2n * USD, reservedNano: 1_750_000_000n, remainingNano: 6_250_000_000n });
    // No counter yet (nothing admitted this period): nothing reserved, rather than unknown.
    expect(q?.reservedNano).toBe(0n);

    const tight = await budgetStatus([{ ...month, amountNano: 3n * USD }], { ledger: store.ledger, counters, now });
    expect(tight[0]).toMatchObject({ reservedNano: 1_750_000_000n, remainingNano: 0n });

    await counters.settle('l1', [{ key: `b:${month.id}:${OCT}`, amount: 1_000_000_000n }]);
    expect((await budgetStatus([month], { ledger: store.ledger, counters, now }))[0]?.reservedNano).toBe(250_000_000n);
    await counters.close();
  });

  it('shows spend without a reservation figure when the counters are down', async () => {
    const bot = await agent('down/t/p/a');
    await spend(bot, [OCT + HOUR, USD]);
    const p = await policy({ scopePath: 'down/t/p/a', amountNano: 5n * USD });
    const down: Counters = {
      reserve: () => Promise.reject(new Error('unreachable')),
      settle: () => Promise.reject(new Error('unreachable')),
      renew: () => Promise.reject(new Error('unreachable')),
      seed: () => Promise.reject(new Error('unreachable')),
      read: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
      close: () => Promise.resolve(),
    };
    const [s] = await budgetStatus([p], { ledger: store.ledger, counters: down, now: OCT11 });
    expect(s).toMatchObject({ spentNano: USD, reservedNano: null, remainingNano: 4n * USD });
  });

  it('counts a rolling window over its slices, and forecasts no more than it spent', async () => {
    const bot = await agent('rolling/t/p/a');
    const now = OCT11 + 25 * 60_000;
    // rolling:24h at 00:25 counts from 01:00 the day before (23 earlier hour slices plus the current one).
    const from = OCT11 - 23 * HOUR;
    await spend(bot, [from - 1, 100n * USD], [from, 1n * USD], [now - 1, 2n * USD]);
    const p = await policy({ scopePath: 'rolling/t/p/a', period: 'rolling:24h', amountNano: 4n * USD });
    const [s] = await budgetStatus([p], { ledger: store.ledger, counters: null, now });
    expect(s).toMatchObject({ from, resetsAt: OCT11 + HOUR, spentNano: 3n * USD, forecastNano: 3n * USD, remainingNano: USD, health: 'warning' });
  });

  it('aligns calendar periods in the budget time zone', async () => {
    const bot = await agent('zoned/t/p/a');
    // 03:00Z on 1 November is still 31 October in New York; 05:00Z is November there.
    await spend(bot, [Date.UTC(2026, 10, 1, 3), 1n * USD], [Date.UTC(2026, 10, 1, 5), 2n * USD]);
    const ny = await policy({ scopePath: 'zoned/t/p/a', timeZone: 'America/New_York' });
    const utc = await policy({ scopePath: 'zoned/t/p', timeZone: 'UTC' });
    const now = Date.UTC(2026, 10, 10);
    const [n, u] = await budgetStatus([ny, utc], { ledger: store.ledger, counters: null, now });
    expect(n).toMatchObject({ from: Date.UTC(2026, 10, 1, 4), resetsAt: Date.UTC(2026, 11, 1, 5), spentNano: 2n * USD });
    expect(u).toMatchObject({ from: NOV, resetsAt: Date.UTC(2026, 11, 1), spentNano: 3n * USD });
  });
});

describe('budgetJson', () => {
  it('renders money as exact decimal USD strings and times as ISO', async () => {
    await agent('json/t/p/a');
    const p = await policy({ scopePath: 'json/t/p/a', amountNano: 2n ** 60n + 7n, action: 'soft', degradeTo: 'cheap', thresholds: [80] });
    const [s] = await budgetStatus([p], { ledger: store.ledger, counters: null, now: OCT11 });
    expect(budgetJson({ ...s!, spentNano: 1n, reservedNano: null })).toEqual({
      id: p.id,
      scope: 'json/t/p/a',
      tier: 'agent',
      period: 'month',
      action: 'soft',
      amount_usd: '1152921504.606846983',
      spent_usd: '0.000000001',
      reserved_usd: null,
      remaining_usd: '1152921504.606846983',
      forecast_usd: '0.000000000',
      status: 'ok',
      thresholds: [80],
      time_zone: 'UTC',
      degrade_to: 'cheap',
      period_from: '2026-10-01T00:00:00.000Z',
      resets_at: '2026-11-01T00:00:00.000Z',
    });
    expect(budgetJson({ ...s!, reservedNano: 1_500_000_000n }).reserved_usd).toBe('1.500000000');
  });

  it('reads whole hours from the rollups and the current hour from the events, to the same nano-dollar', async () => {
    const bot = await agent('initech/ops/pager/rollup-bot');
    const now = OCT11 + 25 * 60_000 + 7_000; // 00:25:07 on Oct 11
    // Calls in early hours, one at the last whole hour's end, some in the running hour (before and after now).
    await spend(bot, [OCT + 1, 1n], [OCT + 5 * HOUR + 17, 3n * USD + 7n], [OCT11 - 1, 11n], [OCT11, 13n], [OCT11 + 60_000, 17n], [now + 1, 19n]);
    const month = await policy({ scopePath: 'initech/ops' });
    // Kolkata is UTC+5:30: its month starts on a half hour, so the whole window is read from the events.
    const kolkata = await policy({ scopePath: 'initech/ops/pager', timeZone: 'Asia/Kolkata' });
    const [m, k] = await budgetStatus([month, kolkata], { ledger: store.ledger, counters: null, now });
    const events = await store.ledger.totals({ from: OCT, to: NOV, within: { tier: 'team', id: month.scopeId } });
    expect(m!.spentNano).toBe(events.effectiveCostNano);
    expect(m!.spentNano).toBe(3n * USD + 7n + 1n + 11n + 13n + 17n + 19n);
    expect(k!.from % HOUR).not.toBe(0);
    const kEvents = await store.ledger.totals({ from: k!.from, to: k!.resetsAt, within: { tier: 'project', id: kolkata.scopeId } });
    expect(k!.spentNano).toBe(kEvents.effectiveCostNano);
  });
});

