/**
 * The Ledger over Kysely. Events are inserted idempotently (ON CONFLICT DO NOTHING RETURNING id),
 * and only the rows that were really inserted are folded into the hourly and daily rollups, in the
 * same transaction: a retried batch can never count twice, and reports never scan raw events.
 */
import type { Insertable, Kysely, Selectable } from 'kysely';
import { CompiledQuery, sql } from 'kysely';
import { TollgateError } from '../domain/errors.ts';
import type { Tier } from '../domain/scope.ts';
import type { EventQuery, GroupBy, Ledger, LedgerEvent, ScanQuery, ScanRow, SeriesQuery, SeriesRow, SpendQuery, SpendRow, StoreCapabilities } from './contract.ts';
import type { Database, EventsTable, RollupHourlyTable } from './schema.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Column order of an event row: the order parameters are bound in. */
const EVENT_KEYS = [
  'id', 'started_at', 'ended_at', 'org_id', 'org_name', 'team_id', 'team_name', 'project_id', 'project_name', 'agent_id', 'agent_name',
  'key_id', 'provider', 'requested_model', 'served_model', 'route', 'status', 'error_code',
  'input_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'output_tokens', 'reasoning_tokens', 'requests',
  'list_cost_nano', 'effective_cost_nano', 'price_source', 'latency_ms', 'stream', 'estimated', 'trace_id', 'customer', 'tags',
  'route_alias', 'route_tier', 'route_reason', 'escalated_from', 'route_frontier',
] as const satisfies readonly (keyof EventsTable)[];

/** SQL type of each event column, for array-parameter inserts (`unnest`). */
const EVENT_TYPES: Record<(typeof EVENT_KEYS)[number], 'text' | 'bigint' | 'integer' | 'smallint'> = {
  id: 'text', started_at: 'bigint', ended_at: 'bigint', org_id: 'text', org_name: 'text', team_id: 'text', team_name: 'text',
  project_id: 'text', project_name: 'text', agent_id: 'text', agent_name: 'text', key_id: 'text', provider: 'text',
  requested_model: 'text', served_model: 'text', route: 'text', status: 'integer', error_code: 'text',
  input_tokens: 'bigint', cache_read_tokens: 'bigint', cache_write_5m_tokens: 'bigint', cache_write_1h_tokens: 'bigint',
  output_tokens: 'bigint', reasoning_tokens: 'bigint', requests: 'bigint', list_cost_nano: 'bigint', effective_cost_nano: 'bigint',
  price_source: 'text', latency_ms: 'integer', stream: 'smallint', estimated: 'smallint', trace_id: 'text', customer: 'text', tags: 'text',
  route_alias: 'text', route_tier: 'text', route_reason: 'text', escalated_from: 'text', route_frontier: 'text',
};

/** Rollup columns that add up on conflict. */
const ROLLUP_SUMS = [
  'calls', 'errors', 'input_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'output_tokens', 'reasoning_tokens',
  'requests', 'list_cost_nano', 'effective_cost_nano', 'estimated_calls', 'unpriced_calls', 'latency_ms_sum',
] as const satisfies readonly (keyof RollupHourlyTable)[];
/** Bind order of a rollup row; `bucket` is the `hour` or `day` column. */
const ROLLUP_KEYS = ['bucket', 'agent_id', 'provider', 'model', 'org_id', 'team_id', 'project_id', ...ROLLUP_SUMS] as const;

type EventRow = { [K in (typeof EVENT_KEYS)[number]]: string | number | bigint | null } & { id: string; started_at: number; status: number; price_source: string };
type RollupRow = { [K in (typeof ROLLUP_KEYS)[number]]: string | number | bigint } & Record<(typeof ROLLUP_SUMS)[number], bigint>;

/** The two rollup tables, as the shared code addresses them. */
const ROLLUPS = {
  hourly: { table: 'rollup_hourly', bucket: 'hour', ms: HOUR_MS },
  daily: { table: 'rollup_daily', bucket: 'day', ms: DAY_MS },
} as const;
type RollupKind = keyof typeof ROLLUPS;

