/**
 * Anomalies, their deliveries and the auto-kill policies over Kysely: identical SQL on SQLite and
 * PostgreSQL. Dedup is one upsert on the unique `open_key` (`<scope_id>/<signal>` while open, null
 * once resolved), so replicas racing on the same finding share one row and exactly one of them
 * learns it opened it; resolving clears the key in the same update that returns the row.
 */
import type { Kysely, Selectable } from 'kysely';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Finding, Signal, WatchedTier } from '../analytics/anomalies/contract.ts';
import { SIGNALS, WATCHED_TIERS } from '../analytics/anomalies/contract.ts';
import { TollgateError } from '../domain/errors.ts';
import { formatUsd } from '../domain/money.ts';
import { formatScope, parseScope } from '../domain/scope.ts';
import type { AlertDelivery, AlertEvent, Anomalies, AnomalyAction, AnomalyAlert, AnomalyPolicy, AnomalyPolicyInput, AnomalyQuery, DeliveryState, NewDelivery } from './anomalies-contract.ts';
import { atRiskNano } from './anomalies-contract.ts';
import { bumpVersion, isUniqueViolation, mustGetScope, writeAudit } from './kysely-directory.ts';
import type { AlertDeliveriesTable, AnomaliesTable, AnomalyPoliciesTable, Database } from './schema.ts';

/** Policy floors are stored in 64-bit integer columns. */
const MAX_NANO = 2n ** 63n - 1n;
const MAX_LIST = 1000;

export class KyselyAnomalies implements Anomalies {
  readonly #db: Kysely<Database>;
  readonly #now: () => number;

