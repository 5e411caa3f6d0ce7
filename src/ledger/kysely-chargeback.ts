/**
 * Chargeback adjustments, team flags and the paged rollup reader over Kysely: identical SQL on
 * SQLite and PostgreSQL. Adjustments are append-only (a mistake is fixed by another correction, so
 * the statement's history stays readable); every change is written to the audit log.
 */
import type { Kysely, Selectable } from 'kysely';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { TollgateError } from '../domain/errors.ts';
import { formatUsd } from '../domain/money.ts';
import { formatScope, parseScope } from '../domain/scope.ts';
import type { Tier } from '../domain/scope.ts';
import type {
  AdjustmentInput,
  AdjustmentKind,
  Chargeback,
  ChargebackAdjustment,
  RollupPageQuery,
  RollupRow,
  TeamFlags,
  TeamFlagsChange,
} from './chargeback-contract.ts';
import type { ScopeNode } from './contract.ts';
import type { Db } from './kysely-directory.ts';
import { mustGetScope, writeAudit } from './kysely-directory.ts';
import type { ChargebackAdjustmentsTable, Database, RollupHourlyTable } from './schema.ts';

export const ADJUSTMENT_KINDS = ['credit', 'correction'] as const satisfies readonly AdjustmentKind[];
/** Amounts are stored in 64-bit integer columns. */
const MAX_ADJUSTMENT_NANO = 2n ** 63n - 1n;
const MAX_REASON = 1000;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const TIER_COLUMN = { org: 'org_id', team: 'team_id', project: 'project_id', agent: 'agent_id' } as const satisfies Record<Tier, keyof RollupHourlyTable>;
const ROLLUP_TABLE = { hour: 'rollup_hourly', day: 'rollup_daily' } as const;

/** Checks a statement period (`YYYY-MM`) and returns it. */
export function checkMonth(period: string): string {
  const p = period.trim();
  if (!MONTH.test(p)) throw new TollgateError('invalid_request', `"${period}" is not a month: write it as YYYY-MM, e.g. 2026-10`);
  return p;
}

export class KyselyChargeback implements Chargeback {
  readonly #db: Kysely<Database>;
  readonly #now: () => number;

