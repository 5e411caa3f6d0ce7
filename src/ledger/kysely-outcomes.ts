/**
 * Outcome types and outcomes over Kysely: identical SQL on SQLite and PostgreSQL. Recording is
 * idempotent by `idempotency_key` (a unique column, `on conflict do nothing returning`), and a batch
 * is checked whole before anything is written.
 */
import type { Kysely, Selectable } from 'kysely';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { TollgateError } from '../domain/errors.ts';
import { formatScope, parseScope } from '../domain/scope.ts';
import { isUniqueViolation, mustGetScope, writeAudit } from './kysely-directory.ts';
import type { Outcomes, OutcomeCount, OutcomeInput, OutcomeType, OutcomeTypeInput, OutcomeWindow, TraceOutcome } from './outcomes-contract.ts';
import { OUTCOME_TYPE_PATTERN, outcomeProblem } from './outcomes-contract.ts';
import type { Database, OutcomeTypesTable } from './schema.ts';

const TIER_COLUMN = { org: 'org_id', team: 'team_id', project: 'project_id', agent: 'agent_id' } as const;
/** 14 columns a row: 200 rows stay far below either database's bind limit. */
const ROWS_PER_STATEMENT = 200;
const WEEK_MS = 604_800_000;
/** 1970-01-05, the first Monday of the epoch: ISO weeks start on Mondays. */
const FIRST_MONDAY_MS = 345_600_000;
const INT64_MAX = 2n ** 63n - 1n;

export class KyselyOutcomes implements Outcomes {
  readonly #db: Kysely<Database>;
  readonly #now: () => number;