/** What `scan` selects, in the order its rows are read back. */
const SCAN_KEYS = [
  'id', 'started_at', 'org_id', 'org_name', 'team_id', 'team_name', 'project_id', 'project_name', 'agent_id', 'agent_name', 'provider', 'served_model',
  'input_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'output_tokens', 'reasoning_tokens', 'requests',
  'list_cost_nano', 'effective_cost_nano', 'route_alias', 'route_tier', 'escalated_from', 'route_frontier',
] as const satisfies readonly (keyof EventsTable)[];
// Larger batches read slower in Node: rows that outlive a young-generation collection get promoted
// (83k calls on SQLite: 0.5 s in batches of 2,000, 0.9 s in batches of 5,000).
const SCAN_BATCH = 2_000;
const MAX_SCAN_BATCH = 50_000;

/**
 * Runs one compiled select and returns its rows as arrays in select-list order. A backend whose
 * driver is slow to build row objects passes one for long scans (better-sqlite3 builds each object
 * property by property: a scan of 83k calls takes 0.5 s as arrays, 1.2 s as objects); without one,
 * rows come through Kysely.
 */
export type ReadArrays = (query: CompiledQuery) => readonly (readonly unknown[])[];

const TIER_COLUMN = { org: 'org_id', team: 'team_id', project: 'project_id', agent: 'agent_id' } as const satisfies Record<Tier, string>;
const GROUP_COLUMN = { ...TIER_COLUMN, provider: 'provider', model: 'model' } as const satisfies Record<GroupBy, keyof RollupHourlyTable>;
/** The events' column for each group: a rollup's `model` is the call's served model. */
const EVENT_GROUP_COLUMN = { ...TIER_COLUMN, provider: 'provider', model: 'served_model' } as const satisfies Record<GroupBy, keyof EventsTable>;

export class KyselyLedger implements Ledger {
  readonly #db: Kysely<Database>;
  readonly #eventsPerStatement: number;
  readonly #rollupsPerStatement: number;
  readonly #statements = new Map<string, string>();
  readonly #arrayParameters: boolean;
  readonly #readArrays: ReadArrays | undefined;

  constructor(db: Kysely<Database>, capabilities: StoreCapabilities, readArrays?: ReadArrays) {
    this.#db = db;
    this.#readArrays = readArrays;
    this.#arrayParameters = capabilities.arrayParameters;
    this.#eventsPerStatement = Math.max(1, Math.floor(capabilities.maxBindParameters / EVENT_KEYS.length));
    this.#rollupsPerStatement = Math.max(1, Math.floor(capabilities.maxBindParameters / ROLLUP_KEYS.length));
  }

