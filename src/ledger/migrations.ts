/**
 * Schema migrations, portable across SQLite and PostgreSQL through Kysely's schema builder.
 * Append new migrations; never edit one that has shipped.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { sql } from 'kysely';

/** How the auto-increment primary key of the audit log is spelled; the only dialect difference. */
export interface MigrationDialect {
  autoIncrementId: 'integer-autoincrement' | 'bigserial';
}

function migrations(dialect: MigrationDialect): Record<string, Migration> {
  return {
    '0001_foundation': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('scopes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('parent_id', 'text', (c) => c.references('scopes.id'))
          .addColumn('tier', 'text', (c) => c.notNull())
          .addColumn('slug', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('archived_at', 'bigint')
          .execute();
        await db.schema.createIndex('scopes_parent').on('scopes').column('parent_id').execute();

        await db.schema
          .createTable('keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('hash', 'text', (c) => c.notNull().unique())
          .addColumn('display', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('scope_id', 'text', (c) => c.notNull().references('scopes.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint')
          .addColumn('revoked_at', 'bigint')
          .execute();
        await db.schema.createIndex('keys_scope').on('keys').column('scope_id').execute();

        await db.schema
          .createTable('events')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('ended_at', 'bigint', (c) => c.notNull())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('org_name', 'text', (c) => c.notNull())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('team_name', 'text', (c) => c.notNull())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('project_name', 'text', (c) => c.notNull())
          .addColumn('agent_id', 'text', (c) => c.notNull())
          .addColumn('agent_name', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('requested_model', 'text', (c) => c.notNull())
          .addColumn('served_model', 'text', (c) => c.notNull())
          .addColumn('route', 'text', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('error_code', 'text')
          .addColumn('input_tokens', 'bigint', (c) => c.notNull())
          .addColumn('cache_read_tokens', 'bigint', (c) => c.notNull())
          .addColumn('cache_write_5m_tokens', 'bigint', (c) => c.notNull())
          .addColumn('cache_write_1h_tokens', 'bigint', (c) => c.notNull())
          .addColumn('output_tokens', 'bigint', (c) => c.notNull())
          .addColumn('reasoning_tokens', 'bigint', (c) => c.notNull())
          .addColumn('requests', 'bigint', (c) => c.notNull())
          .addColumn('list_cost_nano', 'bigint', (c) => c.notNull())
          .addColumn('effective_cost_nano', 'bigint', (c) => c.notNull())
          .addColumn('price_source', 'text', (c) => c.notNull())
          .addColumn('latency_ms', 'integer', (c) => c.notNull())
          .addColumn('stream', 'smallint', (c) => c.notNull())
          .addColumn('estimated', 'smallint', (c) => c.notNull())
          .addColumn('trace_id', 'text')
          .addColumn('customer', 'text')
          .addColumn('tags', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('events_started').on('events').column('started_at').execute();
        await db.schema.createIndex('events_agent_started').on('events').columns(['agent_id', 'started_at']).execute();
        await db.schema.createIndex('events_trace').on('events').column('trace_id').where('trace_id', 'is not', null).execute();

        // Hourly rollups serve short ranges and the ragged edges of long ones; daily rollups serve whole
        // days, so a month-long report reads ~24x fewer rows. Both are upserted with the events.
        for (const [table, bucket] of [['rollup_hourly', 'hour'], ['rollup_daily', 'day']] as const) {
          await db.schema
            .createTable(table)
            .addColumn(bucket, 'bigint', (c) => c.notNull())
            .addColumn('agent_id', 'text', (c) => c.notNull())
            .addColumn('provider', 'text', (c) => c.notNull())
            .addColumn('model', 'text', (c) => c.notNull())
            .addColumn('org_id', 'text', (c) => c.notNull())
            .addColumn('team_id', 'text', (c) => c.notNull())
            .addColumn('project_id', 'text', (c) => c.notNull())
            .addColumn('calls', 'bigint', (c) => c.notNull())
            .addColumn('errors', 'bigint', (c) => c.notNull())
            .addColumn('input_tokens', 'bigint', (c) => c.notNull())
            .addColumn('cache_read_tokens', 'bigint', (c) => c.notNull())
            .addColumn('cache_write_5m_tokens', 'bigint', (c) => c.notNull())
            .addColumn('cache_write_1h_tokens', 'bigint', (c) => c.notNull())
            .addColumn('output_tokens', 'bigint', (c) => c.notNull())
            .addColumn('reasoning_tokens', 'bigint', (c) => c.notNull())
            .addColumn('requests', 'bigint', (c) => c.notNull())
            .addColumn('list_cost_nano', 'bigint', (c) => c.notNull())
            .addColumn('effective_cost_nano', 'bigint', (c) => c.notNull())
            .addColumn('estimated_calls', 'bigint', (c) => c.notNull())
            .addColumn('unpriced_calls', 'bigint', (c) => c.notNull())
            .addColumn('latency_ms_sum', 'bigint', (c) => c.notNull())
            .addPrimaryKeyConstraint(`${table}_pk`, [bucket, 'agent_id', 'provider', 'model'])
            .execute();
          // Reports group a tier's subtree over a time range: lead with the tier id so that is one range scan.
          // Org-wide ranges use the primary key, which leads with the time bucket.
          await db.schema.createIndex(`${table}_team`).on(table).columns(['team_id', bucket]).execute();
          await db.schema.createIndex(`${table}_project`).on(table).columns(['project_id', bucket]).execute();
        }

        const audit = db.schema.createTable('audit_log');
        await (dialect.autoIncrementId === 'bigserial'
          ? audit.addColumn('id', 'bigserial', (c) => c.primaryKey())
          : audit.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        )
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('before', 'text')
          .addColumn('after', 'text')
          .execute();

        await db.schema
          .createTable('meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
        await sql`insert into meta (key, value) values ('directory_version', '1')`.execute(db);
      },
    },
    '0002_controls': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('budgets')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('scope_id', 'text', (c) => c.notNull().references('scopes.id'))
          .addColumn('amount_nano', 'bigint', (c) => c.notNull())
          .addColumn('period', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('thresholds', 'text', (c) => c.notNull())
          .addColumn('time_zone', 'text', (c) => c.notNull())
          .addColumn('degrade_to', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('budgets_scope_period', ['scope_id', 'period'])
          .execute();

        await db.schema
          .createTable('rate_limits')
          .addColumn('scope_id', 'text', (c) => c.primaryKey().references('scopes.id'))
          .addColumn('rpm', 'bigint')
          .addColumn('tpm', 'bigint')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('kill_switches')
          .addColumn('scope_id', 'text', (c) => c.primaryKey().references('scopes.id'))
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .execute();

        // One row per budget, period and threshold: replicas racing to alert insert once.
        await db.schema
          .createTable('budget_alerts')
          .addColumn('budget_id', 'text', (c) => c.notNull())
          .addColumn('period_start', 'bigint', (c) => c.notNull())
          .addColumn('threshold', 'integer', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('spent_nano', 'bigint', (c) => c.notNull())
          .addColumn('limit_nano', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('budget_alerts_pk', ['budget_id', 'period_start', 'threshold'])
          .execute();
        await db.schema.createIndex('budget_alerts_at').on('budget_alerts').column('at').execute();
      },
    },
    '0003_spend_intelligence': {
      async up(db: Kysely<unknown>) {
        // Per trace (one agent task), its calls' cost: upserted with the events, read by cost-per-outcome reports.
        await db.schema
          .createTable('trace_costs')
          .addColumn('trace_id', 'text', (c) => c.notNull())
          .addColumn('agent_id', 'text', (c) => c.notNull())
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('first_at', 'bigint', (c) => c.notNull())
          .addColumn('last_at', 'bigint', (c) => c.notNull())
          .addColumn('calls', 'bigint', (c) => c.notNull())
          .addColumn('tokens', 'bigint', (c) => c.notNull())
          .addColumn('list_cost_nano', 'bigint', (c) => c.notNull())
          .addColumn('effective_cost_nano', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('trace_costs_pk', ['trace_id', 'agent_id'])
          .execute();
        await db.schema.createIndex('trace_costs_project').on('trace_costs').columns(['project_id', 'first_at']).execute();

        // What a project's agents produce, and what a human would have cost for it.
        await db.schema
          .createTable('outcome_types')
          .addColumn('project_id', 'text', (c) => c.notNull().references('scopes.id'))
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('unit', 'text', (c) => c.notNull())
          .addColumn('baseline_nano', 'bigint')
          .addColumn('target_nano', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('outcome_types_pk', ['project_id', 'type'])
          .execute();

        await db.schema
          .createTable('outcomes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('count', 'bigint', (c) => c.notNull())
          .addColumn('occurred_at', 'bigint', (c) => c.notNull())
          .addColumn('trace_id', 'text')
          .addColumn('value_nano', 'bigint')
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('agent_id', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('recorded_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('outcomes_project').on('outcomes').columns(['project_id', 'occurred_at']).execute();
        await db.schema.createIndex('outcomes_team').on('outcomes').columns(['team_id', 'occurred_at']).execute();
        await db.schema.createIndex('outcomes_trace').on('outcomes').column('trace_id').where('trace_id', 'is not', null).execute();

        // Chargeback: credits and corrections to a team's statement, and the facts behind escalation advice.
        await db.schema
          .createTable('chargeback_adjustments')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('team_id', 'text', (c) => c.notNull().references('scopes.id'))
          .addColumn('period', 'text', (c) => c.notNull())
          .addColumn('amount_nano', 'bigint', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('chargeback_adjustments_team').on('chargeback_adjustments').columns(['team_id', 'period']).execute();

        await db.schema
          .createTable('team_flags')
          .addColumn('team_id', 'text', (c) => c.primaryKey().references('scopes.id'))
          .addColumn('bills_customers', 'smallint', (c) => c.notNull())
          .addColumn('compliance_hard_limits', 'smallint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0004_showback_outcome_counts': {
      async up(db: Kysely<unknown>) {
        // Showback sums a month of outcomes per team; with every column it reads in the index, each
        // team is one index-only range scan instead of a table lookup per outcome.
        await db.schema
          .createIndex('outcomes_team_counts')
          .on('outcomes')
          .columns(['team_id', 'occurred_at', 'project_id', 'type', 'count', 'value_nano'])
          .execute();
      },
    },
    '0005_outcome_counts_by_org': {
      async up(db: Kysely<unknown>) {
        // Unit economics of a whole org sums a period's outcomes per project and type: one index-only
        // range scan instead of reading the table (984 ms at 10M events on SQLite without it).
        await db.schema
          .createIndex('outcomes_org_counts')
          .on('outcomes')
          .columns(['org_id', 'occurred_at', 'project_id', 'type', 'count', 'value_nano'])
          .execute();
      },
    },
    '0006_anomalies': {
      async up(db: Kysely<unknown>) {
        // One row per anomaly episode. `open_key` is "<scope_id>/<signal>" while open and null once
        // resolved: its unique constraint keeps one open row per scope and signal across replicas
        // (NULLs never collide), and is the conflict target that turns a repeat into an update.
        await db.schema
          .createTable('anomalies')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('scope_id', 'text', (c) => c.notNull().references('scopes.id'))
          .addColumn('tier', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('signal', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('open_key', 'text', (c) => c.unique())
          .addColumn('opened_at', 'bigint', (c) => c.notNull())
          .addColumn('since', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('resolved_at', 'bigint')
          .addColumn('resolved_by', 'text')
          .addColumn('at_risk_nano_per_hour', 'bigint', (c) => c.notNull())
          .addColumn('peak_nano_per_hour', 'bigint', (c) => c.notNull())
          .addColumn('evidence', 'text', (c) => c.notNull())
          .addColumn('summary', 'text', (c) => c.notNull())
          .addColumn('action', 'text')
          .execute();
        await db.schema.createIndex('anomalies_opened').on('anomalies').column('opened_at').execute();
        await db.schema.createIndex('anomalies_scope').on('anomalies').columns(['scope_id', 'opened_at']).execute();

        // The delivery log: every notification that reached its sink, and the dead letters that did not.
        await db.schema
          .createTable('alert_deliveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('anomaly_id', 'text', (c) => c.notNull())
          .addColumn('sink', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('alert_deliveries_at').on('alert_deliveries').column('at').execute();
        await db.schema.createIndex('alert_deliveries_anomaly').on('alert_deliveries').column('anomaly_id').execute();

        // Opt-in automatic action per scope; the nearest policy up an agent's chain applies.
        await db.schema
          .createTable('anomaly_policies')
          .addColumn('scope_id', 'text', (c) => c.primaryKey().references('scopes.id'))
          .addColumn('auto_kill', 'smallint', (c) => c.notNull())
          .addColumn('min_nano_per_hour', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0007_routing': {
      async up(db: Kysely<unknown>) {
        // How the cheap-first router placed a call; null on calls that named a model. SQLite adds one column per statement.
        for (const column of ['route_alias', 'route_tier', 'route_reason', 'escalated_from', 'route_frontier']) {
          await db.schema.alterTable('events').addColumn(column, 'text').execute();
        }
        // The routing report reads a period's routed calls only: a partial index keeps that a range scan.
        await db.schema.createIndex('events_routed').on('events').columns(['started_at', 'id']).where(sql.ref('route_alias'), 'is not', null).execute();
      },
    },
    '0008_provider_usage': {
      async up(db: Kysely<unknown>) {
        // What the providers' usage and cost reports say, one row per UTC day and group; '' where the
        // report was not grouped by a dimension, so the unique key (an import's conflict guard) never meets a NULL.
        await db.schema
          .createTable('provider_usage')
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('day', 'bigint', (c) => c.notNull())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('api_key_id', 'text', (c) => c.notNull())
          .addColumn('project_or_workspace_id', 'text', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('input_tokens', 'bigint', (c) => c.notNull())
          .addColumn('cache_read_tokens', 'bigint', (c) => c.notNull())
          .addColumn('cache_write_5m_tokens', 'bigint', (c) => c.notNull())
          .addColumn('cache_write_1h_tokens', 'bigint', (c) => c.notNull())
          .addColumn('output_tokens', 'bigint', (c) => c.notNull())
          .addColumn('requests', 'bigint', (c) => c.notNull())
          .addColumn('cost_nano', 'bigint')
          .addColumn('import_id', 'text', (c) => c.notNull())
          .addColumn('imported_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('provider_usage_group', ['provider', 'source', 'day', 'model', 'api_key_id', 'project_or_workspace_id', 'detail'])
          .execute();
      },
    },
    '0009_audit_append_only': {
      async up(db: Kysely<unknown>) {
        // The audit log is evidence: the database itself refuses to change or delete a row of it,
        // whatever code (or person with SQL access through the app's role) tries.
        if (dialect.autoIncrementId === 'bigserial') {
          await sql`CREATE FUNCTION tollgate_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP; END $$`.execute(db);
          await sql`CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION tollgate_audit_append_only()`.execute(db);
          await sql`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION tollgate_audit_append_only()`.execute(db);
        } else {
          await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END`.execute(db);
          await sql`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END`.execute(db);
        }
      },
    },
    '0010_events_customer': {
      async up(db: Kysely<unknown>) {
        // Per-customer reads (the dashboard's customer filter, forecasts per customer): one range scan.
        await db.schema.createIndex('events_customer').on('events').columns(['customer', 'started_at']).where(sql.ref('customer'), 'is not', null).execute();
      },
    },
  };
}

export function migrationProvider(dialect: MigrationDialect): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(dialect)) };
}