  constructor(db: Kysely<Database>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async setType(input: OutcomeTypeInput, actor: string): Promise<{ type: OutcomeType; before: OutcomeType | null }> {
    checkType(input);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#db.transaction().execute(async (trx) => {
          const scope = await mustGetScope(trx, input.projectPath);
          if (scope.tier !== 'project') {
            throw new TollgateError('invalid_request', `outcome types belong to a project (org/team/project); "${scope.path}" is ${scope.tier === 'agent' || scope.tier === 'org' ? 'an' : 'a'} ${scope.tier}`);
          }
          if (scope.archivedAt !== null) throw new TollgateError('scope_archived', `project "${scope.path}" is archived; it takes no new outcome types`);
          const row = await trx.selectFrom('outcome_types').selectAll().where('project_id', '=', scope.id).where('type', '=', input.type).executeTakeFirst();
          const before = row ? toType(row, scope.path) : null;
          const now = this.#now();
          const values = { display_name: input.displayName.trim(), unit: input.unit.trim(), baseline_nano: input.baselineNano, target_nano: input.targetNano, updated_at: now };
          if (row) await trx.updateTable('outcome_types').set(values).where('project_id', '=', scope.id).where('type', '=', input.type).execute();
          else await trx.insertInto('outcome_types').values({ project_id: scope.id, type: input.type, created_at: now, ...values }).execute();
          const type: OutcomeType = {
            projectId: scope.id,
            projectPath: scope.path,
            type: input.type,
            displayName: values.display_name,
            unit: values.unit,
            baselineNano: input.baselineNano,
            targetNano: input.targetNano,
            createdAt: before?.createdAt ?? now,
            updatedAt: now,
          };
          await writeAudit(trx, now, actor, before ? 'outcome_type.update' : 'outcome_type.create', scope.path, before && auditForm(before), auditForm(type));
          return { type, before };
        });
      } catch (err) {
        // Two admins creating the same type at once: the loser retries as an update.
        if (attempt === 0 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  async listTypes(opts: { under?: string } = {}): Promise<OutcomeType[]> {
    let q = this.#db.selectFrom('outcome_types').innerJoin('scopes', 'scopes.id', 'outcome_types.project_id').selectAll('outcome_types').select('scopes.path as project_path');
    if (opts.under !== undefined) {
      // A type hangs on a project: under an agent path, that agent's project's types apply.
      const prefix = formatScope(parseScope(opts.under).slice(0, 3));
      q = q.where(sql<boolean>`(scopes.path = ${prefix} or substr(scopes.path, 1, ${prefix.length + 1}) = ${`${prefix}/`})`);
    }
    const rows = await q.execute();
    return rows.map((r) => toType(r, r.project_path)).sort((a, b) => (a.projectPath === b.projectPath ? a.type.localeCompare(b.type) : a.projectPath < b.projectPath ? -1 : 1));
  }

  async record(outcomes: readonly OutcomeInput[]): Promise<{ inserted: number; duplicates: string[] }> {
    const now = this.#now();
    for (const [i, o] of outcomes.entries()) {
      const problem = outcomeProblem(o, now);
      if (problem !== null) throw new TollgateError('invalid_request', `outcome ${i + 1}: ${problem}`, { details: { index: i } });
    }
    if (outcomes.length === 0) return { inserted: 0, duplicates: [] };
    return this.#db.transaction().execute(async (trx) => {
      const projects = [...new Set(outcomes.map((o) => o.chain.projectId))];
      const known = new Set((await trx.selectFrom('outcome_types').select(['project_id', 'type']).where('project_id', 'in', projects).execute()).map((t) => `${t.project_id}\u0000${t.type}`));
      for (const [i, o] of outcomes.entries()) {
        if (!known.has(`${o.chain.projectId}\u0000${o.type}`)) {
          const project = `${o.chain.orgName}/${o.chain.teamName}/${o.chain.projectName}`;
          throw new TollgateError(
            'invalid_request',
            `outcome ${i + 1}: type "${o.type}" is not configured for project ${project} (configure it first: tollgate outcomes types set --project ${project} --type ${o.type} --name … --unit … --baseline …)`,
            { details: { index: i, param: 'type' } },
          );
        }
      }
      const fresh = new Set<string>();
      const rows = [];
      for (const o of outcomes) {
        if (fresh.has(o.idempotencyKey)) continue;
        fresh.add(o.idempotencyKey);
        rows.push({
          id: `out_${randomUUID().replace(/-/g, '')}`,
          idempotency_key: o.idempotencyKey,
          type: o.type,
          count: o.count,
          occurred_at: o.occurredAt,
          trace_id: o.traceId,
          value_nano: o.valueNano,
          org_id: o.chain.orgId,
          team_id: o.chain.teamId,
          project_id: o.chain.projectId,
          agent_id: o.chain.agentId,
          key_id: o.keyId,
          recorded_at: now,
        });
      }
      const inserted = new Set<string>();
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const res = await trx
          .insertInto('outcomes')
          .values(rows.slice(i, i + ROWS_PER_STATEMENT))
          .onConflict((oc) => oc.column('idempotency_key').doNothing())
          .returning('idempotency_key')
          .execute();
        for (const r of res) inserted.add(r.idempotency_key);
      }
      // In input order: a key already stored, or repeated within this batch, is a duplicate.
      const duplicates: string[] = [];
      const first = new Set<string>();
      for (const o of outcomes) {
        if (inserted.has(o.idempotencyKey) && !first.has(o.idempotencyKey)) first.add(o.idempotencyKey);
        else duplicates.push(o.idempotencyKey);
      }
      return { inserted: inserted.size, duplicates };
    });
  }

  async counts(query: OutcomeWindow & { byWeek?: boolean }): Promise<OutcomeCount[]> {
    // Literals, not parameters: PostgreSQL matches a grouped expression to the selected one textually.
    const week = sql<bigint>`(occurred_at - ${sql.lit(FIRST_MONDAY_MS)}) / ${sql.lit(WEEK_MS)}`;
    let q = this.#db
      .selectFrom('outcomes')
      .select(['project_id', 'type', sql<bigint>`sum(count)`.as('outcomes'), sql<bigint>`coalesce(sum(value_nano), 0)`.as('value_nano')])
      .where('occurred_at', '>=', BigInt(query.from))
      .where('occurred_at', '<', BigInt(query.to))
      .groupBy(['project_id', 'type']);
    if (query.within) q = q.where(TIER_COLUMN[query.within.tier], '=', query.within.id);
    const rows = query.byWeek ? await q.select(week.as('week')).groupBy(week).execute() : await q.execute();
    return rows
      .map((r) => ({
        projectId: r.project_id,
        type: r.type,
        weekStart: 'week' in r ? Number(big(r.week)) * WEEK_MS + FIRST_MONDAY_MS : null,
        outcomes: big(r.outcomes),
        valueNano: big(r.value_nano),
      }))
      .sort((a, b) => (a.projectId !== b.projectId ? (a.projectId < b.projectId ? -1 : 1) : a.type !== b.type ? (a.type < b.type ? -1 : 1) : (a.weekStart ?? 0) - (b.weekStart ?? 0)));
  }

  async traceOutcomes(query: OutcomeWindow): Promise<TraceOutcome[]> {
    let inner = this.#db
      .selectFrom('outcomes')
      .select(['project_id', 'type', 'trace_id', 'org_id', sql<bigint>`sum(count)`.as('outcomes')])
      .where('trace_id', 'is not', null)
      .where('occurred_at', '>=', BigInt(query.from))
      .where('occurred_at', '<', BigInt(query.to))
      .groupBy(['project_id', 'type', 'trace_id', 'org_id']);
    if (query.within) inner = inner.where(TIER_COLUMN[query.within.tier], '=', query.within.id);
    // A trace is one task across agents: its cost is every call of the same org that carried the id.
    const rows = await this.#db
      .selectFrom(inner.as('o'))
      .leftJoin('trace_costs as t', (j) => j.onRef('t.trace_id', '=', 'o.trace_id').onRef('t.org_id', '=', 'o.org_id'))
      .select([
        'o.project_id',
        'o.type',
        'o.trace_id',
        'o.outcomes',
        sql<bigint | null>`sum(t.effective_cost_nano)`.as('cost'),
        sql<bigint | null>`sum(t.calls)`.as('calls'),
        sql<bigint | null>`sum(t.tokens)`.as('tokens'),
      ])
      .groupBy(['o.project_id', 'o.type', 'o.trace_id', 'o.outcomes'])
      .execute();
    return rows
      .map((r) => ({
        projectId: r.project_id,
        type: r.type,
        traceId: r.trace_id ?? '',
        outcomes: big(r.outcomes),
        costNano: r.cost === null ? null : big(r.cost),
        calls: big(r.calls),
        tokens: big(r.tokens),
      }))
      .sort((a, b) => (a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : a.projectId < b.projectId ? -1 : 1));
  }
}

