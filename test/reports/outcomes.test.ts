/**
 * The outcomes store on SQLite and PostgreSQL: outcome types (validation, audit), idempotent
 * recording (duplicates named, all or nothing), and the queries unit economics reads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TollgateError } from '../../src/domain/errors.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import type { Store } from '../../src/ledger/contract.ts';
import type { OutcomeInput } from '../../src/ledger/outcomes-contract.ts';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { makeEvent } from '../support/events.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';

const USD = 1_000_000_000n;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 9, 5, 12); // Monday 2026-10-05, 12:00 UTC

async function chainOf(store: Store, path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [o, t, p, a] = nodes;
  return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
}

async function refusal(p: Promise<unknown>): Promise<TollgateError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TollgateError);
  return err as TollgateError;
}

function runOutcomesSuite(name: string, open: () => Promise<Store>, dispose: () => Promise<void>): void {
  describe(`outcomes store: ${name}`, () => {
    let store: Store;
    let bot: ScopeChain;
    let summariser: ScopeChain;
    let fixer: ScopeChain;
    let globex: ScopeChain;
    const outcome = (chain: ScopeChain, over: Partial<OutcomeInput> = {}): OutcomeInput => ({
      type: 'resolved_ticket',
      count: 1,
      occurredAt: T0,
      traceId: null,
      valueNano: null,
      idempotencyKey: `k-${Math.random()}`,
      chain,
      keyId: null,
      ...over,
    });

    beforeAll(async () => {
      store = await open();
      bot = await chainOf(store, 'acme/support/helpdesk/triage-bot');
      summariser = await chainOf(store, 'acme/support/helpdesk/summariser');
      fixer = await chainOf(store, 'acme/eng/ci/fixer');
      globex = await chainOf(store, 'globex/ops/billing/bot');
      await chainOf(store, 'acme/old/legacy/bot');
      await store.directory.archiveScope('acme/old', 'test');
      const base = { unit: 'ticket', targetNano: null };
      await store.outcomes.setType({ projectPath: 'acme/support/helpdesk', type: 'resolved_ticket', displayName: 'Resolved ticket', baselineNano: 6n * USD, ...base }, 'alice');
      await store.outcomes.setType({ projectPath: 'acme/eng/ci', type: 'fixed_test', displayName: 'Fixed test', unit: 'test', baselineNano: 30n * USD, targetNano: 8n * USD }, 'alice');
      await store.outcomes.setType({ projectPath: 'globex/ops/billing', type: 'resolved_ticket', displayName: 'Ticket', baselineNano: 5n * USD, ...base }, 'alice');
    });
    afterAll(async () => {
      await store?.close();
      await dispose();
    });

    describe('types', () => {
      it('creates, replaces (returning what it replaced) and audits', async () => {
        const first = await store.outcomes.setType({ projectPath: 'acme/support/helpdesk', type: 'escalation', displayName: 'Escalation', unit: 'ticket', baselineNano: null, targetNano: null }, 'bob');
        expect(first.before).toBeNull();
        expect(first.type).toMatchObject({ projectPath: 'acme/support/helpdesk', type: 'escalation', baselineNano: null });
        const second = await store.outcomes.setType({ projectPath: 'acme/support/helpdesk/', type: 'escalation', displayName: ' Escalated ticket ', unit: 'ticket', baselineNano: 2_500_000_000n, targetNano: 1n }, 'bob');
        expect(second.before?.displayName).toBe('Escalation');
        expect(second.type).toMatchObject({ displayName: 'Escalated ticket', baselineNano: 2_500_000_000n, targetNano: 1n, createdAt: first.type.createdAt });
        const [audit] = await store.directory.audit({ limit: 1, target: 'acme/support/helpdesk' });
        expect(audit).toMatchObject({ actor: 'bob', action: 'outcome_type.update', before: { name: 'Escalation' }, after: { name: 'Escalated ticket', baselineNano: '2500000000', targetNano: '1' } });
      });

      it('lists in path order, within a subtree (an agent path shows its project\'s types)', async () => {
        const all = await store.outcomes.listTypes();
        expect(all.map((t) => `${t.projectPath}:${t.type}`)).toEqual([
          'acme/eng/ci:fixed_test',
          'acme/support/helpdesk:escalation',
          'acme/support/helpdesk:resolved_ticket',
          'globex/ops/billing:resolved_ticket',
        ]);
        expect((await store.outcomes.listTypes({ under: 'acme/support' })).map((t) => t.type)).toEqual(['escalation', 'resolved_ticket']);
        expect((await store.outcomes.listTypes({ under: 'acme/support/helpdesk/triage-bot' })).map((t) => t.type)).toEqual(['escalation', 'resolved_ticket']);
        expect((await store.outcomes.listTypes({ under: 'globex' })).map((t) => t.baselineNano)).toEqual([5n * USD]);
        // `acme/eng` is not a prefix match for `acme/eng-eu`.
        await chainOf(store, 'acme/eng-eu/ci/bot');
        await store.outcomes.setType({ projectPath: 'acme/eng-eu/ci', type: 'fixed_test', displayName: 'x', unit: 'test', baselineNano: USD, targetNano: null }, 'bob');
        expect((await store.outcomes.listTypes({ under: 'acme/eng' })).map((t) => t.projectPath)).toEqual(['acme/eng/ci']);
      });

      it('refuses bad types with a clear error and changes nothing', async () => {
        const before = await store.outcomes.listTypes();
        const auditBefore = (await store.directory.audit({ limit: 1 }))[0]?.id;
        const base = { projectPath: 'acme/support/helpdesk', type: 'ok_type', displayName: 'x', unit: 'ticket', baselineNano: USD, targetNano: null };
        expect((await refusal(store.outcomes.setType({ ...base, projectPath: 'acme/support' }, 'x'))).message).toMatch(/belong to a project.*"acme\/support" is a team/);
        expect((await refusal(store.outcomes.setType({ ...base, projectPath: 'acme/support/helpdesk/triage-bot' }, 'x'))).message).toMatch(/is an agent/);
        expect((await refusal(store.outcomes.setType({ ...base, projectPath: 'acme/nope/x' }, 'x'))).code).toBe('not_found');
        expect((await refusal(store.outcomes.setType({ ...base, projectPath: 'acme/old/legacy' }, 'x'))).code).toBe('scope_archived');
        expect((await refusal(store.outcomes.setType({ ...base, type: 'Resolved Ticket' }, 'x'))).message).toMatch(/not a slug/);
        expect((await refusal(store.outcomes.setType({ ...base, displayName: '  ' }, 'x'))).message).toMatch(/display name/);
        expect((await refusal(store.outcomes.setType({ ...base, unit: '' }, 'x'))).message).toMatch(/unit/);
        expect((await refusal(store.outcomes.setType({ ...base, baselineNano: 0n }, 'x'))).message).toMatch(/baseline cost per outcome must be above \$0/);
        expect((await refusal(store.outcomes.setType({ ...base, targetNano: -1n }, 'x'))).message).toMatch(/target/);
        expect(await store.outcomes.listTypes()).toEqual(before);
        expect((await store.directory.audit({ limit: 1 }))[0]?.id).toBe(auditBefore);
      });
    });

    describe('recording', () => {
      it('is idempotent by key: duplicates in the batch and from earlier batches are named in input order', async () => {
        const a = await store.outcomes.record([
          outcome(bot, { idempotencyKey: 'ticket-1' }),
          outcome(bot, { idempotencyKey: 'ticket-2', count: 3 }),
          outcome(bot, { idempotencyKey: 'ticket-1' }),
        ]);
        expect(a).toEqual({ inserted: 2, duplicates: ['ticket-1'] });
        const b = await store.outcomes.record([outcome(bot, { idempotencyKey: 'ticket-2' }), outcome(bot, { idempotencyKey: 'ticket-3' }), outcome(summariser, { idempotencyKey: 'ticket-1', count: 99 })]);
        expect(b).toEqual({ inserted: 1, duplicates: ['ticket-2', 'ticket-1'] });
        const [c] = await store.outcomes.counts({ from: T0, to: T0 + 1, within: { tier: 'project', id: bot.projectId } });
        // 1 + 3 + 1: the retries (one with a different count) changed nothing.
        expect(c).toMatchObject({ type: 'resolved_ticket', outcomes: 5n });
      });

      it('records a key once under concurrent retries', async () => {
        const results = await Promise.all(Array.from({ length: 8 }, () => store.outcomes.record([outcome(bot, { idempotencyKey: 'race-1', occurredAt: T0 - DAY * 400 })])));
        const inserted = results.map((r) => r.inserted);
        expect(inserted.filter((n) => n === 1)).toHaveLength(1);
        expect(inserted.filter((n) => n === 0)).toHaveLength(7);
      });

      it('refuses the whole batch when one outcome is bad, naming it', async () => {
        const before = await store.outcomes.counts({ from: 0, to: Date.now() + DAY });
        let err = await refusal(store.outcomes.record([outcome(bot, { idempotencyKey: 'fine-1' }), outcome(bot, { idempotencyKey: 'bad-1', type: 'merged_pr' })]));
        expect(err.code).toBe('invalid_request');
        expect(err.message).toMatch(/^outcome 2: type "merged_pr" is not configured for project acme\/support\/helpdesk/);
        expect(err.details).toMatchObject({ index: 1 });
        // A type of another project is not this project's.
        err = await refusal(store.outcomes.record([outcome(fixer, { idempotencyKey: 'bad-2' })]));
        expect(err.message).toMatch(/"resolved_ticket" is not configured for project acme\/eng\/ci/);
        const cases: [Partial<OutcomeInput>, RegExp][] = [
          [{ idempotencyKey: '' }, /idempotency_key is missing/],
          [{ idempotencyKey: 'x'.repeat(201) }, /longer than 200/],
          [{ count: 0 }, /count must be a whole number from 1/],
          [{ count: 1.5 }, /count must be a whole number/],
          [{ count: 1_000_001 }, /count must be a whole number from 1 to 1,000,000/],
          [{ occurredAt: Date.now() + 2 * 3_600_000 }, /in the future/],
          [{ occurredAt: Date.UTC(1999, 11, 31) }, /before 2000/],
          [{ valueNano: -1n }, /value_usd/],
          [{ traceId: '' }, /trace_id/],
          [{ type: 'Bad Type' }, /not an outcome type slug/],
        ];
        for (const [over, message] of cases) {
          err = await refusal(store.outcomes.record([outcome(bot, { idempotencyKey: 'fine-2' }), outcome(bot, { idempotencyKey: 'bad-3', ...over })]));
          expect(err.code).toBe('invalid_request');
          expect(err.message).toMatch(/^outcome 2: /);
          expect(err.message).toMatch(message);
        }
        expect(await store.outcomes.counts({ from: 0, to: Date.now() + DAY })).toEqual(before);
        // Nothing half-recorded: the good keys are still free.
        expect(await store.outcomes.record([outcome(bot, { idempotencyKey: 'fine-1', occurredAt: T0 - DAY * 400 }), outcome(bot, { idempotencyKey: 'fine-2', occurredAt: T0 - DAY * 400 })])).toEqual({ inserted: 2, duplicates: [] });
      });

      it('takes an empty batch and a large one (split into statements)', async () => {
        expect(await store.outcomes.record([])).toEqual({ inserted: 0, duplicates: [] });
        const many = Array.from({ length: 1001 }, (_, i) => outcome(globex, { idempotencyKey: `bulk-${i}`, occurredAt: T0 + 3 * DAY, valueNano: 2n * USD }));
        expect((await store.outcomes.record(many)).inserted).toBe(1001);
        const [c] = await store.outcomes.counts({ from: T0 + 3 * DAY, to: T0 + 3 * DAY + 1, within: { tier: 'org', id: globex.orgId } });
        expect(c).toMatchObject({ outcomes: 1001n, valueNano: 2002n * USD });
      });
    });

    describe('queries', () => {
      // A fresh window, far from the other tests: weeks of 2026-06.
      const W = Date.UTC(2026, 5, 1); // Monday
      beforeAll(async () => {
        await store.outcomes.record([
          outcome(bot, { idempotencyKey: 'q1', occurredAt: W + 1000, count: 2, traceId: 'trace-a', valueNano: 10n * USD }),
          outcome(summariser, { idempotencyKey: 'q2', occurredAt: W + 6 * DAY, count: 1, traceId: 'trace-b' }),
          outcome(bot, { idempotencyKey: 'q3', occurredAt: W + 7 * DAY, count: 4, traceId: 'trace-a' }),
          outcome(bot, { idempotencyKey: 'q4', occurredAt: W + 8 * DAY, count: 1, traceId: 'trace-missing' }),
          outcome(fixer, { idempotencyKey: 'q5', occurredAt: W + 8 * DAY, type: 'fixed_test', count: 1, traceId: 'trace-a' }),
          outcome(globex, { idempotencyKey: 'q6', occurredAt: W + 8 * DAY, count: 1, traceId: 'trace-a' }),
          outcome(bot, { idempotencyKey: 'q7', occurredAt: W + 14 * DAY, count: 1 }),
        ]);
        // trace-a: two acme agents (bot and summariser) and one globex call; trace-b: one call.
        await store.ledger.record([
          makeEvent(bot, { traceId: 'trace-a', startedAt: W, usage: { inputTokens: 100, cacheReadTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: 10, reasoningTokens: 0, requests: 1 }, effectiveCostNano: 300_000_000n }),
          makeEvent(bot, { traceId: 'trace-a', startedAt: W + 1, effectiveCostNano: 200_000_000n }),
          makeEvent(summariser, { traceId: 'trace-a', startedAt: W + 2, effectiveCostNano: 100_000_000n }),
          makeEvent(globex, { traceId: 'trace-a', startedAt: W + 3, effectiveCostNano: 9_000_000_000n }),
          makeEvent(summariser, { traceId: 'trace-b', startedAt: W + 4, effectiveCostNano: 70_000_000n }),
        ]);
      });

      it('counts by project and type, optionally by ISO week, within a scope', async () => {
        const all = await store.outcomes.counts({ from: W, to: W + 21 * DAY, within: { tier: 'org', id: bot.orgId } });
        const named = all.map((c) => [c.projectId === bot.projectId ? 'helpdesk' : 'ci', c.type, c.outcomes, c.valueNano, c.weekStart]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
        expect(named).toEqual([
          ['ci', 'fixed_test', 1n, 0n, null],
          ['helpdesk', 'resolved_ticket', 9n, 10n * USD, null],
        ]);
        const weeks = await store.outcomes.counts({ from: W, to: W + 21 * DAY, within: { tier: 'project', id: bot.projectId }, byWeek: true });
        expect(weeks.map((c) => [new Date(c.weekStart!).toISOString().slice(0, 10), c.outcomes])).toEqual([
          ['2026-06-01', 3n],
          ['2026-06-08', 5n],
          ['2026-06-15', 1n],
        ]);
        const agent = await store.outcomes.counts({ from: W, to: W + 21 * DAY, within: { tier: 'agent', id: summariser.agentId } });
        expect(agent.map((c) => c.outcomes)).toEqual([1n]);
        // The window is [from, to): an outcome at `to` is outside.
        const edge = await store.outcomes.counts({ from: W, to: W + 14 * DAY, within: { tier: 'team', id: bot.teamId } });
        expect(edge.map((c) => c.outcomes)).toEqual([8n]);
      });

      it('joins traced outcomes to the cost of their trace (every agent of the same org)', async () => {
        const rows = await store.outcomes.traceOutcomes({ from: W, to: W + 21 * DAY, within: { tier: 'team', id: bot.teamId } });
        expect(rows.map((r) => ({ trace: r.traceId, type: r.type, outcomes: r.outcomes, cost: r.costNano, calls: r.calls }))).toEqual([
          // 2 + 4 outcomes on trace-a: its acme calls cost 0.3 + 0.2 + 0.1 (the globex call is another org's).
          { trace: 'trace-a', type: 'resolved_ticket', outcomes: 6n, cost: 600_000_000n, calls: 3n },
          { trace: 'trace-b', type: 'resolved_ticket', outcomes: 1n, cost: 70_000_000n, calls: 1n },
          { trace: 'trace-missing', type: 'resolved_ticket', outcomes: 1n, cost: null, calls: 0n },
        ]);
        expect(rows[0]!.tokens).toBe(110n + 1200n * 2n);
        const globexRows = await store.outcomes.traceOutcomes({ from: W, to: W + 21 * DAY, within: { tier: 'org', id: globex.orgId } });
        expect(globexRows.map((r) => [r.traceId, r.costNano])).toEqual([['trace-a', 9_000_000_000n]]);
      });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-outcomes-'));
runOutcomesSuite('sqlite', () => openSqliteStore(join(dir, 'outcomes.db')), () => Promise.resolve(rmSync(dir, { recursive: true, force: true })));

const schema = testSchemaName();
if (await postgresAvailable()) {
  runOutcomesSuite('postgres', () => openPostgresStore(PG_URL, { schema }), () => dropSchema(schema));
} else {
  describe.skip('outcomes store: postgres (PostgreSQL unreachable)', () => {
    it('skipped', () => undefined);
  });
}
