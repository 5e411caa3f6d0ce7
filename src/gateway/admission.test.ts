import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryCounters } from '../counters/memory/memory-counters.ts';
import type { TollgateError } from '../domain/errors.ts';
import { usdToNano } from '../domain/money.ts';
import type { ScopeChain } from '../domain/scope.ts';
import type { Store } from '../ledger/contract.ts';
import { openSqliteStore } from '../ledger/sqlite/sqlite-store.ts';
import { Admission } from './admission.ts';
import { ControlsCache } from './controls-cache.ts';

const AGENT = 'acme/support/helpdesk/bot';
const quiet = { warn: () => undefined, error: () => undefined };

describe('Admission: a lease lost while its call runs', () => {
  let store: Store;
  let cache: ControlsCache;
  let admission: Admission;
  let counters: MemoryCounters;
  let chain: ScopeChain;
  let clock = Date.parse('2026-11-29T12:00:00Z');

  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    const { nodes } = await store.directory.ensureScope(AGENT, { create: true, actor: 'test' });
    const [org, team, project, agent] = nodes;
    chain = { orgId: org!.id, orgName: 'acme', teamId: team!.id, teamName: 'support', projectId: project!.id, projectName: 'helpdesk', agentId: agent!.id, agentName: 'bot' };
    await store.controls.setBudget({ scopePath: AGENT, amountNano: usdToNano('1'), period: 'day', action: 'hard', thresholds: [], timeZone: 'UTC', degradeTo: null }, 'test');
    cache = new ControlsCache(store.controls, store.directory);
    await cache.start();
    counters = new MemoryCounters();
    admission = new Admission({ counters, cache, controls: store.controls, ledger: store.ledger, now: () => clock, leaseMs: 90, log: quiet });
  });
  afterEach(async () => {
    admission.close();
    cache.close();
    await store.close();
  });

  const ask = (id: string, usd: string) => ({ id, chain, at: clock, costNano: usdToNano(usd), tokens: 10, fit: () => 0 });
  const reserved = async () => (await counters.read([`b:${(await store.controls.listBudgets())[0]!.id}:${Date.parse('2026-11-29T00:00:00Z')}`], clock))[0]?.reserved;

  it('cuts a stream whose expired reservation was taken by another call', async () => {
    await admission.admit(ask('A', '0.6'));
    let cut: TollgateError | null = null;
    admission.track('A', chain, (reason) => (cut = reason));
    clock += 1000; // A's holder stalled: its lease expired and B gets the room
    const b = await admission.admit(ask('B', '0.6'));
    admission.start();
    await new Promise((r) => setTimeout(r, 120));
    expect((cut as TollgateError | null)?.code).toBe('budget_exceeded');
    expect(await reserved()).toBe(usdToNano('0.6'));
    await admission.settle(b, { costNano: usdToNano('0.5'), tokens: 10 });
  });

  it('reserves again when the room is still there, and cuts nothing', async () => {
    await admission.admit(ask('A', '0.3'));
    let cut: TollgateError | null = null;
    admission.track('A', chain, (reason) => (cut = reason));
    clock += 1000;
    await admission.admit(ask('B', '0.3'));
    admission.start();
    await new Promise((r) => setTimeout(r, 120));
    expect(cut).toBeNull();
    expect(await reserved()).toBe(usdToNano('0.6'));
  });
});

describe('Admission: a rolling window', () => {
  it('counts the earlier hours of the window and frees them as they leave it', async () => {
    const store = await openSqliteStore(':memory:');
    const { nodes } = await store.directory.ensureScope(AGENT, { create: true, actor: 'test' });
    const [org, team, project, agent] = nodes;
    const chain: ScopeChain = { orgId: org!.id, orgName: 'acme', teamId: team!.id, teamName: 'support', projectId: project!.id, projectName: 'helpdesk', agentId: agent!.id, agentName: 'bot' };
    await store.controls.setBudget({ scopePath: AGENT, amountNano: usdToNano('1'), period: 'rolling:2h', action: 'hard', thresholds: [], timeZone: 'UTC', degradeTo: null }, 'test');
    const cache = new ControlsCache(store.controls, store.directory);
    await cache.start();
    let clock = Date.parse('2026-11-29T10:30:00Z');
    const admission = new Admission({ counters: new MemoryCounters(), cache, controls: store.controls, ledger: store.ledger, now: () => clock, log: quiet });
    const ask = (id: string, usd: string) => admission.admit({ id, chain, at: clock, costNano: usdToNano(usd), tokens: 1, fit: () => 0 });
    try {
      await admission.settle(await ask('A', '0.7'), { costNano: usdToNano('0.7'), tokens: 1 });
      clock = Date.parse('2026-11-29T11:30:00Z'); // the next hour: 10:00-11:00 is still in the window
      await expect(ask('B', '0.4')).rejects.toMatchObject({ code: 'budget_exceeded' });
      await admission.settle(await ask('C', '0.3'), { costNano: usdToNano('0.3'), tokens: 1 });
      clock = Date.parse('2026-11-29T12:05:00Z'); // 10:00-11:00 has left the window; 11:00-12:00 holds 0.3
      await expect(ask('D', '0.8')).rejects.toMatchObject({ code: 'budget_exceeded' });
      expect((await ask('E', '0.7')).leaseId).toBe('E');
    } finally {
      admission.close();
      cache.close();
      await store.close();
    }
  });
});
