/**
 * The Ledger over Kysely. Events are inserted idempotently (ON CONFLICT DO NOTHING RETURNING id),
 * and only the rows that were really inserted are folded into the hourly rollups, in the same
 * transaction: a retried batch can never count twice.
 */
import type { Insertable, Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import { TollgateError } from '../domain/errors.ts';
import type { Tier } from '../domain/scope.ts';
import type { EventQuery, GroupBy, Ledger, LedgerEvent, SpendQuery, SpendRow, StoreCapabilities } from './contract.ts';
import type { Database, EventsTable, RollupHourlyTable } from './schema.ts';

const HOUR_MS = 3_600_000;
const EVENT_COLUMNS = 36;
const ROLLUP_COLUMNS = 21;

const TIER_COLUMN = { org: 'org_id', team: 'team_id', project: 'project_id', agent: 'agent_id' } as const satisfies Record<Tier, string>;
const GROUP_COLUMN = { ...TIER_COLUMN, provider: 'provider', model: 'model' } as const satisfies Record<GroupBy, keyof RollupHourlyTable>;

export class KyselyLedger implements Ledger {
  readonly #db: Kysely<Database>;
  readonly #eventsPerStatement: number;
  readonly #rollupsPerStatement: number;

  constructor(db: Kysely<Database>, capabilities: StoreCapabilities) {
    this.#db = db;
    this.#eventsPerStatement = Math.max(1, Math.floor(capabilities.maxBindParameters / EVENT_COLUMNS));
    this.#rollupsPerStatement = Math.max(1, Math.floor(capabilities.maxBindParameters / ROLLUP_COLUMNS));
  }

  async record(events: readonly LedgerEvent[]): Promise<{ inserted: number; duplicates: number }> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    const rows = new Map<string, Insertable<EventsTable>>();
    for (const e of events) if (!rows.has(e.id)) rows.set(e.id, toRow(e));
    const all = [...rows.values()];
    return this.#db.transaction().execute(async (trx) => {
      const inserted: Insertable<EventsTable>[] = [];
      for (let i = 0; i < all.length; i += this.#eventsPerStatement) {
        const chunk = all.slice(i, i + this.#eventsPerStatement);
        const ids = await trx.insertInto('events').values(chunk).onConflict((oc) => oc.column('id').doNothing()).returning('id').execute();
        if (ids.length === chunk.length) inserted.push(...chunk);
        else {
          const fresh = new Set(ids.map((r) => r.id));
          for (const r of chunk) if (fresh.has(r.id)) inserted.push(r);
        }
      }
      const rollups = [...foldRollups(inserted).values()];
      for (let i = 0; i < rollups.length; i += this.#rollupsPerStatement) {
        await trx
          .insertInto('rollup_hourly')
          .values(rollups.slice(i, i + this.#rollupsPerStatement))
          .onConflict((oc) =>
            oc.columns(['hour', 'agent_id', 'provider', 'model']).doUpdateSet({
              calls: sql`rollup_hourly.calls + excluded.calls`,
              errors: sql`rollup_hourly.errors + excluded.errors`,
              input_tokens: sql`rollup_hourly.input_tokens + excluded.input_tokens`,
              cache_read_tokens: sql`rollup_hourly.cache_read_tokens + excluded.cache_read_tokens`,
              cache_write_5m_tokens: sql`rollup_hourly.cache_write_5m_tokens + excluded.cache_write_5m_tokens`,
              cache_write_1h_tokens: sql`rollup_hourly.cache_write_1h_tokens + excluded.cache_write_1h_tokens`,
              output_tokens: sql`rollup_hourly.output_tokens + excluded.output_tokens`,
              reasoning_tokens: sql`rollup_hourly.reasoning_tokens + excluded.reasoning_tokens`,
              requests: sql`rollup_hourly.requests + excluded.requests`,
              list_cost_nano: sql`rollup_hourly.list_cost_nano + excluded.list_cost_nano`,
              effective_cost_nano: sql`rollup_hourly.effective_cost_nano + excluded.effective_cost_nano`,
              estimated_calls: sql`rollup_hourly.estimated_calls + excluded.estimated_calls`,
              unpriced_calls: sql`rollup_hourly.unpriced_calls + excluded.unpriced_calls`,
              latency_ms_sum: sql`rollup_hourly.latency_ms_sum + excluded.latency_ms_sum`,
            }),
          )
          .execute();
      }
      return { inserted: inserted.length, duplicates: events.length - inserted.length };
    });
  }

  async spend(query: SpendQuery): Promise<SpendRow[]> {
    const from = Math.floor(query.from / HOUR_MS) * HOUR_MS;
    const to = Math.ceil(query.to / HOUR_MS) * HOUR_MS;
    const group = GROUP_COLUMN[query.groupBy];
    let q = this.#db
      .selectFrom('rollup_hourly')
      .select([
        sql<string>`${sql.ref(group)}`.as('key'),
        sql<bigint>`sum(calls)`.as('calls'),
        sql<bigint>`sum(errors)`.as('errors'),
        sql<bigint>`sum(input_tokens)`.as('input_tokens'),
        sql<bigint>`sum(cache_read_tokens)`.as('cache_read_tokens'),
        sql<bigint>`sum(cache_write_5m_tokens)`.as('cache_write_5m_tokens'),
        sql<bigint>`sum(cache_write_1h_tokens)`.as('cache_write_1h_tokens'),
        sql<bigint>`sum(output_tokens)`.as('output_tokens'),
        sql<bigint>`sum(reasoning_tokens)`.as('reasoning_tokens'),
        sql<bigint>`sum(list_cost_nano)`.as('list_cost_nano'),
        sql<bigint>`sum(effective_cost_nano)`.as('effective_cost_nano'),
        sql<bigint>`sum(estimated_calls)`.as('estimated_calls'),
        sql<bigint>`sum(unpriced_calls)`.as('unpriced_calls'),
      ])
      .where('hour', '>=', BigInt(from))
      .where('hour', '<', BigInt(to))
      .groupBy(group);
    if (query.within) q = q.where(TIER_COLUMN[query.within.tier], '=', query.within.id);
    const rows = await q.execute();
    return rows
      .map((r) => ({
        key: r.key,
        calls: Number(r.calls),
        errors: Number(r.errors),
        inputTokens: big(r.input_tokens),
        cacheReadTokens: big(r.cache_read_tokens),
        cacheWrite5mTokens: big(r.cache_write_5m_tokens),
        cacheWrite1hTokens: big(r.cache_write_1h_tokens),
        outputTokens: big(r.output_tokens),
        reasoningTokens: big(r.reasoning_tokens),
        listCostNano: big(r.list_cost_nano),
        effectiveCostNano: big(r.effective_cost_nano),
        estimatedCalls: Number(r.estimated_calls),
        unpricedCalls: Number(r.unpriced_calls),
      }))
      .sort((a, b) => (b.effectiveCostNano > a.effectiveCostNano ? 1 : b.effectiveCostNano < a.effectiveCostNano ? -1 : a.key < b.key ? -1 : 1));
  }

  async events(query: EventQuery): Promise<{ rows: LedgerEvent[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
    let q = this.#filtered(query).selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit + 1);
    if (query.cursor !== undefined) {
      const { at, id } = decodeCursor(query.cursor);
      q = q.where((eb) => eb.or([eb('started_at', '<', BigInt(at)), eb.and([eb('started_at', '=', BigInt(at)), eb('id', '<', id)])]));
    }
    const rows = await q.execute();
    const page = rows.slice(0, limit).map(fromRow);
    const last = page.at(-1);
    return { rows: page, nextCursor: rows.length > limit && last ? encodeCursor(last.startedAt, last.id) : null };
  }

  async totals(query: Omit<EventQuery, 'cursor' | 'limit'>): Promise<{ calls: number; listCostNano: bigint; effectiveCostNano: bigint }> {
    const row = await this.#filtered(query)
      .select([
        sql<bigint>`count(*)`.as('calls'),
        sql<bigint | null>`sum(list_cost_nano)`.as('list'),
        sql<bigint | null>`sum(effective_cost_nano)`.as('effective'),
      ])
      .executeTakeFirstOrThrow();
    return { calls: Number(row.calls), listCostNano: big(row.list ?? 0n), effectiveCostNano: big(row.effective ?? 0n) };
  }

  #filtered(query: Omit<EventQuery, 'cursor' | 'limit'>) {
    let q = this.#db.selectFrom('events');
    if (query.from !== undefined) q = q.where('started_at', '>=', BigInt(query.from));
    if (query.to !== undefined) q = q.where('started_at', '<', BigInt(query.to));
    if (query.within) q = q.where(TIER_COLUMN[query.within.tier], '=', query.within.id);
    if (query.traceId !== undefined) q = q.where('trace_id', '=', query.traceId);
    return q;
  }
}

/** SUM over BIGINT is numeric in PostgreSQL (pg hands it over as a string); SQLite gives bigint. */
function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' || typeof v === 'number') return BigInt(v);
  if (v === null || v === undefined) return 0n;
  throw new TypeError(`not an integer: ${String(v)}`);
}