  constructor(db: Kysely<Database>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  /** The Kysely instance, for reports that need SQL of their own. */
  get db(): Kysely<Database> {
    return this.#db;
  }

  async addAdjustment(input: AdjustmentInput, actor: string): Promise<ChargebackAdjustment> {
    const period = checkMonth(input.period);
    const kind = input.kind;
    if (!ADJUSTMENT_KINDS.includes(kind)) throw new TollgateError('invalid_request', `unknown adjustment kind "${String(kind)}": use credit or correction`);
    const reason = input.reason.trim();
    if (reason === '') throw new TollgateError('invalid_request', 'say why (--reason): the statement shows it next to the amount');
    if (reason.length > MAX_REASON) throw new TollgateError('invalid_request', `the reason is ${reason.length} characters; keep it under ${MAX_REASON}`);
    const amount = input.amountNano;
    if (amount === 0n) throw new TollgateError('invalid_request', 'an adjustment of $0 changes nothing: give a non-zero amount');
    if (kind === 'credit' && amount > 0n) {
      throw new TollgateError('invalid_request', `a credit lowers the team's charge: give it as a negative amount (-${formatUsd(amount).slice(1)}), or record a correction to charge more`);
    }
    if (amount > MAX_ADJUSTMENT_NANO || -amount > MAX_ADJUSTMENT_NANO) throw new TollgateError('invalid_request', `an adjustment can be at most ${formatUsd(MAX_ADJUSTMENT_NANO)} either way`);
    return this.#db.transaction().execute(async (trx) => {
      const team = await mustGetTeam(trx, input.teamPath);
      const at = this.#now();
      const adj: ChargebackAdjustment = { id: adjustmentId(at), teamId: team.id, teamPath: team.path, period, amountNano: amount, kind, reason, actor, at };
      await trx.insertInto('chargeback_adjustments').values({ id: adj.id, team_id: team.id, period, amount_nano: amount, kind, reason, actor, at }).execute();
      await writeAudit(trx, at, actor, 'chargeback.adjust', team.path, null, { id: adj.id, period, kind, amountUsd: formatUsd(amount, 9), reason });
      return adj;
    });
  }

  async listAdjustments(opts: { teamPath: string; period?: string }): Promise<ChargebackAdjustment[]> {
    const team = await mustGetTeam(this.#db, opts.teamPath);
    let q = this.#db.selectFrom('chargeback_adjustments').selectAll().where('team_id', '=', team.id);
    if (opts.period !== undefined) q = q.where('period', '=', checkMonth(opts.period));
    const rows = await q.execute();
    return rows.map((r) => toAdjustment(r, team.path)).sort((a, b) => (a.period !== b.period ? (a.period < b.period ? -1 : 1) : a.at !== b.at ? a.at - b.at : a.id < b.id ? -1 : 1));
  }

  async setTeamFlags(teamPath: string, change: TeamFlagsChange, actor: string): Promise<{ flags: TeamFlags; before: TeamFlags }> {
    if (change.billsCustomers === undefined && change.complianceHardLimits === undefined) {
      throw new TollgateError('invalid_request', 'nothing to set: give bills_customers and/or compliance_hard_limits (yes or no)');
    }
    for (const [name, v] of Object.entries(change)) {
      if (v !== undefined && typeof v !== 'boolean') throw new TollgateError('invalid_request', `${name} must be true or false`);
    }
    return this.#db.transaction().execute(async (trx) => {
      const team = await mustGetTeam(trx, teamPath);
      const row = await trx.selectFrom('team_flags').selectAll().where('team_id', '=', team.id).executeTakeFirst();
      const before: TeamFlags = row ? toFlags(row, team.path) : { teamId: team.id, teamPath: team.path, billsCustomers: false, complianceHardLimits: false, updatedAt: null };
      const at = this.#now();
      const flags: TeamFlags = {
        ...before,
        billsCustomers: change.billsCustomers ?? before.billsCustomers,
        complianceHardLimits: change.complianceHardLimits ?? before.complianceHardLimits,
        updatedAt: at,
      };
      const values = { bills_customers: flags.billsCustomers ? 1 : 0, compliance_hard_limits: flags.complianceHardLimits ? 1 : 0, updated_at: at };
      if (row) await trx.updateTable('team_flags').set(values).where('team_id', '=', team.id).execute();
      else await trx.insertInto('team_flags').values({ team_id: team.id, ...values }).execute();
      const form = (f: TeamFlags) => ({ billsCustomers: f.billsCustomers, complianceHardLimits: f.complianceHardLimits });
      await writeAudit(trx, at, actor, 'team.flags', team.path, row ? form(before) : null, form(flags));
      return { flags, before };
    });
  }

  async getTeamFlags(teamPath: string): Promise<TeamFlags> {
    const team = await mustGetTeam(this.#db, teamPath);
    const row = await this.#db.selectFrom('team_flags').selectAll().where('team_id', '=', team.id).executeTakeFirst();
    return row ? toFlags(row, team.path) : { teamId: team.id, teamPath: team.path, billsCustomers: false, complianceHardLimits: false, updatedAt: null };
  }

  async listTeamFlags(opts: { under?: string } = {}): Promise<TeamFlags[]> {
    let q = this.#db.selectFrom('team_flags').innerJoin('scopes', 'scopes.id', 'team_flags.team_id').selectAll('team_flags').select('scopes.path as scope_path');
    if (opts.under !== undefined) {
      const p = formatScope(parseScope(opts.under));
      q = q.where(sql<boolean>`(scopes.path = ${p} or substr(scopes.path, 1, ${p.length + 1}) = ${`${p}/`})`);
    }
    const rows = await q.execute();
    // Sorted in JS: PostgreSQL's collation would otherwise order paths differently from SQLite.
    return rows.map((r) => toFlags(r, r.scope_path)).sort((a, b) => (a.teamPath < b.teamPath ? -1 : a.teamPath > b.teamPath ? 1 : 0));
  }

  async rollups(query: RollupPageQuery): Promise<{ rows: RollupRow[]; nextCursor: string | null }> {
    const limit = query.limit ?? 5000;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new TollgateError('invalid_request', `a rollup page holds 1 to 10000 rows, not ${limit}`);
    if (!Number.isSafeInteger(query.from) || !Number.isSafeInteger(query.to)) throw new TollgateError('invalid_request', 'rollup range bounds must be epoch milliseconds');
    const table = ROLLUP_TABLE[query.grain];
    const bucket = query.grain;
    // Both tables share every column but the bucket's name; the cast only lets one builder address either.
    let q = this.#db
      .selectFrom(table as 'rollup_hourly')
      .selectAll()
      .select(sql<bigint>`${sql.ref(bucket)}`.as('bucket_at'))
      .where(sql.ref(bucket), '>=', BigInt(query.from))
      .where(sql.ref(bucket), '<', BigInt(query.to))
      .orderBy(sql.ref(bucket))
      .orderBy('agent_id')
      .orderBy('provider')
      .orderBy('model')
      .limit(limit + 1);
    if (query.within) q = q.where(TIER_COLUMN[query.within.tier], '=', query.within.id);
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor);
      q = q.where(sql<boolean>`(${sql.ref(bucket)}, agent_id, provider, model) > (${BigInt(c.at)}, ${c.agentId}, ${c.provider}, ${c.model})`);
    }
    const raw = await q.execute();
    const rows = raw.slice(0, limit).map((r) => toRollup(r));
    const last = rows.at(-1);
    return { rows, nextCursor: raw.length > limit && last ? encodeCursor(last) : null };
  }
}

