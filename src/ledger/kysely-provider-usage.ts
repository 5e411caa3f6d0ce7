/**
 * Provider reports over Kysely: identical SQL on SQLite and PostgreSQL. An import deletes the rows
 * of the days it covers and inserts its own in one transaction; the unique key on every dimension
 * keeps two concurrent imports of the same report from both landing.
 */
import type { Kysely, Selectable } from 'kysely';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { TollgateError } from '../domain/errors.ts';
import type { DayWindow, ImportResult, LedgerDayRow, ProviderUsage, ProviderUsageImport, ProviderUsageRow, ReportProvider, ReportSource } from './provider-usage-contract.ts';
import { DAY_MS } from './provider-usage-contract.ts';
import type { Database, ProviderUsageTable } from './schema.ts';

/** 16 columns a row: 100 rows stay far below either database's bind limit. */
const ROWS_PER_STATEMENT = 100;

export class KyselyProviderUsage implements ProviderUsage {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async import(batch: ProviderUsageImport, at: number): Promise<ImportResult> {
    const groups = new Map<string, number>();
    for (const [i, r] of batch.rows.entries()) {
      const group = [r.source, r.day, r.model, r.apiKeyId, r.projectId, r.detail].join('\u0000');
      const first = groups.get(group);
      if (first !== undefined) throw new TollgateError('invalid_request', `row ${i + 1} repeats the group of row ${first + 1} (same source, day, model, key, project and detail): sum them first`);
      groups.set(group, i);
      if (r.provider !== batch.provider) throw new TollgateError('invalid_request', `row ${i + 1} is ${r.provider}, the import is ${batch.provider}`);
      if (!batch.days[r.source].includes(r.day)) throw new TollgateError('invalid_request', `row ${i + 1} is on ${new Date(r.day).toISOString().slice(0, 10)}, a day its import does not cover`);
    }
    const importId = `pui_${randomUUID().replace(/-/g, '')}`;
    return this.#db.transaction().execute(async (trx) => {
      let replaced = 0;
      for (const source of ['usage', 'cost'] as const) {
        const days = batch.days[source];
        if (days.length === 0) continue;
        const res = await trx.deleteFrom('provider_usage').where('provider', '=', batch.provider).where('source', '=', source).where('day', 'in', days.map(BigInt)).executeTakeFirst();
        replaced += Number(res.numDeletedRows);
      }
      const values = batch.rows.map((r) => ({
        provider: r.provider,
        source: r.source,
        day: r.day,
        model: r.model,
        api_key_id: r.apiKeyId,
        project_or_workspace_id: r.projectId,
        detail: r.detail,
        input_tokens: r.inputTokens,
        cache_read_tokens: r.cacheReadTokens,
        cache_write_5m_tokens: r.cacheWrite5mTokens,
        cache_write_1h_tokens: r.cacheWrite1hTokens,
        output_tokens: r.outputTokens,
        requests: r.requests,
        cost_nano: r.costNano,
        import_id: importId,
        imported_at: at,
      }));
      for (let i = 0; i < values.length; i += ROWS_PER_STATEMENT) {
        await trx.insertInto('provider_usage').values(values.slice(i, i + ROWS_PER_STATEMENT)).execute();
      }
      return { importId, rows: values.length, replaced };
    });
  }

  async rows(window: DayWindow): Promise<ProviderUsageRow[]> {
    const [from, to] = dayRange(window);
    let q = this.#db.selectFrom('provider_usage').selectAll().where('day', '>=', from).where('day', '<', to);
    if (window.provider) q = q.where('provider', '=', window.provider);
    const rows = await q.orderBy('day').orderBy('provider').orderBy('source').orderBy('model').orderBy('api_key_id').orderBy('project_or_workspace_id').orderBy('detail').execute();
    return rows.map(fromRow);
  }

  async ledgerDays(window: DayWindow): Promise<LedgerDayRow[]> {
    const [from, to] = dayRange(window);
    let q = this.#db
      .selectFrom('rollup_daily')
      .select([
        'provider',
        'model',
        'day',
        sql<bigint>`sum(calls)`.as('calls'),
        sql<bigint>`sum(input_tokens)`.as('input_tokens'),
        sql<bigint>`sum(cache_read_tokens)`.as('cache_read_tokens'),
        sql<bigint>`sum(cache_write_5m_tokens)`.as('cache_write_5m_tokens'),
        sql<bigint>`sum(cache_write_1h_tokens)`.as('cache_write_1h_tokens'),
        sql<bigint>`sum(output_tokens)`.as('output_tokens'),
        sql<bigint>`sum(list_cost_nano)`.as('list_cost_nano'),
        sql<bigint>`sum(effective_cost_nano)`.as('effective_cost_nano'),
      ])
      .where('day', '>=', from)
      .where('day', '<', to)
      .groupBy(['day', 'provider', 'model']);
    if (window.provider) q = q.where('provider', '=', window.provider);
    const rows = await q.orderBy('day').orderBy('provider').orderBy('model').execute();
    return rows.map((r) => ({
      provider: r.provider,
      model: r.model,
      day: Number(r.day),
      calls: big(r.calls),
      inputTokens: big(r.input_tokens),
      cacheReadTokens: big(r.cache_read_tokens),
      cacheWrite5mTokens: big(r.cache_write_5m_tokens),
      cacheWrite1hTokens: big(r.cache_write_1h_tokens),
      outputTokens: big(r.output_tokens),
      listCostNano: big(r.list_cost_nano),
      effectiveCostNano: big(r.effective_cost_nano),
    }));
  }
}

function dayRange(window: DayWindow): [bigint, bigint] {
  return [BigInt(Math.floor(window.from / DAY_MS) * DAY_MS), BigInt(Math.ceil(window.to / DAY_MS) * DAY_MS)];
}

/** PostgreSQL returns sum(bigint) as a numeric string; SQLite as a bigint. */
function big(v: unknown): bigint {
  return v === null || v === undefined ? 0n : BigInt(v as string | bigint);
}

function fromRow(r: Selectable<ProviderUsageTable>): ProviderUsageRow {
  return {
    provider: r.provider as ReportProvider,
    source: r.source as ReportSource,
    day: Number(r.day),
    model: r.model,
    apiKeyId: r.api_key_id,
    projectId: r.project_or_workspace_id,
    detail: r.detail,
    inputTokens: r.input_tokens,
    cacheReadTokens: r.cache_read_tokens,
    cacheWrite5mTokens: r.cache_write_5m_tokens,
    cacheWrite1hTokens: r.cache_write_1h_tokens,
    outputTokens: r.output_tokens,
    requests: r.requests,
    costNano: r.cost_nano,
  };
}
