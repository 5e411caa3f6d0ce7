/**
 * Budgets, rate limits, kill switches and budget alerts over Kysely: identical SQL on SQLite and
 * PostgreSQL. Every change is audited and bumps the directory version that gateway caches watch.
 */
import type { Kysely, Selectable } from 'kysely';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { checkTimeZone, parsePeriod } from '../domain/budget-period.ts';
import { TollgateError } from '../domain/errors.ts';
import { formatUsd } from '../domain/money.ts';
import { formatScope, parseScope } from '../domain/scope.ts';
import type { Tier } from '../domain/scope.ts';
import type { BudgetAction, BudgetAlert, BudgetInput, BudgetPolicy, Controls, KillSwitch, RateLimit, ScopeNode } from './contract.ts';
import { bumpVersion, isUniqueViolation, mustGetScope, writeAudit } from './kysely-directory.ts';
import type { BudgetsTable, Database } from './schema.ts';

export const BUDGET_ACTIONS = ['hard', 'soft', 'showback', 'chargeback', 'plan'] as const satisfies readonly BudgetAction[];
/** Actions that refuse calls once the budget is spent. */
export const REFUSING_ACTIONS: ReadonlySet<BudgetAction> = new Set(['hard', 'chargeback']);
/** Shared counters compare in Lua doubles: refusing limits stay exact below 2^53 nano-USD (~$9.0M per period). */
export const MAX_REFUSING_NANO = BigInt(Number.MAX_SAFE_INTEGER);
/** Amounts are stored in 64-bit integer columns (~$9.2 billion per period). */
export const MAX_BUDGET_NANO = 2n ** 63n - 1n;

export class KyselyControls implements Controls {
  readonly #db: Kysely<Database>;
  readonly #now: () => number;