  async record(events: readonly LedgerEvent[]): Promise<{ inserted: number; duplicates: number }> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    const rows = new Map<string, EventRow>();
    for (const e of events) if (!rows.has(e.id)) rows.set(e.id, toRow(e));
    const all = [...rows.values()];
    return this.#db.transaction().execute(async (trx) => {
      const inserted: EventRow[] = [];
      const perStatement = this.#arrayParameters ? all.length : this.#eventsPerStatement;
      for (let i = 0; i < all.length; i += perStatement) {
        const chunk = all.slice(i, i + perStatement);
        const res = await trx.executeQuery<{ id: string }>(
          this.#arrayParameters
            ? CompiledQuery.raw(this.#unnestEventInsert(), columns(chunk, EVENT_KEYS))
            : CompiledQuery.raw(this.#statement('events', chunk.length), flatten(chunk, EVENT_KEYS)),
        );
        if (res.rows.length === chunk.length) inserted.push(...chunk);
        else {
          const fresh = new Set(res.rows.map((r) => r.id));
          for (const r of chunk) if (fresh.has(r.id)) inserted.push(r);
        }
      }
      for (const kind of ['hourly', 'daily'] as const) {
        const rollups = foldRollups(inserted, ROLLUPS[kind].ms);
        if (rollups.length === 0) continue;
        if (this.#arrayParameters) {
          await trx.executeQuery(CompiledQuery.raw(this.#unnestRollupUpsert(kind), columns(rollups, ROLLUP_KEYS)));
          continue;
        }
        for (let i = 0; i < rollups.length; i += this.#rollupsPerStatement) {
          const chunk = rollups.slice(i, i + this.#rollupsPerStatement);
          await trx.executeQuery(CompiledQuery.raw(this.#statement(kind, chunk.length), flatten(chunk, ROLLUP_KEYS)));
        }
      }
      const traces = foldTraces(inserted);
      for (let i = 0; i < traces.length; i += TRACES_PER_STATEMENT) {
        const chunk = traces.slice(i, i + TRACES_PER_STATEMENT);
        await trx
          .insertInto('trace_costs')
          .values(chunk)
          .onConflict((oc) =>
            oc.columns(['trace_id', 'agent_id']).doUpdateSet({
              first_at: sql<bigint>`case when excluded.first_at < trace_costs.first_at then excluded.first_at else trace_costs.first_at end`,
              last_at: sql<bigint>`case when excluded.last_at > trace_costs.last_at then excluded.last_at else trace_costs.last_at end`,
              calls: sql<bigint>`trace_costs.calls + excluded.calls`,
              tokens: sql<bigint>`trace_costs.tokens + excluded.tokens`,
              list_cost_nano: sql<bigint>`trace_costs.list_cost_nano + excluded.list_cost_nano`,
              effective_cost_nano: sql<bigint>`trace_costs.effective_cost_nano + excluded.effective_cost_nano`,
            }),
          )
          .execute();
      }
      return { inserted: inserted.length, duplicates: events.length - inserted.length };
    });
  }

  /**
   * SQL text for an n-row insert, compiled by Kysely once per (table, n) and reused: building the
   * query tree for thousands of parameters on every batch would cost more than the insert itself.
   */
  #statement(kind: 'events' | RollupKind, n: number): string {
    const cacheKey = `${kind}:${n}`;
    let text = this.#statements.get(cacheKey);
    if (text === undefined) {
      text = kind === 'events' ? this.#compileEventInsert(n) : this.#compileRollupUpsert(kind, n);
      this.#statements.set(cacheKey, text);
    }
    return text;
  }

  /**
   * One statement for any number of rows: each column bound as one array and unnested. PostgreSQL
   * parses 34 array parameters much faster than 34 × n scalar ones.
   */
  #unnestEventInsert(): string {
    let text = this.#statements.get('events:unnest');
    if (text === undefined) {
      const cols = EVENT_KEYS.map((k) => `"${k}"`).join(', ');
      const arrays = EVENT_KEYS.map((k, i) => `$${i + 1}::${EVENT_TYPES[k]}[]`).join(', ');
      text = `insert into "events" (${cols}) select * from unnest(${arrays}) on conflict ("id") do nothing returning "id"`;
      this.#statements.set('events:unnest', text);
    }
    return text;
  }

  #unnestRollupUpsert(kind: RollupKind): string {
    const cacheKey = `${kind}:unnest`;
    let text = this.#statements.get(cacheKey);
    if (text === undefined) {
      const { table, bucket } = ROLLUPS[kind];
      const names = ROLLUP_KEYS.map((k) => (k === 'bucket' ? bucket : k));
      // Dimensions are text except the bucket; every sum is bigint.
      const arrays = ROLLUP_KEYS.map((k, i) => `$${i + 1}::${k === 'bucket' || (ROLLUP_SUMS as readonly string[]).includes(k) ? 'bigint' : 'text'}[]`);
      const sums = ROLLUP_SUMS.map((c) => `"${c}" = "${table}"."${c}" + excluded."${c}"`).join(', ');
      text =
        `insert into "${table}" (${names.map((n) => `"${n}"`).join(', ')}) select * from unnest(${arrays.join(', ')}) ` +
        `on conflict ("${bucket}", "agent_id", "provider", "model") do update set ${sums}`;
      this.#statements.set(cacheKey, text);
    }
    return text;
  }

  #compileEventInsert(n: number): string {
    const template = Object.fromEntries(EVENT_KEYS.map((k) => [k, null])) as unknown as Insertable<EventsTable>;
    const q = this.#db
      .insertInto('events')
      .values(Array.from({ length: n }, () => template))
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .compile();
    if (q.parameters.length !== n * EVENT_KEYS.length) throw new Error('event insert compiled to an unexpected parameter count');
    return q.sql;
  }