function toRow(e: LedgerEvent): Insertable<EventsTable> {
  const u = e.usage;
  return {
    id: e.id,
    started_at: e.startedAt,
    ended_at: e.endedAt,
    org_id: e.chain.orgId,
    org_name: e.chain.orgName,
    team_id: e.chain.teamId,
    team_name: e.chain.teamName,
    project_id: e.chain.projectId,
    project_name: e.chain.projectName,
    agent_id: e.chain.agentId,
    agent_name: e.chain.agentName,
    key_id: e.keyId,
    provider: e.provider,
    requested_model: e.requestedModel,
    served_model: e.servedModel,
    route: e.route,
    status: e.status,
    error_code: e.errorCode,
    input_tokens: u.inputTokens,
    cache_read_tokens: u.cacheReadTokens,
    cache_write_5m_tokens: u.cacheWrite5mTokens,
    cache_write_1h_tokens: u.cacheWrite1hTokens,
    output_tokens: u.outputTokens,
    reasoning_tokens: u.reasoningTokens,
    requests: u.requests,
    list_cost_nano: e.listCostNano,
    effective_cost_nano: e.effectiveCostNano,
    price_source: e.priceSource,
    latency_ms: Math.max(0, Math.round(e.latencyMs)),
    stream: e.stream ? 1 : 0,
    estimated: e.estimated ? 1 : 0,
    trace_id: e.traceId,
    customer: e.tags['customer'] ?? null,
    tags: JSON.stringify(e.tags),
  };
}

