/**
 * The Controls contract (budgets, rate limits, kill switches, budget alerts), run against every
 * backend: each backend's test file calls `runControlsContract` with a way to open a fresh store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TollgateError } from '../../src/domain/errors.ts';
import type { BudgetInput, Store } from '../../src/ledger/contract.ts';

export interface ControlsContractOptions {
  name: string;
  /** Opens a fresh, empty store. Called once per suite. */
  open: () => Promise<Store>;
  /** Cleans up after the suite (drop schema, delete file). */
  dispose?: () => Promise<void>;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MAX = 2n ** 63n - 1n;
const USD = 1_000_000_000n;

export function runControlsContract(opts: ControlsContractOptions): void {
  describe(`controls contract: ${opts.name}`, () => {
    let store: Store;
    const budget = (over: Partial<BudgetInput> = {}): BudgetInput => ({
      scopePath: 'acme/support',
      amountNano: 500n * USD,
      period: 'month',
      action: 'showback',
      thresholds: [50, 80, 100],
      timeZone: 'UTC',
      degradeTo: null,
      ...over,
    });
    /** What a refused change must leave alone: the budgets, the audit log and the version. */
    const snapshot = async () => ({
      budgets: await store.controls.listBudgets(),
      limits: await store.controls.listRateLimits(),
      kills: await store.controls.listKills(),
      audit: (await store.directory.audit({ limit: 1 }))[0]?.id ?? 0,
      version: await store.directory.version(),
    });

    beforeAll(async () => {
      store = await opts.open();
      for (const path of [
        'acme/support/helpdesk/triage-bot',
        'acme/support/helpdesk/summariser',
        'acme/support-eu/helpdesk/bot',
        'acme/eng/ci/review-bot',
        'globex/ops/billing/bot',
        'initech/tps/reports/bot',
      ]) {
        await store.directory.ensureScope(path, { create: true, actor: 'test' });
      }
      await store.directory.archiveScope('initech/tps', 'test');
    });
    afterAll(async () => {
      await store?.close();
      await opts.dispose?.();
    });

    describe('budgets', () => {
      it('creates a budget, then updates it in place and returns the one it replaced', async () => {
        const v0 = await store.directory.version();
        const created = await store.controls.setBudget(
          budget({ period: ' Month ', thresholds: [100, 50, 80, 50], timeZone: 'europe/paris' }),
          'alice',
        );
        expect(created.before).toBeNull();
        expect(created.budget).toMatchObject({
          scopePath: 'acme/support',
          tier: 'team',
          amountNano: 500n * USD,
          period: 'month',
          action: 'showback',
          thresholds: [50, 80, 100],
          timeZone: 'Europe/Paris',
          degradeTo: null,
        });
        expect(created.budget.id).toMatch(/^bud_[0-9a-f]{16}$/);
        expect(created.budget.scopeId).toBe((await store.directory.getScope('acme/support'))?.id);
        expect(created.budget.createdAt).toBe(created.budget.updatedAt);
        const v1 = await store.directory.version();
        expect(v1).toBeGreaterThan(v0);

        const big = 2n ** 60n + 7n; // ≈ $1.15 billion: above 2^53, exact only as a bigint
        const updated = await store.controls.setBudget(budget({ amountNano: big, thresholds: [90], timeZone: 'UTC' }), 'bob');
        expect(updated.before).toEqual(created.budget);
        expect(updated.budget).toMatchObject({ id: created.budget.id, amountNano: big, thresholds: [90], timeZone: 'UTC', createdAt: created.budget.createdAt });
        expect(updated.budget.updatedAt).toBeGreaterThanOrEqual(created.budget.updatedAt);
        expect(await store.directory.version()).toBeGreaterThan(v1);

        // One row per scope and period, read back exactly as returned.
        const listed = (await store.controls.listBudgets({ under: 'acme/support' })).filter((b) => b.scopePath === 'acme/support');
        expect(listed).toEqual([updated.budget]);
        expect(listed[0]?.amountNano).toBe(big);

        const audit = await store.directory.audit({ target: 'acme/support', limit: 2 });
        expect(audit.map((a) => [a.action, a.actor])).toEqual([
          ['budget.update', 'bob'],
          ['budget.create', 'alice'],
        ]);
        expect(audit[1]).toMatchObject({
          before: null,
          after: { period: 'month', amountUsd: '$500.00', action: 'showback', thresholds: [50, 80, 100], timeZone: 'Europe/Paris', degradeTo: null },
        });
        expect(audit[0]).toMatchObject({ before: { amountUsd: '$500.00', timeZone: 'Europe/Paris' }, after: { amountUsd: '$1,152,921,504.61', thresholds: [90] } });
      });

      it('keeps one budget per period: another period on the same scope is another budget', async () => {
        const week = await store.controls.setBudget(budget({ period: 'week', amountNano: 100n * USD }), 'alice');
        const rolling = await store.controls.setBudget(budget({ period: 'ROLLING:07d', amountNano: 200n * USD }), 'alice');
        expect(rolling.budget.period).toBe('rolling:7d');
        expect(rolling.before).toBeNull();
        const mine = (await store.controls.listBudgets({ under: 'acme/support' })).filter((b) => b.scopePath === 'acme/support');
        expect(mine.map((b) => b.period)).toEqual(['month', 'rolling:7d', 'week']);
        expect(new Set(mine.map((b) => b.id)).size).toBe(3);
        // Written differently, the same period finds the same row.
        const again = await store.controls.setBudget(budget({ period: 'rolling:7d', amountNano: 250n * USD }), 'alice');
        expect(again.before?.id).toBe(rolling.budget.id);
        await store.controls.deleteBudget('acme/support', 'week', 'alice');
        expect((await store.controls.listBudgets({ under: 'acme/support' })).some((b) => b.id === week.budget.id)).toBe(false);
      });

      it('stores exact amounts up to the limits, and refuses clearly beyond them', async () => {
        // Refusing budgets stop at 2^53-1 nano (shared counters compare in doubles); the others may be larger.
        for (const action of ['hard', 'chargeback'] as const) {
          const ok = await store.controls.setBudget(budget({ scopePath: 'acme/eng/ci/review-bot', period: 'day', action, amountNano: MAX_SAFE }), 'test');
          expect(ok.budget.amountNano).toBe(MAX_SAFE);
          const err = await store.controls
            .setBudget(budget({ scopePath: 'acme/eng/ci/review-bot', period: 'day', action, amountNano: MAX_SAFE + 1n }), 'test')
            .catch((e: unknown) => e);
          expect(err).toBeInstanceOf(TollgateError);
          expect(err).toMatchObject({ code: 'invalid_request', message: expect.stringContaining(`a ${action} budget can be at most $9,007,199.25 per period`) as unknown });
        }
        const soft = await store.controls.setBudget(budget({ scopePath: 'acme/eng/ci/review-bot', period: 'day', action: 'soft', amountNano: MAX_SAFE + 1n }), 'test');
        expect(soft.budget.amountNano).toBe(MAX_SAFE + 1n);
        const huge = await store.controls.setBudget(budget({ scopePath: 'acme/eng', period: 'year', action: 'plan', amountNano: INT64_MAX }), 'test');
        expect(huge.budget.amountNano).toBe(INT64_MAX);
        expect((await store.controls.listBudgets({ under: 'acme/eng' })).find((b) => b.id === huge.budget.id)?.amountNano).toBe(INT64_MAX);
        // Beyond a 64-bit column: a clear refusal, not a driver error.
        const before = await snapshot();
        await expect(store.controls.setBudget(budget({ scopePath: 'acme/eng', period: 'year', action: 'plan', amountNano: INT64_MAX + 1n }), 'test')).rejects.toMatchObject({
          code: 'invalid_request',
          message: expect.stringContaining('at most $9,223,372,036.85') as unknown,
        });
        expect(await snapshot()).toEqual(before);
        await store.controls.deleteBudget('acme/eng/ci/review-bot', 'day', 'test');
        await store.controls.deleteBudget('acme/eng', 'year', 'test');
      });

      it('refuses bad input with a message that says what to do, and changes nothing', async () => {
        const cases: [Partial<BudgetInput>, string, RegExp][] = [
          [{ period: 'fortnight' }, 'invalid_request', /unknown budget period "fortnight": use day, week, month, quarter, year, or a rolling window/],
          [{ period: 'rolling:0h' }, 'invalid_request', /unknown budget period "rolling:0h".*rolling:<N>h \(1-48\)/],
          [{ period: 'rolling:49h' }, 'invalid_request', /unknown budget period/],
          [{ period: 'rolling:91d' }, 'invalid_request', /rolling:<N>d \(1-90\)/],
          [{ timeZone: 'Mars/Base' }, 'invalid_request', /unknown time zone "Mars\/Base": use an IANA name such as UTC/],
          [{ timeZone: '' }, 'invalid_request', /unknown time zone ""/],
          [{ amountNano: 0n }, 'invalid_request', /a budget amount must be above \$0/],
          [{ amountNano: -5n * USD }, 'invalid_request', /above \$0/],
          [{ thresholds: [0] }, 'invalid_request', /alert thresholds are whole percentages from 1 to 1000, got 0/],
          [{ thresholds: [50, 1001] }, 'invalid_request', /got 1001/],
          [{ thresholds: [50.5] }, 'invalid_request', /got 50.5/],
          [{ action: 'hard', degradeTo: 'cheap' }, 'invalid_request', /only soft budgets degrade to a cheaper model \(this one is hard\)/],
          [{ action: 'showback', degradeTo: 'cheap' }, 'invalid_request', /this one is showback/],
          [{ action: 'bogus' as BudgetInput['action'] }, 'invalid_request', /unknown budget action "bogus": use hard, soft, showback, chargeback, plan/],
          [{ scopePath: 'initech/tps' }, 'scope_archived', /scope "initech\/tps" is archived/],
          [{ scopePath: 'initech/tps/reports/bot' }, 'scope_archived', /archived/],
          [{ scopePath: 'acme/nope' }, 'not_found', /scope "acme\/nope" does not exist/],
          [{ scopePath: 'Acme/Support' }, 'invalid_request', /invalid scope segment "Acme"/],
        ];
        const before = await snapshot();
        for (const [over, code, message] of cases) {
          const err = await store.controls.setBudget(budget({ period: 'quarter', ...over }), 'mallory').catch((e: unknown) => e);
          expect(err, JSON.stringify(over, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toBeInstanceOf(TollgateError);
          expect((err as TollgateError).code).toBe(code);
          expect((err as TollgateError).message).toMatch(message);
        }
        expect(await snapshot()).toEqual(before);
      });

      it('lets soft budgets degrade to a cheaper model', async () => {
        const { budget: b } = await store.controls.setBudget(budget({ scopePath: 'acme/support/helpdesk', action: 'soft', degradeTo: 'cheap-model' }), 'test');
        expect(b).toMatchObject({ action: 'soft', degradeTo: 'cheap-model', tier: 'project' });
        expect((await store.controls.listBudgets({ under: 'acme/support/helpdesk' })).find((x) => x.id === b.id)?.degradeTo).toBe('cheap-model');
      });

      it('deletes a budget, audited, and says not_found when there is none', async () => {
        const { budget: b } = await store.controls.setBudget(budget({ scopePath: 'globex/ops', period: 'day', action: 'hard', amountNano: 25n * USD }), 'test');
        const v0 = await store.directory.version();
        const gone = await store.controls.deleteBudget('globex/ops/', 'DAY', 'carol');
        expect(gone).toEqual(b);
        expect(await store.directory.version()).toBeGreaterThan(v0);
        expect((await store.controls.listBudgets({ under: 'globex' })).some((x) => x.id === b.id)).toBe(false);
        const [entry] = await store.directory.audit({ target: 'globex/ops', limit: 1 });
        expect(entry).toMatchObject({ action: 'budget.delete', actor: 'carol', before: { period: 'day', amountUsd: '$25.00', action: 'hard' }, after: null });

        const before = await snapshot();
        await expect(store.controls.deleteBudget('globex/ops', 'day', 'carol')).rejects.toMatchObject({
          code: 'not_found',
          message: 'scope "globex/ops" has no day budget (list budgets to see what is set)',
        });
        await expect(store.controls.deleteBudget('globex/ops', 'week', 'carol')).rejects.toMatchObject({ code: 'not_found' });
        await expect(store.controls.deleteBudget('globex/nope', 'day', 'carol')).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('does not exist') as unknown });
        await expect(store.controls.deleteBudget('globex/ops', 'fortnight', 'carol')).rejects.toMatchObject({ code: 'invalid_request' });
        expect(await snapshot()).toEqual(before);
      });

      it('lists a subtree only, in path then period order, without look-alike siblings', async () => {
        await store.controls.setBudget(budget({ scopePath: 'acme/support-eu', amountNano: 50n * USD }), 'test');
        await store.controls.setBudget(budget({ scopePath: 'acme/support-eu/helpdesk/bot', period: 'day', action: 'hard', amountNano: USD }), 'test');
        await store.controls.setBudget(budget({ scopePath: 'acme/support/helpdesk/triage-bot', period: 'day', action: 'hard', amountNano: 2n * USD }), 'test');
        await store.controls.setBudget(budget({ scopePath: 'acme/support/helpdesk/triage-bot', period: 'week', action: 'hard', amountNano: 9n * USD }), 'test');
        await store.controls.setBudget(budget({ scopePath: 'acme', period: 'year', action: 'plan', amountNano: 10_000n * USD }), 'test');
        await store.controls.setBudget(budget({ scopePath: 'globex', period: 'month', action: 'plan', amountNano: 7n * USD }), 'test');

        const pairs = (bs: { scopePath: string; period: string }[]) => bs.map((b) => `${b.scopePath} ${b.period}`);
        expect(pairs(await store.controls.listBudgets({ under: 'acme/support' }))).toEqual([
          'acme/support month',
          'acme/support rolling:7d',
          'acme/support/helpdesk month',
          'acme/support/helpdesk/triage-bot day',
          'acme/support/helpdesk/triage-bot week',
        ]);
        expect(pairs(await store.controls.listBudgets({ under: 'acme/support-eu' }))).toEqual(['acme/support-eu month', 'acme/support-eu/helpdesk/bot day']);
        expect(pairs(await store.controls.listBudgets({ under: 'acme/support/helpdesk/triage-bot' }))).toEqual([
          'acme/support/helpdesk/triage-bot day',
          'acme/support/helpdesk/triage-bot week',
        ]);
        expect(await store.controls.listBudgets({ under: 'acme/eng' })).toEqual([]);
        expect(await store.controls.listBudgets({ under: 'nobody' })).toEqual([]);
        const all = pairs(await store.controls.listBudgets());
        expect(all[0]).toBe('acme year');
        expect(all.at(-1)).toBe('globex month');
        const paths = all.map((p) => p.split(' ')[0]);
        expect(paths).toEqual([...paths].sort());
        await expect(store.controls.listBudgets({ under: 'Bad Path' })).rejects.toMatchObject({ code: 'invalid_request' });
      });

      it('resolves concurrent creates of the same budget into one row', async () => {
        const results = await Promise.all(
          [1n, 2n, 3n, 4n, 5n].map((n) => store.controls.setBudget(budget({ scopePath: 'acme/support/helpdesk/summariser', period: 'day', action: 'hard', amountNano: n * USD }), 'test')),
        );
        expect(results.filter((r) => r.before === null).length).toBe(1);
        const rows = (await store.controls.listBudgets({ under: 'acme/support/helpdesk/summariser' })).filter((b) => b.period === 'day');
        expect(rows.length).toBe(1);
        expect(new Set(results.map((r) => r.budget.id))).toEqual(new Set([rows[0]!.id]));
        const actions = (await store.directory.audit({ target: 'acme/support/helpdesk/summariser' })).map((a) => a.action);
        expect(actions.filter((a) => a === 'budget.create').length).toBe(1);
        expect(actions.filter((a) => a === 'budget.update').length).toBe(4);
      });
    });

    describe('rate limits', () => {
      const bot = 'acme/support/helpdesk/triage-bot';

      it('sets, replaces and removes (both null), each change audited and versioned', async () => {
        const v0 = await store.directory.version();
        const set = await store.controls.setRateLimit(bot, { rpm: 60, tpm: null }, 'alice');
        expect(set).toMatchObject({ scopePath: bot, rpm: 60, tpm: null });
        expect(set?.scopeId).toBe((await store.directory.getScope(bot))?.id);
        const v1 = await store.directory.version();
        expect(v1).toBeGreaterThan(v0);
        expect(await store.controls.listRateLimits({ under: bot })).toEqual([set]);

        const replaced = await store.controls.setRateLimit(bot, { rpm: null, tpm: 50_000 }, 'alice');
        expect(replaced).toMatchObject({ rpm: null, tpm: 50_000 });
        expect((await store.controls.listRateLimits({ under: bot })).map((l) => [l.rpm, l.tpm])).toEqual([[null, 50_000]]);
        const v2 = await store.directory.version();
        expect(v2).toBeGreaterThan(v1);

        expect(await store.controls.setRateLimit(bot, { rpm: null, tpm: null }, 'bob')).toBeNull();
        expect(await store.controls.listRateLimits({ under: bot })).toEqual([]);
        expect(await store.directory.version()).toBeGreaterThan(v2);

        const audit = await store.directory.audit({ target: bot, limit: 3 });
        expect(audit.map((a) => [a.action, a.before, a.after])).toEqual([
          ['limits.delete', { rpm: null, tpm: 50_000 }, null],
          ['limits.set', { rpm: 60, tpm: null }, { rpm: null, tpm: 50_000 }],
          ['limits.set', null, { rpm: 60, tpm: null }],
        ]);
      });

      it('lists a subtree without look-alike siblings', async () => {
        await store.controls.setRateLimit('acme/support/helpdesk/summariser', { rpm: 10, tpm: 1000 }, 'test');
        await store.controls.setRateLimit('acme/support-eu/helpdesk/bot', { rpm: 20, tpm: null }, 'test');
        await store.controls.setRateLimit('acme/support', { rpm: null, tpm: 9_000_000 }, 'test');
        expect((await store.controls.listRateLimits({ under: 'acme/support' })).map((l) => l.scopePath)).toEqual(['acme/support', 'acme/support/helpdesk/summariser']);
        expect((await store.controls.listRateLimits()).map((l) => l.scopePath)).toEqual(['acme/support', 'acme/support-eu/helpdesk/bot', 'acme/support/helpdesk/summariser']);
      });

      it('refuses limits that are not whole numbers above 0, and unknown scopes', async () => {
        const before = await snapshot();
        for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
          await expect(store.controls.setRateLimit(bot, { rpm: bad, tpm: 100 }, 'test')).rejects.toMatchObject({
            code: 'invalid_request',
            message: `rpm must be a whole number above 0, got ${bad}`,
          });
          await expect(store.controls.setRateLimit(bot, { rpm: 100, tpm: bad }, 'test')).rejects.toMatchObject({ message: expect.stringMatching(/^tpm must be a whole number/) as unknown });
        }
        await expect(store.controls.setRateLimit('acme/nope', { rpm: 1, tpm: null }, 'test')).rejects.toMatchObject({ code: 'not_found' });
        expect(await snapshot()).toEqual(before);
      });
    });

    describe('kill switches', () => {
      const bot = 'acme/support/helpdesk/triage-bot';

      it('kills with a reason, refuses a second kill, revives once', async () => {
        const v0 = await store.directory.version();
        const before = Date.now();
        const k = await store.controls.kill(bot, '  runaway tool loop  ', 'alice');
        expect(k).toMatchObject({ scopePath: bot, actor: 'alice', reason: 'runaway tool loop' });
        expect(k.at).toBeGreaterThanOrEqual(before);
        expect(k.scopeId).toBe((await store.directory.getScope(bot))?.id);
        expect(await store.controls.listKills()).toEqual([k]);
        const v1 = await store.directory.version();
        expect(v1).toBeGreaterThan(v0);

        const unchanged = await snapshot();
        const again = await store.controls.kill(bot, 'another reason', 'bob').catch((e: unknown) => e);
        expect(again).toMatchObject({ code: 'conflict' });
        expect((again as Error).message).toBe(`scope "${bot}" is already killed (by alice at ${new Date(k.at).toISOString()}: runaway tool loop)`);
        expect(await snapshot()).toEqual(unchanged);

        const revived = await store.controls.revive(bot, 'bob');
        expect(revived).toEqual(k);
        expect(await store.controls.listKills()).toEqual([]);
        expect(await store.directory.version()).toBeGreaterThan(v1);
        await expect(store.controls.revive(bot, 'bob')).rejects.toMatchObject({ code: 'not_found', message: `scope "${bot}" is not killed` });

        const audit = await store.directory.audit({ target: bot, limit: 2 });
        expect(audit.map((a) => [a.action, a.actor, a.before, a.after])).toEqual([
          ['scope.revive', 'bob', { killedBy: 'alice', at: k.at, reason: 'runaway tool loop' }, null],
          ['scope.kill', 'alice', null, { reason: 'runaway tool loop' }],
        ]);
      });

      it('requires a reason and an existing scope', async () => {
        const before = await snapshot();
        for (const reason of ['', '   ']) {
          await expect(store.controls.kill(bot, reason, 'alice')).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('say why the scope is killed') as unknown });
        }
        await expect(store.controls.kill('acme/nope', 'x', 'alice')).rejects.toMatchObject({ code: 'not_found' });
        await expect(store.controls.revive('acme/nope', 'alice')).rejects.toMatchObject({ code: 'not_found' });
        expect(await snapshot()).toEqual(before);
      });

      it('lists every kill switch in force', async () => {
        await store.controls.kill('acme/support-eu', 'contract ended', 'alice');
        await store.controls.kill('globex/ops/billing/bot', 'leaked key', 'alice');
        expect((await store.controls.listKills()).map((k) => [k.scopePath, k.reason]).sort()).toEqual([
          ['acme/support-eu', 'contract ended'],
          ['globex/ops/billing/bot', 'leaked key'],
        ]);
        await store.controls.revive('acme/support-eu', 'alice');
        await store.controls.revive('globex/ops/billing/bot', 'alice');
      });
    });

    describe('budget alerts', () => {
      it('records a threshold once per budget, period and threshold, and lists newest first', async () => {
        const { budget: b } = await store.controls.setBudget(budget({ scopePath: 'globex/ops/billing', period: 'month', action: 'soft', amountNano: 100n * USD }), 'test');
        const { budget: other } = await store.controls.setBudget(budget({ scopePath: 'globex/ops/billing/bot', period: 'day', action: 'hard', amountNano: USD }), 'test');
        const period = Date.UTC(2026, 9, 1);
        const big = 2n ** 62n + 1n;
        const alert = { budgetId: b.id, periodStart: period, threshold: 50, at: period + 1000, spentNano: 50n * USD + 1n, limitNano: 100n * USD };
        expect(await store.controls.recordAlert(alert)).toBe(true);
        // The same crossing seen again (another replica, a retry) is not a new alert.
        expect(await store.controls.recordAlert({ ...alert, at: period + 2000, spentNano: 60n * USD })).toBe(false);
        expect(await store.controls.recordAlert({ ...alert, threshold: 80, at: period + 3000, spentNano: big })).toBe(true);
        expect(await store.controls.recordAlert({ ...alert, periodStart: Date.UTC(2026, 10, 1), at: period + 4000 })).toBe(true);
        expect(await store.controls.recordAlert({ budgetId: other.id, periodStart: period, threshold: 100, at: period + 2500, spentNano: USD, limitNano: USD })).toBe(true);

        const mine = await store.controls.alerts({ budgetId: b.id });
        expect(mine).toEqual([
          { ...alert, periodStart: Date.UTC(2026, 10, 1), at: period + 4000, scopePath: 'globex/ops/billing' },
          { ...alert, threshold: 80, at: period + 3000, spentNano: big, scopePath: 'globex/ops/billing' },
          { ...alert, scopePath: 'globex/ops/billing' },
        ]);
        const all = await store.controls.alerts();
        expect(all.map((a) => a.at)).toEqual([period + 4000, period + 3000, period + 2500, period + 1000]);
        expect(all[2]?.scopePath).toBe('globex/ops/billing/bot');
        expect((await store.controls.alerts({ limit: 2 })).map((a) => a.at)).toEqual([period + 4000, period + 3000]);

        // An alert outlives its budget and says so.
        await store.controls.deleteBudget('globex/ops/billing/bot', 'day', 'test');
        expect((await store.controls.alerts({ budgetId: other.id }))[0]?.scopePath).toBe('(deleted budget)');
      });

      it('inserts a threshold exactly once when replicas race', async () => {
        const { budget: b } = await store.controls.setBudget(budget({ scopePath: 'globex/ops', period: 'week', action: 'plan' }), 'test');
        const alert = { budgetId: b.id, periodStart: Date.UTC(2026, 9, 5), threshold: 100, at: Date.UTC(2026, 9, 6), spentNano: 500n * USD, limitNano: 500n * USD };
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.controls.recordAlert({ ...alert, at: alert.at + i })));
        expect(results.filter(Boolean).length).toBe(1);
        expect((await store.controls.alerts({ budgetId: b.id })).length).toBe(1);
      });
    });
  });
}
