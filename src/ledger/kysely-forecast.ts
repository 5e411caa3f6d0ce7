/**
 * The forecast's reads over Kysely, identical SQL on SQLite and PostgreSQL: spend per customer and
 * day from the events (the rollups do not carry the customer tag; the scan is one range of the
 * `events_started` index), per agent or project and day and per model from the daily rollups.
 * Sums are integer nano-USD; days are UTC days since the epoch (integer division of epoch ms).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ForecastReads, ModelSpendRow, SpendWindow, UnitDayRow, UnitKind } from '../analytics/forecast/forecast-source.ts';
import type { Tier } from '../domain/scope.ts';
import type { Database } from './schema.ts';

const DAY_MS = 86_400_000;
const TIER_COLUMN = { org: 'org_id', team: 'team_id', project: 'project_id', agent: 'agent_id' } as const satisfies Record<Tier, string>;

export class KyselyForecastReads implements ForecastReads {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async unitDays(unit: UnitKind, w: SpendWindow): Promise<UnitDayRow[]> {
    if (unit === 'customer') {
      const rows = await this.#db
        .selectFrom('events')
        .select([sql<string | null>`customer`.as('unit'), sql<bigint>`started_at / ${sql.lit(DAY_MS)}`.as('day'), sql<bigint>`sum(effective_cost_nano)`.as('spend')])
        .where('started_at', '>=', BigInt(w.fromDay * DAY_MS))
        .where('started_at', '<', BigInt(w.toDay * DAY_MS))
        .where(TIER_COLUMN[w.within.tier], '=', w.within.id)
        .groupBy([sql`customer`, sql`started_at / ${sql.lit(DAY_MS)}`])
        .execute();
      return rows.map((r) => ({ unit: r.unit, day: Number(r.day), spendNano: big(r.spend) }));
    }
    const column = unit === 'agent' ? 'agent_id' : 'project_id';
    const rows = await this.#db
      .selectFrom('rollup_daily')
      .select([sql<string>`${sql.ref(column)}`.as('unit'), 'day', sql<bigint>`sum(effective_cost_nano)`.as('spend')])
      .where('day', '>=', BigInt(w.fromDay * DAY_MS))
      .where('day', '<', BigInt(w.toDay * DAY_MS))
      .where(TIER_COLUMN[w.within.tier], '=', w.within.id)
      .groupBy([column, 'day'])
      .execute();
    return rows.map((r) => ({ unit: r.unit, day: Number(r.day) / DAY_MS, spendNano: big(r.spend) }));
  }

  async modelSpend(w: SpendWindow): Promise<ModelSpendRow[]> {
    const rows = await this.#db
      .selectFrom('rollup_daily')
      .select([
        'provider',
        'model',
        sql<bigint>`sum(effective_cost_nano)`.as('spend'),
        sql<bigint>`sum(input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens + output_tokens)`.as('tokens'),
      ])
      .where('day', '>=', BigInt(w.fromDay * DAY_MS))
      .where('day', '<', BigInt(w.toDay * DAY_MS))
      .where(TIER_COLUMN[w.within.tier], '=', w.within.id)
      .groupBy(['provider', 'model'])
      .execute();
    return rows.map((r) => ({ provider: r.provider, model: r.model, spendNano: big(r.spend), tokens: big(r.tokens) }));
  }

  async firstDay(within: { tier: Tier; id: string }): Promise<number | null> {
    const row = await this.#db
      .selectFrom('rollup_daily')
      .select(sql<bigint | null>`min(day)`.as('first'))
      .where(TIER_COLUMN[within.tier], '=', within.id)
      .where('effective_cost_nano', '>', 0n)
      .executeTakeFirst();
    return row?.first === null || row?.first === undefined ? null : Number(row.first) / DAY_MS;
  }
}

/** SUM over BIGINT is numeric in PostgreSQL (pg hands it over as a string); SQLite gives bigint. */
function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' || typeof v === 'number') return BigInt(v);
  return 0n;
}