  constructor(db: Kysely<Database>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async open(finding: Finding): Promise<{ alert: AnomalyAlert; created: boolean }> {
    checkFinding(finding);
    const id = newId('anm');
    const risk = atRiskNano(finding.atRiskNanoPerHour);
    const key = openKey(finding.scopeId, finding.signal);
    const evidence = JSON.stringify(finding);
    for (let attempt = 0; attempt < 5; attempt++) {
      let row: Selectable<AnomaliesTable> | undefined;
      try {
        row = await this.#db
          .insertInto('anomalies')
          .values({
            id,
            scope_id: finding.scopeId,
            tier: finding.tier,
            path: finding.path,
            signal: finding.signal,
            state: 'open',
            open_key: key,
            opened_at: finding.at,
            since: finding.since,
            last_seen_at: finding.at,
            resolved_at: null,
            resolved_by: null,
            at_risk_nano_per_hour: risk,
            peak_nano_per_hour: risk,
            evidence,
            summary: finding.summary,
            action: null,
          })
          .onConflict((oc) =>
            oc
              .column('open_key')
              .doUpdateSet({
                path: (eb) => eb.ref('excluded.path'),
                last_seen_at: (eb) => eb.ref('excluded.last_seen_at'),
                at_risk_nano_per_hour: (eb) => eb.ref('excluded.at_risk_nano_per_hour'),
                peak_nano_per_hour: sql<bigint>`case when anomalies.peak_nano_per_hour > excluded.peak_nano_per_hour then anomalies.peak_nano_per_hour else excluded.peak_nano_per_hour end`,
                evidence: (eb) => eb.ref('excluded.evidence'),
                summary: (eb) => eb.ref('excluded.summary'),
              })
              // A finding older than what the row holds (a replica behind) leaves it as it is.
              .where('anomalies.last_seen_at', '<=', BigInt(finding.at)),
          )
          .returningAll()
          .executeTakeFirst();
      } catch (err) {
        if (isForeignKeyViolation(err)) throw new TollgateError('not_found', `scope ${finding.scopeId} (${finding.path}) does not exist`, { cause: err });
        throw err;
      }
      // Nothing returned: the open row is newer than this finding; it stands as it is.
      row ??= await this.#db.selectFrom('anomalies').selectAll().where('open_key', '=', key).executeTakeFirst();
      // Resolved between the two statements: open afresh.
      if (row) return { alert: toAlert(row), created: row.id === id };
    }
    throw new TollgateError('unavailable', `anomaly ${finding.path} ${finding.signal} kept changing under concurrent writers; try again`);
  }

  async resolve(scopeId: string, signal: Signal, at: number): Promise<AnomalyAlert | null> {
    const row = await this.#db
      .updateTable('anomalies')
      .set({ state: 'resolved', open_key: null, resolved_at: at, resolved_by: 'detector' })
      .where('open_key', '=', openKey(scopeId, signal))
      .returningAll()
      .executeTakeFirst();
    return row ? toAlert(row) : null;
  }

  async resolveById(id: string, actor: string, at: number): Promise<AnomalyAlert> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('anomalies').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new TollgateError('not_found', `no anomaly ${id} (list them with: tollgate anomalies)`);
      if (row.state !== 'open') throw new TollgateError('conflict', `anomaly ${id} is already resolved (at ${new Date(Number(row.resolved_at)).toISOString()} by ${row.resolved_by ?? 'unknown'})`);
      const updated = await trx
        .updateTable('anomalies')
        .set({ state: 'resolved', open_key: null, resolved_at: at, resolved_by: actor })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .returningAll()
        .executeTakeFirst();
      if (!updated) throw new TollgateError('conflict', `anomaly ${id} was resolved meanwhile`);
      await writeAudit(trx, this.#now(), actor, 'anomaly.resolve', updated.path, { id, signal: updated.signal, state: 'open' }, { id, state: 'resolved' });
      return toAlert(updated);
    });
  }

  async list(query: AnomalyQuery = {}): Promise<AnomalyAlert[]> {
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST) throw new TollgateError('invalid_request', `limit must be a whole number from 1 to ${MAX_LIST}, got ${limit}`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new TollgateError('invalid_request', `offset must be a whole number of at least 0, got ${offset}`);
    for (const [name, v] of [['from', query.from], ['to', query.to]] as const) {
      if (v !== undefined && !Number.isSafeInteger(v)) throw new TollgateError('invalid_request', `${name} must be a time in epoch milliseconds`);
    }
    let q = this.#db
      .selectFrom('anomalies')
      .leftJoin('scopes', 'scopes.id', 'anomalies.scope_id')
      .selectAll('anomalies')
      .select('scopes.path as scope_path')
      .orderBy('anomalies.opened_at', 'desc')
      .orderBy('anomalies.id', 'desc')
      .limit(limit)
      .offset(offset);
    if (query.open !== undefined) q = q.where('anomalies.state', '=', query.open ? 'open' : 'resolved');
    if (query.to !== undefined) q = q.where('anomalies.opened_at', '<', BigInt(query.to));
    if (query.from !== undefined) {
      const from = BigInt(query.from);
      q = q.where((eb) => eb.or([eb('anomalies.resolved_at', 'is', null), eb('anomalies.resolved_at', '>=', from)]));
    }
    if (query.under !== undefined) {
      const p = formatScope(parseScope(query.under));
      q = q.where(sql<boolean>`(coalesce(scopes.path, anomalies.path) = ${p} or substr(coalesce(scopes.path, anomalies.path), 1, ${p.length + 1}) = ${`${p}/`})`);
    }
    const rows = await q.execute();
    return rows.map((r) => toAlert(r, r.scope_path));
  }

  async get(id: string): Promise<AnomalyAlert | null> {
    const row = await this.#db
      .selectFrom('anomalies')
      .leftJoin('scopes', 'scopes.id', 'anomalies.scope_id')
      .selectAll('anomalies')
      .select('scopes.path as scope_path')
      .where('anomalies.id', '=', id)
      .executeTakeFirst();
    return row ? toAlert(row, row.scope_path) : null;
  }

  async markAction(id: string, action: AnomalyAction): Promise<boolean> {
    const r = await this.#db.updateTable('anomalies').set({ action }).where('id', '=', id).where('action', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async recordDelivery(d: NewDelivery): Promise<AlertDelivery> {
    const delivery: AlertDelivery = { id: newId('dlv'), ...d };
    await this.#db
      .insertInto('alert_deliveries')
      .values({ id: delivery.id, anomaly_id: d.anomalyId, sink: d.sink, url: d.url, event: d.event, attempts: d.attempts, last_error: d.lastError, state: d.state, at: d.at })
      .execute();
    return delivery;
  }

  async deliveries(query: { state?: DeliveryState; anomalyId?: string; limit?: number } = {}): Promise<AlertDelivery[]> {
    let q = this.#db
      .selectFrom('alert_deliveries')
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(Math.max(1, query.limit ?? 100), MAX_LIST));
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    if (query.anomalyId !== undefined) q = q.where('anomaly_id', '=', query.anomalyId);
    return (await q.execute()).map(toDelivery);
  }

  async setPolicy(input: AnomalyPolicyInput, actor: string): Promise<{ policy: AnomalyPolicy; before: AnomalyPolicy | null }> {
    if (typeof input.autoKill !== 'boolean') throw new TollgateError('invalid_request', 'auto-kill is on or off (true or false)');
    if (typeof input.minNanoPerHour !== 'bigint' || input.minNanoPerHour < 0n) throw new TollgateError('invalid_request', 'the minimum at-risk rate must be an amount of USD per hour of at least $0');
    if (input.minNanoPerHour > MAX_NANO) throw new TollgateError('invalid_request', `the minimum at-risk rate can be at most ${formatUsd(MAX_NANO)} per hour`);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#db.transaction().execute(async (trx) => {
          const scope = await mustGetScope(trx, input.scopePath);
          if (scope.archivedAt !== null) throw new TollgateError('scope_archived', `scope "${scope.path}" is archived; it takes no new policies`);
          const row = await trx.selectFrom('anomaly_policies').selectAll().where('scope_id', '=', scope.id).executeTakeFirst();
          const before = row ? toPolicy(row, scope.path) : null;
          const now = this.#now();
          const values = { auto_kill: input.autoKill ? 1 : 0, min_nano_per_hour: input.minNanoPerHour, updated_at: now, updated_by: actor };
          if (row) await trx.updateTable('anomaly_policies').set(values).where('scope_id', '=', scope.id).execute();
          else await trx.insertInto('anomaly_policies').values({ scope_id: scope.id, ...values }).execute();
          const policy: AnomalyPolicy = { scopeId: scope.id, scopePath: scope.path, autoKill: input.autoKill, minNanoPerHour: input.minNanoPerHour, updatedAt: now, updatedBy: actor };
          await writeAudit(trx, now, actor, before ? 'anomaly_policy.update' : 'anomaly_policy.create', scope.path, before && auditForm(before), auditForm(policy));
          await bumpVersion(trx);
          return { policy, before };
        });
      } catch (err) {
        // Two admins creating the same policy at once: the loser retries as an update.
        if (attempt === 0 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  async listPolicies(opts: { under?: string } = {}): Promise<AnomalyPolicy[]> {
    let q = this.#db.selectFrom('anomaly_policies').innerJoin('scopes', 'scopes.id', 'anomaly_policies.scope_id').selectAll('anomaly_policies').select('scopes.path as scope_path');
    if (opts.under !== undefined) {
      const p = formatScope(parseScope(opts.under));
      q = q.where(sql<boolean>`(scopes.path = ${p} or substr(scopes.path, 1, ${p.length + 1}) = ${`${p}/`})`);
    }
    const rows = await q.execute();
    // Sorted in JS: PostgreSQL's collation would order paths differently from SQLite.
    return rows.map((r) => toPolicy(r, r.scope_path)).sort((a, b) => (a.scopePath < b.scopePath ? -1 : a.scopePath > b.scopePath ? 1 : 0));
  }

  async deletePolicy(scopePath: string, actor: string): Promise<AnomalyPolicy> {
    return this.#db.transaction().execute(async (trx) => {
      const scope = await mustGetScope(trx, scopePath);
      const row = await trx.selectFrom('anomaly_policies').selectAll().where('scope_id', '=', scope.id).executeTakeFirst();
      if (!row) throw new TollgateError('not_found', `scope "${scope.path}" has no anomaly policy (list them with: tollgate anomalies policy list)`);
      await trx.deleteFrom('anomaly_policies').where('scope_id', '=', scope.id).execute();
      const before = toPolicy(row, scope.path);
      await writeAudit(trx, this.#now(), actor, 'anomaly_policy.delete', scope.path, auditForm(before), null);
      await bumpVersion(trx);
      return before;
    });
  }

  async policyFor(scopeId: string): Promise<AnomalyPolicy | null> {
    const scope = await this.#db.selectFrom('scopes').select('path').where('id', '=', scopeId).executeTakeFirst();
    if (!scope) return null;
    const segments = scope.path.split('/');
    const lineage = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
    const rows = await this.#db
      .selectFrom('anomaly_policies')
      .innerJoin('scopes', 'scopes.id', 'anomaly_policies.scope_id')
      .selectAll('anomaly_policies')
      .select('scopes.path as scope_path')
      .where('scopes.path', 'in', lineage)
      .execute();
    // The deepest wins: an agent's own policy overrides its project's, which overrides its team's.
    const nearest = rows.sort((a, b) => b.scope_path.length - a.scope_path.length)[0];
    return nearest ? toPolicy(nearest, nearest.scope_path) : null;
  }
}