  #compileRollupUpsert(kind: RollupKind, n: number): string {
    const { table, bucket } = ROLLUPS[kind];
    const template = Object.fromEntries(ROLLUP_KEYS.map((k) => [k === 'bucket' ? bucket : k, null])) as unknown as Insertable<RollupHourlyTable>;
    const add = (c: string) => sql`${sql.ref(`${table}.${c}`)} + ${sql.ref(`excluded.${c}`)}`;
    // Both tables share every column but the bucket's name; the cast only lets one builder address either.
    const q = this.#db
      .insertInto(table as 'rollup_hourly')
      .values(Array.from({ length: n }, () => template))
      .onConflict((oc) => oc.columns([bucket as 'hour', 'agent_id', 'provider', 'model']).doUpdateSet(Object.fromEntries(ROLLUP_SUMS.map((c) => [c, add(c)]))))
      .compile();
    if (q.parameters.length !== n * ROLLUP_KEYS.length) throw new Error('rollup upsert compiled to an unexpected parameter count');
    return q.sql;
  }

  async spend(query: SpendQuery): Promise<SpendRow[]> {
    const from = Math.floor(query.from / HOUR_MS) * HOUR_MS;
    const to = Math.ceil(query.to / HOUR_MS) * HOUR_MS;
    if (query.customer !== undefined) return sortBySpend(await this.#spendFromEvents(query, from, to, null));
    // Whole days come from the daily rollups, the ragged hours at either end from the hourly ones.
    const dayFrom = Math.ceil(from / DAY_MS) * DAY_MS;
    const dayTo = Math.floor(to / DAY_MS) * DAY_MS;
    const parts =
      dayFrom < dayTo
        ? await Promise.all([
            this.#spendFrom('daily', query, [[dayFrom, dayTo]]),
            this.#spendFrom('hourly', query, [[from, dayFrom], [dayTo, to]].filter(([a, b]) => a! < b!) as [number, number][]),
          ])
        : [await this.#spendFrom('hourly', query, [[from, to]])];
    const merged = new Map<string, SpendRow>();
    for (const row of parts.flat()) {
      const acc = merged.get(row.key);
      merged.set(row.key, acc ? addSpend(acc, row) : row);
    }
    return sortBySpend([...merged.values()]);
  }

  async series(query: SeriesQuery): Promise<SeriesRow[]> {
    const kind: RollupKind = query.bucket === 'day' ? 'daily' : 'hourly';
    const ms = ROLLUPS[kind].ms;
    const range: [number, number] = [Math.floor(query.from / ms) * ms, Math.ceil(query.to / ms) * ms];
    const rows = (query.customer !== undefined ? await this.#spendFromEvents(query, range[0], range[1], ms) : await this.#spendFrom(kind, query, [range], true)) as SeriesRow[];
    return rows.sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Rollup sums per group over the ranges; with `perBucket`, per group and bucket (rows then carry `at`). */
  async #spendFrom(kind: RollupKind, query: SpendQuery, ranges: [number, number][], perBucket = false): Promise<(SpendRow & { at?: number })[]> {
    if (ranges.length === 0) return [];
    const { table, bucket } = ROLLUPS[kind];
    const group = GROUP_COLUMN[query.groupBy];
    let q = this.#db
      .selectFrom(table as 'rollup_hourly')
      .select([
        sql<bigint>`${perBucket ? sql.ref(bucket) : sql.lit(0)}`.as('at'),
        sql<string>`${sql.ref(group)}`.as('key'),
        sql<bigint>`sum(calls)`.as('calls'),
        sql<bigint>`sum(errors)`.as('errors'),
        ...tokenAndCostSums(),
        sql<bigint>`sum(estimated_calls)`.as('estimated_calls'),
        sql<bigint>`sum(unpriced_calls)`.as('unpriced_calls'),
      ])
      .where((eb) => eb.or(ranges.map(([a, b]) => eb.and([eb(sql.ref(bucket), '>=', BigInt(a)), eb(sql.ref(bucket), '<', BigInt(b))]))))
      .groupBy(perBucket ? [sql.ref(bucket), sql.ref(group)] : [sql.ref(group)]);
    if (query.within) q = q.where(TIER_COLUMN[query.within.tier], '=', query.within.id);
    if (query.provider !== undefined) q = q.where('provider', '=', query.provider);
    if (query.model !== undefined) q = q.where('model', '=', query.model);
    const rows = await q.execute();
    return rows.map((r) => spendRowOf(r, perBucket));
  }

  /**
   * The rollups' sums computed from the events themselves, for a filter the rollups do not carry
   * (the customer tag): per group over [from, to), or per group and bucket of `bucketMs`.
   */
  async #spendFromEvents(query: SpendQuery, from: number, to: number, bucketMs: number | null): Promise<(SpendRow & { at?: number })[]> {
    const group = sql.ref(EVENT_GROUP_COLUMN[query.groupBy]);
    // Buckets start at multiples of their size since the epoch, as the rollups' do.
    const bucket = bucketMs === null ? sql`0` : sql`started_at - (started_at % ${sql.lit(bucketMs)})`;
    const rows = await this.#filtered({ from, to, within: query.within, provider: query.provider, model: query.model, customer: query.customer })
      .select([
        sql<bigint>`${bucket}`.as('at'),
        sql<string>`${group}`.as('key'),
        sql<bigint>`count(*)`.as('calls'),
        sql<bigint>`sum(case when status >= 400 then 1 else 0 end)`.as('errors'),
        ...tokenAndCostSums(),
        sql<bigint>`sum(estimated)`.as('estimated_calls'),
        sql<bigint>`sum(case when price_source = 'unpriced' then 1 else 0 end)`.as('unpriced_calls'),
      ])
      .groupBy(bucketMs === null ? [group] : [bucket, group])
      .execute();
    return rows.map((r) => spendRowOf(r, bucketMs !== null));
  }

  async get(id: string): Promise<LedgerEvent | null> {
    const row = await this.#db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : null;
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

  async *scan(query: ScanQuery): AsyncGenerator<ScanRow[]> {
    const size = query.batchSize ?? SCAN_BATCH;
    if (!Number.isInteger(size) || size < 1 || size > MAX_SCAN_BATCH) throw new TollgateError('invalid_request', `batchSize must be a whole number from 1 to ${MAX_SCAN_BATCH}, got ${size}`);
    if (!Number.isFinite(query.from) || !Number.isFinite(query.to)) throw new TollgateError('invalid_request', 'a scan needs a finite "from" and "to" (epoch ms)');
    const base = this.#filtered({ from: query.from, to: query.to, within: query.within, routed: query.routedOnly })
      .select(SCAN_KEYS)
      .orderBy('started_at')
      .orderBy('id')
      .limit(size);
    let after: { at: bigint; id: string } | null = null;
    for (;;) {
      const cursor = after;
      const q = cursor === null ? base : base.where((eb) => eb(eb.refTuple('started_at', 'id'), '>', eb.tuple(cursor.at, cursor.id)));
      const rows = await this.#arrays(q.compile());
      if (rows.length > 0) yield rows.map(fromScanRow);
      if (rows.length < size) return;
      const last = rows[rows.length - 1]!;
      after = { at: big(last[1]), id: last[0] as string };
    }
  }

  /** A select's rows as arrays: through the backend's reader when it has one, else through Kysely. */
  async #arrays(query: CompiledQuery): Promise<readonly (readonly unknown[])[]> {
    const read = this.#readArrays;
    // Through Kysely's connection: the read waits for a write transaction in flight (SQLite has one
    // connection, so it would see half a batch) and the connection is free again between batches.
    if (read) return this.#db.connection().execute(() => Promise.resolve(read(query)));
    const { rows } = await this.#db.executeQuery<Record<string, unknown>>(query);
    return rows.map((r) => SCAN_KEYS.map((k) => r[k]));
  }

  #filtered(query: Omit<EventQuery, 'cursor' | 'limit'>) {
    let q = this.#db.selectFrom('events');
    if (query.from !== undefined) q = q.where('started_at', '>=', BigInt(query.from));
    if (query.to !== undefined) q = q.where('started_at', '<', BigInt(query.to));
    if (query.within) q = q.where(TIER_COLUMN[query.within.tier], '=', query.within.id);
    if (query.traceId !== undefined) q = q.where('trace_id', '=', query.traceId);
    if (query.routed) q = q.where('route_alias', 'is not', null);
    if (query.provider !== undefined) q = q.where('provider', '=', query.provider);
    if (query.model !== undefined) q = q.where('served_model', '=', query.model);
    if (query.customer !== undefined) q = q.where('customer', '=', query.customer);
    if (query.status === 'ok') q = q.where('status', '<', 400);
    else if (query.status === 'error') q = q.where('status', '>=', 400);
    return q;
  }
}