  constructor(db: Kysely<Database>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async setBudget(input: BudgetInput, actor: string): Promise<{ budget: BudgetPolicy; before: BudgetPolicy | null }> {
    const period = parsePeriod(input.period).label;
    const timeZone = checkTimeZone(input.timeZone);
    checkBudget(input);
    const thresholds = [...new Set(input.thresholds)].sort((a, b) => a - b);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#db.transaction().execute(async (trx) => {
          const scope = await mustGetScope(trx, input.scopePath);
          if (scope.archivedAt !== null) throw new TollgateError('scope_archived', `scope "${scope.path}" is archived; it takes no new budgets`);
          const row = await trx.selectFrom('budgets').selectAll().where('scope_id', '=', scope.id).where('period', '=', period).executeTakeFirst();
          const before = row ? toBudget(row, scope) : null;
          const now = this.#now();
          const values = {
            amount_nano: input.amountNano,
            action: input.action,
            thresholds: JSON.stringify(thresholds),
            time_zone: timeZone,
            degrade_to: input.degradeTo,
            updated_at: now,
          };
          let id: string;
          if (row) {
            id = row.id;
            await trx.updateTable('budgets').set(values).where('id', '=', id).execute();
          } else {
            id = `bud_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
            await trx.insertInto('budgets').values({ id, scope_id: scope.id, period, created_at: now, ...values }).execute();
          }
          const budget: BudgetPolicy = {
            id,
            scopeId: scope.id,
            scopePath: scope.path,
            tier: scope.tier,
            amountNano: input.amountNano,
            period,
            action: input.action,
            thresholds,
            timeZone,
            degradeTo: input.degradeTo,
            createdAt: before?.createdAt ?? now,
            updatedAt: now,
          };
          await writeAudit(trx, now, actor, before ? 'budget.update' : 'budget.create', scope.path, before && auditForm(before), auditForm(budget));
          await bumpVersion(trx);
          return { budget, before };
        });
      } catch (err) {
        // Two admins creating the same budget at once: the loser retries as an update.
        if (attempt === 0 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  async deleteBudget(scopePath: string, period: string, actor: string): Promise<BudgetPolicy> {
    const label = parsePeriod(period).label;
    return this.#db.transaction().execute(async (trx) => {
      const scope = await mustGetScope(trx, scopePath);
      const row = await trx.selectFrom('budgets').selectAll().where('scope_id', '=', scope.id).where('period', '=', label).executeTakeFirst();
      if (!row) throw new TollgateError('not_found', `scope "${scope.path}" has no ${label} budget (list budgets to see what is set)`);
      await trx.deleteFrom('budgets').where('id', '=', row.id).execute();
      const before = toBudget(row, scope);
      await writeAudit(trx, this.#now(), actor, 'budget.delete', scope.path, auditForm(before), null);
      await bumpVersion(trx);
      return before;
    });
  }

  async listBudgets(opts: { under?: string } = {}): Promise<BudgetPolicy[]> {
    let q = this.#db
      .selectFrom('budgets')
      .innerJoin('scopes', 'scopes.id', 'budgets.scope_id')
      .selectAll('budgets')
      .select(['scopes.path as scope_path', 'scopes.tier as scope_tier']);
    if (opts.under !== undefined) q = q.where(underPath(opts.under));
    const rows = await q.execute();
    return rows
      .map((r) => toBudget(r, { id: r.scope_id, path: r.scope_path, tier: r.scope_tier as Tier }))
      .sort((a, b) => (a.scopePath === b.scopePath ? a.period.localeCompare(b.period) : a.scopePath < b.scopePath ? -1 : 1));
  }

  async setRateLimit(scopePath: string, limits: { rpm: number | null; tpm: number | null }, actor: string): Promise<RateLimit | null> {
    for (const [name, v] of Object.entries(limits)) {
      if (v !== null && (!Number.isSafeInteger(v) || v <= 0)) throw new TollgateError('invalid_request', `${name} must be a whole number above 0, got ${v}`);
    }
    return this.#db.transaction().execute(async (trx) => {
      const scope = await mustGetScope(trx, scopePath);
      const row = await trx.selectFrom('rate_limits').selectAll().where('scope_id', '=', scope.id).executeTakeFirst();
      const before = row ? { rpm: num(row.rpm), tpm: num(row.tpm) } : null;
      const now = this.#now();
      await trx.deleteFrom('rate_limits').where('scope_id', '=', scope.id).execute();
      const remove = limits.rpm === null && limits.tpm === null;
      if (!remove) await trx.insertInto('rate_limits').values({ scope_id: scope.id, rpm: limits.rpm, tpm: limits.tpm, updated_at: now }).execute();
      await writeAudit(trx, now, actor, remove ? 'limits.delete' : 'limits.set', scope.path, before, remove ? null : limits);
      await bumpVersion(trx);
      return remove ? null : { scopeId: scope.id, scopePath: scope.path, rpm: limits.rpm, tpm: limits.tpm, updatedAt: now };
    });
  }

  async listRateLimits(opts: { under?: string } = {}): Promise<RateLimit[]> {
    let q = this.#db.selectFrom('rate_limits').innerJoin('scopes', 'scopes.id', 'rate_limits.scope_id').selectAll('rate_limits').select('scopes.path as scope_path');
    if (opts.under !== undefined) q = q.where(underPath(opts.under));
    const rows = await q.execute();
    return rows
      .map((r) => ({ scopeId: r.scope_id, scopePath: r.scope_path, rpm: num(r.rpm), tpm: num(r.tpm), updatedAt: Number(r.updated_at) }))
      .sort((a, b) => (a.scopePath < b.scopePath ? -1 : 1));
  }

  async kill(scopePath: string, reason: string, actor: string): Promise<KillSwitch> {
    const why = reason.trim();
    if (why === '') throw new TollgateError('invalid_request', 'say why the scope is killed (--reason): the refusal shows it to whoever is stopped');
    return this.#db.transaction().execute(async (trx) => {
      const scope = await mustGetScope(trx, scopePath);
      const existing = await trx.selectFrom('kill_switches').selectAll().where('scope_id', '=', scope.id).executeTakeFirst();
      if (existing) {
        throw new TollgateError('conflict', `scope "${scope.path}" is already killed (by ${existing.actor} at ${new Date(Number(existing.at)).toISOString()}: ${existing.reason})`);
      }
      const at = this.#now();
      await trx.insertInto('kill_switches').values({ scope_id: scope.id, at, actor, reason: why }).execute();
      const kill = { scopeId: scope.id, scopePath: scope.path, at, actor, reason: why };
      await writeAudit(trx, at, actor, 'scope.kill', scope.path, null, { reason: why });
      await bumpVersion(trx);
      return kill;
    });
  }

  async revive(scopePath: string, actor: string): Promise<KillSwitch> {
    return this.#db.transaction().execute(async (trx) => {
      const scope = await mustGetScope(trx, scopePath);
      const row = await trx.selectFrom('kill_switches').selectAll().where('scope_id', '=', scope.id).executeTakeFirst();
      if (!row) throw new TollgateError('not_found', `scope "${scope.path}" is not killed`);
      await trx.deleteFrom('kill_switches').where('scope_id', '=', scope.id).execute();
      const kill = { scopeId: scope.id, scopePath: scope.path, at: Number(row.at), actor: row.actor, reason: row.reason };
      await writeAudit(trx, this.#now(), actor, 'scope.revive', scope.path, { killedBy: row.actor, at: kill.at, reason: row.reason }, null);
      await bumpVersion(trx);
      return kill;
    });
  }

  async listKills(): Promise<KillSwitch[]> {
    const rows = await this.#db.selectFrom('kill_switches').innerJoin('scopes', 'scopes.id', 'kill_switches.scope_id').selectAll('kill_switches').select('scopes.path as scope_path').execute();
    return rows.map((r) => ({ scopeId: r.scope_id, scopePath: r.scope_path, at: Number(r.at), actor: r.actor, reason: r.reason }));
  }

  async recordAlert(a: Omit<BudgetAlert, 'scopePath'>): Promise<boolean> {
    const r = await this.#db
      .insertInto('budget_alerts')
      .values({ budget_id: a.budgetId, period_start: a.periodStart, threshold: a.threshold, at: a.at, spent_nano: a.spentNano, limit_nano: a.limitNano })
      .onConflict((oc) => oc.columns(['budget_id', 'period_start', 'threshold']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async alerts(opts: { limit?: number; budgetId?: string } = {}): Promise<BudgetAlert[]> {
    let q = this.#db
      .selectFrom('budget_alerts')
      .leftJoin('budgets', 'budgets.id', 'budget_alerts.budget_id')
      .leftJoin('scopes', 'scopes.id', 'budgets.scope_id')
      .selectAll('budget_alerts')
      .select('scopes.path as scope_path')
      .orderBy('budget_alerts.at', 'desc')
      .limit(opts.limit ?? 100);
    if (opts.budgetId !== undefined) q = q.where('budget_alerts.budget_id', '=', opts.budgetId);
    const rows = await q.execute();
    return rows.map((r) => ({
      budgetId: r.budget_id,
      scopePath: r.scope_path ?? '(deleted budget)',
      periodStart: Number(r.period_start),
      threshold: Number(r.threshold),
      at: Number(r.at),
      spentNano: BigInt(r.spent_nano),
      limitNano: BigInt(r.limit_nano),
    }));
  }
}

function checkBudget(input: BudgetInput): void {
  if (!BUDGET_ACTIONS.includes(input.action)) {
    throw new TollgateError('invalid_request', `unknown budget action "${String(input.action)}": use ${BUDGET_ACTIONS.join(', ')}`);
  }
  if (input.amountNano <= 0n) throw new TollgateError('invalid_request', 'a budget amount must be above $0');
  if (input.amountNano > MAX_BUDGET_NANO) throw new TollgateError('invalid_request', `a budget can be at most ${formatUsd(MAX_BUDGET_NANO)} per period`);
  if (REFUSING_ACTIONS.has(input.action) && input.amountNano > MAX_REFUSING_NANO) {
    throw new TollgateError('invalid_request', `a ${input.action} budget can be at most ${formatUsd(MAX_REFUSING_NANO)} per period (exactness limit of shared counters); split it by period or use a shorter one`);
  }
  for (const t of input.thresholds) {
    if (!Number.isInteger(t) || t < 1 || t > 1000) throw new TollgateError('invalid_request', `alert thresholds are whole percentages from 1 to 1000, got ${t}`);
  }
  if (input.degradeTo !== null && input.action !== 'soft') {
    throw new TollgateError('invalid_request', `only soft budgets degrade to a cheaper model (this one is ${input.action})`);
  }
}

/** The scope at `under` and its subtree (joined as `scopes`). */
function underPath(under: string) {
  const p = formatScope(parseScope(under));
  return sql<boolean>`(scopes.path = ${p} or substr(scopes.path, 1, ${p.length + 1}) = ${`${p}/`})`;
}

function toBudget(r: Selectable<BudgetsTable>, scope: Pick<ScopeNode, 'id' | 'path' | 'tier'>): BudgetPolicy {
  return {
    id: r.id,
    scopeId: scope.id,
    scopePath: scope.path,
    tier: scope.tier,
    amountNano: BigInt(r.amount_nano),
    period: r.period,
    action: r.action as BudgetAction,
    thresholds: JSON.parse(r.thresholds) as number[],
    timeZone: r.time_zone,
    degradeTo: r.degrade_to,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function auditForm(b: BudgetPolicy): Record<string, unknown> {
  return { period: b.period, amountUsd: formatUsd(b.amountNano), action: b.action, thresholds: b.thresholds, timeZone: b.timeZone, degradeTo: b.degradeTo };
}

function num(v: bigint | null): number | null {
  return v === null ? null : Number(v);
}