function checkType(input: OutcomeTypeInput): void {
  if (!OUTCOME_TYPE_PATTERN.test(input.type)) {
    throw new TollgateError('invalid_request', `outcome type "${input.type}" is not a slug: use 1-64 lower-case letters, digits, ".", "_" or "-", e.g. resolved_ticket`);
  }
  const name = input.displayName.trim();
  if (name === '' || name.length > 200) throw new TollgateError('invalid_request', 'give the outcome type a display name of 1-200 characters, e.g. "Resolved ticket"');
  const unit = input.unit.trim();
  if (unit === '' || unit.length > 40) throw new TollgateError('invalid_request', 'give the unit one outcome is counted in (1-40 characters), e.g. ticket, PR, lead, document');
  for (const [what, v] of [['baseline', input.baselineNano], ['target', input.targetNano]] as const) {
    if (v !== null && (v <= 0n || v > INT64_MAX)) throw new TollgateError('invalid_request', `the ${what} cost per outcome must be above $0`);
  }
}

function toType(r: Selectable<OutcomeTypesTable>, projectPath: string): OutcomeType {
  return {
    projectId: r.project_id,
    projectPath,
    type: r.type,
    displayName: r.display_name,
    unit: r.unit,
    baselineNano: r.baseline_nano === null ? null : big(r.baseline_nano),
    targetNano: r.target_nano === null ? null : big(r.target_nano),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function auditForm(t: OutcomeType): Record<string, unknown> {
  return { type: t.type, name: t.displayName, unit: t.unit, baselineNano: t.baselineNano?.toString() ?? null, targetNano: t.targetNano?.toString() ?? null };
}

/** SUM over BIGINT is numeric in PostgreSQL (pg hands it over as a string); SQLite gives bigint. */
function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' || typeof v === 'number') return BigInt(v);
  if (v === null || v === undefined) return 0n;
  throw new TypeError(`not an integer: ${typeof v}`);
}