/** SUM over BIGINT is numeric in PostgreSQL (pg hands it over as a string); SQLite gives bigint. */
function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' || typeof v === 'number') return BigInt(v);
  if (v === null || v === undefined) return 0n;
  throw new TypeError(`not an integer: ${typeof v}`);
}

function toRow(e: LedgerEvent): EventRow {
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
    route_alias: e.routing?.alias ?? null,
    route_tier: e.routing?.tier ?? null,
    route_reason: e.routing?.reason ?? null,
    escalated_from: e.routing?.escalatedFrom ?? null,
    route_frontier: e.routing?.frontier ?? null,
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
    ...(r.route_alias === null
      ? {}
      : { routing: { alias: r.route_alias, tier: r.route_tier ?? '', reason: r.route_reason ?? '', escalatedFrom: r.escalated_from, frontier: r.route_frontier } }),
  };
}

/** A row of `SCAN_KEYS`, in that order. */
function fromScanRow(r: readonly unknown[]): ScanRow {
  const alias = r[21] as string | null;
  return {
    id: r[0] as string,
    startedAt: Number(r[1]),
    chain: {
      orgId: r[2] as string,
      orgName: r[3] as string,
      teamId: r[4] as string,
      teamName: r[5] as string,
      projectId: r[6] as string,
      projectName: r[7] as string,
      agentId: r[8] as string,
      agentName: r[9] as string,
    },
    provider: r[10] as string,
    servedModel: r[11] as string,
    usage: {
      inputTokens: Number(r[12]),
      cacheReadTokens: Number(r[13]),
      cacheWrite5mTokens: Number(r[14]),
      cacheWrite1hTokens: Number(r[15]),
      outputTokens: Number(r[16]),
      reasoningTokens: Number(r[17]),
      requests: Number(r[18]),
    },
    listCostNano: big(r[19]),
    effectiveCostNano: big(r[20]),
    routing: alias === null ? null : { alias, tier: (r[22] as string | null) ?? '', escalatedFrom: r[23] as string | null, frontier: r[24] as string | null },
  };
}