function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

function openKey(scopeId: string, signal: string): string {
  return `${scopeId}/${signal}`;
}

function checkFinding(f: Finding): void {
  if (!(SIGNALS as readonly string[]).includes(f.signal)) throw new TollgateError('invalid_request', `unknown anomaly signal "${String(f.signal)}": one of ${SIGNALS.join(', ')}`);
  if (!(WATCHED_TIERS as readonly string[]).includes(f.tier)) throw new TollgateError('invalid_request', `anomalies are watched on ${WATCHED_TIERS.join(', ')}, not "${String(f.tier)}"`);
  if (typeof f.scopeId !== 'string' || f.scopeId === '') throw new TollgateError('invalid_request', 'a finding names the scope id it is about');
  if (!Number.isSafeInteger(f.at) || !Number.isSafeInteger(f.since)) throw new TollgateError('invalid_request', 'a finding\'s at and since are epoch milliseconds');
}

function isForeignKeyViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  // PostgreSQL foreign_key_violation, or SQLite's.
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

function toAlert(r: Selectable<AnomaliesTable>, currentPath?: string | null): AnomalyAlert {
  return {
    id: r.id,
    scopeId: r.scope_id,
    tier: r.tier as WatchedTier,
    path: currentPath ?? r.path,
    signal: r.signal as Signal,
    state: r.state as AnomalyAlert['state'],
    openedAt: Number(r.opened_at),
    since: Number(r.since),
    lastSeenAt: Number(r.last_seen_at),
    resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
    resolvedBy: r.resolved_by,
    atRiskNanoPerHour: BigInt(r.at_risk_nano_per_hour),
    peakNanoPerHour: BigInt(r.peak_nano_per_hour),
    evidence: JSON.parse(r.evidence) as Finding,
    summary: r.summary,
    action: r.action as AnomalyAction | null,
  };
}

function toDelivery(r: Selectable<AlertDeliveriesTable>): AlertDelivery {
  return {
    id: r.id,
    anomalyId: r.anomaly_id,
    sink: r.sink,
    url: r.url,
    event: r.event as AlertEvent,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    state: r.state as DeliveryState,
    at: Number(r.at),
  };
}

function toPolicy(r: Selectable<AnomalyPoliciesTable>, path: string): AnomalyPolicy {
  return { scopeId: r.scope_id, scopePath: path, autoKill: Number(r.auto_kill) === 1, minNanoPerHour: BigInt(r.min_nano_per_hour), updatedAt: Number(r.updated_at), updatedBy: r.updated_by };
}

function auditForm(p: AnomalyPolicy): Record<string, unknown> {
  return { autoKill: p.autoKill, minUsdPerHour: formatUsd(p.minNanoPerHour) };
}