let sequence = 0;

/**
 * `adj_` + the time (12 hex digits) + a per-process sequence + random bits: ids sort in the order
 * adjustments were made, even within one millisecond, and never collide across replicas.
 */
function adjustmentId(at: number): string {
  sequence = (sequence + 1) % 0x10000;
  return `adj_${at.toString(16).padStart(12, '0')}${sequence.toString(16).padStart(4, '0')}${randomUUID().replace(/-/g, '').slice(0, 8)}`;
}

async function mustGetTeam(db: Db, path: string): Promise<ScopeNode> {
  const node = await mustGetScope(db, path);
  if (node.tier !== 'team') throw new TollgateError('invalid_request', `"${node.path}" is ${node.tier === 'org' ? 'an' : 'a'} ${node.tier}; give a team (org/team, e.g. acme/support)`);
  return node;
}

function toAdjustment(r: Selectable<ChargebackAdjustmentsTable>, teamPath: string): ChargebackAdjustment {
  return { id: r.id, teamId: r.team_id, teamPath, period: r.period, amountNano: BigInt(r.amount_nano), kind: r.kind as AdjustmentKind, reason: r.reason, actor: r.actor, at: Number(r.at) };
}

function toFlags(r: Selectable<Database['team_flags']>, teamPath: string): TeamFlags {
  return { teamId: r.team_id, teamPath, billsCustomers: Number(r.bills_customers) === 1, complianceHardLimits: Number(r.compliance_hard_limits) === 1, updatedAt: Number(r.updated_at) };
}

function toRollup(r: Selectable<RollupHourlyTable> & { bucket_at: bigint }): RollupRow {
  return {
    at: Number(r.bucket_at),
    agentId: r.agent_id,
    provider: r.provider,
    model: r.model,
    orgId: r.org_id,
    teamId: r.team_id,
    projectId: r.project_id,
    calls: BigInt(r.calls),
    errors: BigInt(r.errors),
    inputTokens: BigInt(r.input_tokens),
    cacheReadTokens: BigInt(r.cache_read_tokens),
    cacheWrite5mTokens: BigInt(r.cache_write_5m_tokens),
    cacheWrite1hTokens: BigInt(r.cache_write_1h_tokens),
    outputTokens: BigInt(r.output_tokens),
    reasoningTokens: BigInt(r.reasoning_tokens),
    requests: BigInt(r.requests),
    listCostNano: BigInt(r.list_cost_nano),
    effectiveCostNano: BigInt(r.effective_cost_nano),
    estimatedCalls: BigInt(r.estimated_calls),
    unpricedCalls: BigInt(r.unpriced_calls),
  };
}

function encodeCursor(r: RollupRow): string {
  return Buffer.from(JSON.stringify([r.at, r.agentId, r.provider, r.model])).toString('base64url');
}

function decodeCursor(cursor: string): { at: number; agentId: string; provider: string; model: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 4 && Number.isSafeInteger(v[0]) && v.slice(1).every((s) => typeof s === 'string')) {
      return { at: v[0] as number, agentId: v[1] as string, provider: v[2] as string, model: v[3] as string };
    }
  } catch {
    // fall through: a cursor is opaque, so any parse failure means "not ours"
  }
  throw new TollgateError('invalid_request', 'invalid cursor: pass back the nextCursor of the previous page unchanged');
}