/** Biggest spend first; ties by key, so the order is stable on every backend. */
function sortBySpend<T extends SpendRow>(rows: T[]): T[] {
  return rows.sort((a, b) => (b.effectiveCostNano > a.effectiveCostNano ? 1 : b.effectiveCostNano < a.effectiveCostNano ? -1 : a.key < b.key ? -1 : 1));
}

/** A row of sums (from the rollups or the events) as the contract's `SpendRow`, with `at` when per bucket. */
/**
 * The token and cost sums a spend row carries: the rollups and the events name these columns alike,
 * so the same selection serves both (calls, errors, estimated and unpriced differ and stay apart).
 */
function tokenAndCostSums() {
  return [
    sql<bigint>`sum(input_tokens)`.as('input_tokens'),
    sql<bigint>`sum(cache_read_tokens)`.as('cache_read_tokens'),
    sql<bigint>`sum(cache_write_5m_tokens)`.as('cache_write_5m_tokens'),
    sql<bigint>`sum(cache_write_1h_tokens)`.as('cache_write_1h_tokens'),
    sql<bigint>`sum(output_tokens)`.as('output_tokens'),
    sql<bigint>`sum(reasoning_tokens)`.as('reasoning_tokens'),
    sql<bigint>`sum(list_cost_nano)`.as('list_cost_nano'),
    sql<bigint>`sum(effective_cost_nano)`.as('effective_cost_nano'),
  ] as const;
}

function spendRowOf(r: Record<'at' | 'key' | 'calls' | 'errors' | 'input_tokens' | 'cache_read_tokens' | 'cache_write_5m_tokens' | 'cache_write_1h_tokens' | 'output_tokens' | 'reasoning_tokens' | 'list_cost_nano' | 'effective_cost_nano' | 'estimated_calls' | 'unpriced_calls', unknown>, perBucket: boolean): SpendRow & { at?: number } {
  return {
    ...(perBucket ? { at: Number(r.at) } : {}),
    key: String(r.key),
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
  };
}

function addSpend(a: SpendRow, b: SpendRow): SpendRow {
  return {
    key: a.key,
    calls: a.calls + b.calls,
    errors: a.errors + b.errors,
    inputTokens: a.inputTokens + b.inputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWrite5mTokens: a.cacheWrite5mTokens + b.cacheWrite5mTokens,
    cacheWrite1hTokens: a.cacheWrite1hTokens + b.cacheWrite1hTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    listCostNano: a.listCostNano + b.listCostNano,
    effectiveCostNano: a.effectiveCostNano + b.effectiveCostNano,
    estimatedCalls: a.estimatedCalls + b.estimatedCalls,
    unpricedCalls: a.unpricedCalls + b.unpricedCalls,
  };
}