function fromRow(r: Selectable<EventsTable>): LedgerEvent {
  return {
    id: r.id,
    startedAt: Number(r.started_at),
    endedAt: Number(r.ended_at),
    chain: {
      orgId: r.org_id,
      orgName: r.org_name,
      teamId: r.team_id,
      teamName: r.team_name,
      projectId: r.project_id,
      projectName: r.project_name,
      agentId: r.agent_id,
      agentName: r.agent_name,
    },
    keyId: r.key_id,
    provider: r.provider,
    requestedModel: r.requested_model,
    servedModel: r.served_model,
    route: r.route,
    status: Number(r.status),
    errorCode: r.error_code,
    usage: {
      inputTokens: Number(r.input_tokens),
      cacheReadTokens: Number(r.cache_read_tokens),
      cacheWrite5mTokens: Number(r.cache_write_5m_tokens),
      cacheWrite1hTokens: Number(r.cache_write_1h_tokens),
      outputTokens: Number(r.output_tokens),
      reasoningTokens: Number(r.reasoning_tokens),
      requests: Number(r.requests),
    },
    listCostNano: big(r.list_cost_nano),
    effectiveCostNano: big(r.effective_cost_nano),
    priceSource: r.price_source,
    latencyMs: Number(r.latency_ms),
    stream: Number(r.stream) === 1,
    estimated: Number(r.estimated) === 1,
    traceId: r.trace_id,
    tags: JSON.parse(r.tags) as Record<string, string>,
  };
}

function foldRollups(rows: readonly Insertable<EventsTable>[]): Map<string, Insertable<RollupHourlyTable> & Record<string, unknown>> {
  const out = new Map<string, Insertable<RollupHourlyTable> & Record<string, unknown>>();
  for (const r of rows) {
    const hour = Math.floor(Number(r.started_at) / HOUR_MS) * HOUR_MS;
    const k = `${hour}\u0000${r.agent_id}\u0000${r.provider}\u0000${r.served_model}`;
    let acc = out.get(k);
    if (!acc) {
      acc = {
        hour,
        agent_id: r.agent_id,
        provider: r.provider,
        model: r.served_model,
        org_id: r.org_id,
        team_id: r.team_id,
        project_id: r.project_id,
        calls: 0n,
        errors: 0n,
        input_tokens: 0n,
        cache_read_tokens: 0n,
        cache_write_5m_tokens: 0n,
        cache_write_1h_tokens: 0n,
        output_tokens: 0n,
        reasoning_tokens: 0n,
        requests: 0n,
        list_cost_nano: 0n,
        effective_cost_nano: 0n,
        estimated_calls: 0n,
        unpriced_calls: 0n,
        latency_ms_sum: 0n,
      };
      out.set(k, acc);
    }
    acc.calls = BigInt(acc.calls) + 1n;
    if (r.status >= 400) acc.errors = BigInt(acc.errors) + 1n;
    acc.input_tokens = BigInt(acc.input_tokens) + BigInt(r.input_tokens);
    acc.cache_read_tokens = BigInt(acc.cache_read_tokens) + BigInt(r.cache_read_tokens);
    acc.cache_write_5m_tokens = BigInt(acc.cache_write_5m_tokens) + BigInt(r.cache_write_5m_tokens);
    acc.cache_write_1h_tokens = BigInt(acc.cache_write_1h_tokens) + BigInt(r.cache_write_1h_tokens);
    acc.output_tokens = BigInt(acc.output_tokens) + BigInt(r.output_tokens);
    acc.reasoning_tokens = BigInt(acc.reasoning_tokens) + BigInt(r.reasoning_tokens);
    acc.requests = BigInt(acc.requests) + BigInt(r.requests);
    acc.list_cost_nano = BigInt(acc.list_cost_nano) + BigInt(r.list_cost_nano);
    acc.effective_cost_nano = BigInt(acc.effective_cost_nano) + BigInt(r.effective_cost_nano);
    if (r.estimated) acc.estimated_calls = BigInt(acc.estimated_calls) + 1n;
    if (r.price_source === 'unpriced') acc.unpriced_calls = BigInt(acc.unpriced_calls) + 1n;
    acc.latency_ms_sum = BigInt(acc.latency_ms_sum) + BigInt(r.latency_ms);
  }
  return out;
}

function encodeCursor(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return { at: v[0], id: v[1] };
  } catch {
    // fall through to the error below: a cursor is opaque, so any parse failure means "not ours"
  }
  throw new TollgateError('invalid_request', 'invalid cursor: pass back the nextCursor of the previous page unchanged');
}