/** Column-major: one array per column, for array parameters. */
function columns<K extends string>(rows: readonly { [P in K]: unknown }[], keys: readonly K[]): unknown[] {
  return keys.map((k) => rows.map((r) => r[k]));
}

function flatten<K extends string>(rows: readonly { [P in K]: unknown }[], keys: readonly K[]): unknown[] {
  const out = new Array<unknown>(rows.length * keys.length);
  let i = 0;
  for (const r of rows) for (const k of keys) out[i++] = r[k];
  return out;
}

/** 11 columns a row: well under SQLite's bind limit. */
const TRACES_PER_STATEMENT = 500;

/** The cost of each (trace, agent) among rows just inserted: calls without a trace id are not folded. */
function foldTraces(rows: readonly EventRow[]): Insertable<Database['trace_costs']>[] {
  const out = new Map<string, { trace_id: string; agent_id: string; org_id: string; team_id: string; project_id: string; first_at: number; last_at: number; calls: bigint; tokens: bigint; list_cost_nano: bigint; effective_cost_nano: bigint }>();
  for (const r of rows) {
    if (r.trace_id === null || r.trace_id === undefined) continue;
    const k = `${String(r.trace_id)}\u0000${String(r.agent_id)}`;
    let acc = out.get(k);
    if (!acc) {
      acc = { trace_id: String(r.trace_id), agent_id: String(r.agent_id), org_id: String(r.org_id), team_id: String(r.team_id), project_id: String(r.project_id), first_at: r.started_at, last_at: r.started_at, calls: 0n, tokens: 0n, list_cost_nano: 0n, effective_cost_nano: 0n };
      out.set(k, acc);
    }
    acc.first_at = Math.min(acc.first_at, r.started_at);
    acc.last_at = Math.max(acc.last_at, r.started_at);
    acc.calls += 1n;
    for (const t of ['input_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'output_tokens'] as const) acc.tokens += BigInt(r[t] ?? 0);
    acc.list_cost_nano += BigInt(r.list_cost_nano ?? 0);
    acc.effective_cost_nano += BigInt(r.effective_cost_nano ?? 0);
  }
  return [...out.values()];
}

function foldRollups(rows: readonly EventRow[], bucketMs: number): RollupRow[] {
  const out = new Map<string, RollupRow>();
  for (const r of rows) {
    const bucket = Math.floor(r.started_at / bucketMs) * bucketMs;
    const k = `${bucket}\u0000${String(r.agent_id)}\u0000${String(r.provider)}\u0000${String(r.served_model)}`;
    let acc = out.get(k);
    if (!acc) {
      acc = {
        bucket, agent_id: String(r.agent_id), provider: String(r.provider), model: String(r.served_model),
        org_id: String(r.org_id), team_id: String(r.team_id), project_id: String(r.project_id),
        calls: 0n, errors: 0n, input_tokens: 0n, cache_read_tokens: 0n, cache_write_5m_tokens: 0n, cache_write_1h_tokens: 0n,
        output_tokens: 0n, reasoning_tokens: 0n, requests: 0n, list_cost_nano: 0n, effective_cost_nano: 0n,
        estimated_calls: 0n, unpriced_calls: 0n, latency_ms_sum: 0n,
      };
      out.set(k, acc);
    }
    acc.calls += 1n;
    if (r.status >= 400) acc.errors += 1n;
    acc.input_tokens += BigInt(r.input_tokens ?? 0);
    acc.cache_read_tokens += BigInt(r.cache_read_tokens ?? 0);
    acc.cache_write_5m_tokens += BigInt(r.cache_write_5m_tokens ?? 0);
    acc.cache_write_1h_tokens += BigInt(r.cache_write_1h_tokens ?? 0);
    acc.output_tokens += BigInt(r.output_tokens ?? 0);
    acc.reasoning_tokens += BigInt(r.reasoning_tokens ?? 0);
    acc.requests += BigInt(r.requests ?? 0);
    acc.list_cost_nano += BigInt(r.list_cost_nano ?? 0);
    acc.effective_cost_nano += BigInt(r.effective_cost_nano ?? 0);
    if (r.estimated === 1) acc.estimated_calls += 1n;
    if (r.price_source === 'unpriced') acc.unpriced_calls += 1n;
    acc.latency_ms_sum += BigInt(r.latency_ms ?? 0);
  }
  return [...out.values()];
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
