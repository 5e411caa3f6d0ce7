/**
 * The Directory over Kysely: identical SQL on SQLite and PostgreSQL. Scope paths are materialised
 * (`path` column) so a subtree is a prefix; prefix tests use substr, not LIKE, because `_` is a
 * legal slug character and a LIKE wildcard.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { sql } from 'kysely';
import { TollgateError } from '../domain/errors.ts';
import type { ScopeChain, Tier } from '../domain/scope.ts';
import { assertSegment, formatScope, parseScope, TIERS } from '../domain/scope.ts';
import { newScopeId } from '../domain/virtual-key.ts';
import type { AuditEntry, Directory, KeyRecord, KeyState, NewKey, ResolvedKey, ScopeNode } from './contract.ts';
import type { Database, KeysTable, ScopesTable } from './schema.ts';

export type Db = Kysely<Database> | Transaction<Database>;

export class KyselyDirectory implements Directory {
  readonly #db: Kysely<Database>;
  readonly #now: () => number;

  constructor(db: Kysely<Database>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async ensureScope(path: string, opts: { create: boolean; actor: string }): Promise<{ nodes: ScopeNode[]; created: string[] }> {
    const segments = parseScope(path);
    const paths = segments.map((_, i) => formatScope(segments.slice(0, i + 1)));
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#db.transaction().execute(async (trx) => {
          const existing = new Map((await trx.selectFrom('scopes').selectAll().where('path', 'in', paths).execute()).map((r) => [r.path, toNode(r)]));
          const nodes: ScopeNode[] = [];
          const created: string[] = [];
          let parent = null as ScopeNode | null;
          for (const [i, p] of paths.entries()) {
            let node = existing.get(p);
            if (node?.archivedAt != null) {
              throw new TollgateError('scope_archived', `scope "${p}" is archived; archived scopes keep their history but take no new keys or calls`);
            }
            if (!node) {
              if (!opts.create) {
                throw new TollgateError('not_found', `scope "${p}" does not exist (create it, or allow missing tiers to be created)`);
              }
              node = {
                id: newScopeId(),
                parentId: parent?.id ?? null,
                tier: TIERS[i] as Tier,
                slug: segments[i] as string,
                name: segments[i] as string,
                path: p,
                createdAt: this.#now(),
                archivedAt: null,
              };
              await trx
                .insertInto('scopes')
                .values({ id: node.id, parent_id: node.parentId, tier: node.tier, slug: node.slug, name: node.name, path: node.path, created_at: node.createdAt, archived_at: null })
                .execute();
              await writeAudit(trx, this.#now(), opts.actor, 'scope.create', p, null, { id: node.id, tier: node.tier });
              created.push(p);
            }
            nodes.push(node);
            parent = node;
          }
          if (created.length > 0) await bumpVersion(trx);
          return { nodes, created };
        });
      } catch (err) {
        // Two writers creating the same path: the loser re-reads and finds it.
        if (attempt < 2 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  async getScope(path: string): Promise<ScopeNode | null> {
    const p = formatScope(parseScope(path));
    const row = await this.#db.selectFrom('scopes').selectAll().where('path', '=', p).executeTakeFirst();
    return row ? toNode(row) : null;
  }

  async listScopes(opts: { under?: string; includeArchived?: boolean } = {}): Promise<ScopeNode[]> {
    let q = this.#db.selectFrom('scopes').selectAll();
    if (opts.under !== undefined) {
      const p = formatScope(parseScope(opts.under));
      q = q.where((eb) => eb.or([eb('path', '=', p), eb(sql<string>`substr(path, 1, ${p.length + 1})`, '=', `${p}/`)]));
    }
    if (!opts.includeArchived) q = q.where('archived_at', 'is', null);
    const rows = await q.execute();
    // Sort in JS: PostgreSQL's collation would otherwise order paths differently from SQLite.
    return rows.map(toNode).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async renameScope(path: string, change: { slug?: string; name?: string }, actor: string): Promise<ScopeNode> {
    if (change.slug === undefined && change.name === undefined) {
      throw new TollgateError('invalid_request', 'nothing to rename: give a new slug, a new display name, or both');
    }
    if (change.slug !== undefined) assertSegment(change.slug);
    if (change.name !== undefined && change.name.trim() === '') throw new TollgateError('invalid_request', 'display name cannot be empty');
    return this.#db.transaction().execute(async (trx) => {
      const node = await mustGetScope(trx, path);
      const slug = change.slug ?? node.slug;
      const name = change.name?.trim() ?? (change.slug !== undefined && node.name === node.slug ? slug : node.name);
      const parentPath = node.path.slice(0, node.path.length - node.slug.length);
      const newPath = parentPath + slug;
      if (newPath !== node.path) {
        const clash = await trx.selectFrom('scopes').select('id').where('path', '=', newPath).executeTakeFirst();
        if (clash) throw new TollgateError('conflict', `cannot rename "${node.path}" to "${newPath}": that scope already exists`);
        // Descendants keep their suffix under the new prefix.
        await trx
          .updateTable('scopes')
          .set({ path: sql<string>`${newPath} || substr(path, ${node.path.length + 1})` })
          .where(sql<string>`substr(path, 1, ${node.path.length + 1})`, '=', `${node.path}/`)
          .execute();
      }
      await trx.updateTable('scopes').set({ slug, name, path: newPath }).where('id', '=', node.id).execute();
      await writeAudit(trx, this.#now(), actor, 'scope.rename', node.path, { slug: node.slug, name: node.name, path: node.path }, { slug, name, path: newPath });
      await bumpVersion(trx);
      return { ...node, slug, name, path: newPath };
    });
  }

  async archiveScope(path: string, actor: string): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const node = await mustGetScope(trx, path);
      const now = this.#now();
      const res = await trx
        .updateTable('scopes')
        .set({ archived_at: now })
        .where('archived_at', 'is', null)
        .where((eb) => eb.or([eb('id', '=', node.id), eb(sql<string>`substr(path, 1, ${node.path.length + 1})`, '=', `${node.path}/`)]))
        .executeTakeFirst();
      const count = Number(res.numUpdatedRows);
      if (count > 0) {
        await writeAudit(trx, now, actor, 'scope.archive', node.path, { archived: false }, { archived: true, nodes: count });
        await bumpVersion(trx);
      }
      return count;
    });
  }

  async insertKey(key: NewKey, actor: string): Promise<KeyRecord> {
    return this.#db.transaction().execute(async (trx) => {
      const scope = await trx.selectFrom('scopes').selectAll().where('id', '=', key.scopeId).executeTakeFirst();
      if (!scope) throw new TollgateError('not_found', `scope ${key.scopeId} does not exist`);
      if (scope.archived_at !== null) throw new TollgateError('scope_archived', `scope "${scope.path}" is archived and takes no new keys`);
      if (key.kind === 'agent' && scope.tier !== 'agent') {
        throw new TollgateError('invalid_request', `a virtual key belongs to an agent; "${scope.path}" is a ${scope.tier} (give the full org/team/project/agent path)`);
      }
      const createdAt = this.#now();
      await trx
        .insertInto('keys')
        .values({ id: key.id, hash: key.hash, display: key.display, kind: key.kind, scope_id: key.scopeId, name: key.name, state: 'active', created_at: createdAt, expires_at: key.expiresAt, revoked_at: null })
        .execute();
      const record: KeyRecord = { id: key.id, display: key.display, kind: key.kind, scopeId: key.scopeId, scopePath: scope.path, name: key.name, state: 'active', createdAt, expiresAt: key.expiresAt, revokedAt: null };
      await writeAudit(trx, createdAt, actor, 'key.create', key.id, null, { display: key.display, kind: key.kind, scope: scope.path, name: key.name, expiresAt: key.expiresAt });
      await bumpVersion(trx);
      return record;
    });
  }

  async listKeys(opts: { under?: string; includeRevoked?: boolean } = {}): Promise<KeyRecord[]> {
    let q = this.#db.selectFrom('keys').innerJoin('scopes', 'scopes.id', 'keys.scope_id').selectAll('keys').select('scopes.path as scope_path');
    if (opts.under !== undefined) {
      const p = formatScope(parseScope(opts.under));
      q = q.where((eb) => eb.or([eb('scopes.path', '=', p), eb(sql<string>`substr(scopes.path, 1, ${p.length + 1})`, '=', `${p}/`)]));
    }
    if (!opts.includeRevoked) q = q.where('keys.state', '!=', 'revoked');
    const rows = await q.orderBy('keys.created_at', 'desc').orderBy('keys.id').execute();
    return rows.map((r) => toKey(r, r.scope_path));
  }

  async loadKeys(): Promise<ResolvedKey[]> {
    const [keys, scopes] = await Promise.all([
      this.#db.selectFrom('keys').selectAll().where('state', '!=', 'revoked').execute(),
      this.#db.selectFrom('scopes').selectAll().execute(),
    ]);
    const byId = new Map(scopes.map((s) => [s.id, s]));
    return keys.flatMap((k) => {
      const resolved = resolveKey(k, byId);
      return resolved ? [resolved] : [];
    });
  }

  async findKeyByHash(hash: string): Promise<ResolvedKey | null> {
    const key = await this.#db.selectFrom('keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    if (!key) return null;
    const leaf = await this.#db.selectFrom('scopes').selectAll().where('id', '=', key.scope_id).executeTakeFirst();
    if (!leaf) return null;
    const segments = leaf.path.split('/');
    const ancestors = await this.#db
      .selectFrom('scopes')
      .selectAll()
      .where('path', 'in', segments.map((_, i) => segments.slice(0, i + 1).join('/')))
      .execute();
    return resolveKey(key, new Map(ancestors.map((s) => [s.id, s])));
  }

  async setKeyState(ref: string, state: KeyState, actor: string): Promise<KeyRecord> {
    return this.#db.transaction().execute(async (trx) => {
      const key = await findKeyByRef(trx, ref);
      if (key.state === 'revoked' && state !== 'revoked') {
        throw new TollgateError('conflict', `key ${key.id} (${key.display}) is revoked; revocation is final, create a new key instead`);
      }
      if (key.state === state) return toKey(key, await scopePath(trx, key.scope_id));
      const now = this.#now();
      await trx
        .updateTable('keys')
        .set({ state, revoked_at: state === 'revoked' ? now : null })
        .where('id', '=', key.id)
        .execute();
      await writeAudit(trx, now, actor, `key.${state === 'active' ? 'activate' : state === 'suspended' ? 'suspend' : 'revoke'}`, key.id, { state: key.state }, { state });
      await bumpVersion(trx);
      return toKey({ ...key, state, revoked_at: state === 'revoked' ? BigInt(now) : null }, await scopePath(trx, key.scope_id));
    });
  }

  async version(): Promise<number> {
    const row = await this.#db.selectFrom('meta').select('value').where('key', '=', 'directory_version').executeTakeFirst();
    return row ? Number(row.value) : 0;
  }

  async audit(opts: { limit?: number; target?: string } = {}): Promise<AuditEntry[]> {
    let q = this.#db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(opts.limit ?? 100);
    if (opts.target !== undefined) q = q.where('target', '=', opts.target);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      actor: r.actor,
      action: r.action,
      target: r.target,
      before: r.before === null ? null : (JSON.parse(r.before) as unknown),
      after: r.after === null ? null : (JSON.parse(r.after) as unknown),
    }));
  }
}

function toNode(r: Selectable<ScopesTable>): ScopeNode {
  return {
    id: r.id,
    parentId: r.parent_id,
    tier: r.tier as Tier,
    slug: r.slug,
    name: r.name,
    path: r.path,
    createdAt: Number(r.created_at),
    archivedAt: r.archived_at === null ? null : Number(r.archived_at),
  };
}

function toKey(r: Selectable<KeysTable>, path: string): KeyRecord {
  return {
    id: r.id,
    display: r.display,
    kind: r.kind as KeyRecord['kind'],
    scopeId: r.scope_id,
    scopePath: path,
    name: r.name,
    state: r.state as KeyState,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

function resolveKey(k: Selectable<KeysTable>, scopes: Map<string, Selectable<ScopesTable>>): ResolvedKey | null {
  const lineage: Selectable<ScopesTable>[] = [];
  for (let s = scopes.get(k.scope_id); s; s = s.parent_id === null ? undefined : scopes.get(s.parent_id)) lineage.unshift(s);
  const leaf = lineage.at(-1);
  if (!leaf) return null;
  const [org, team, project, agent] = lineage;
  const chain: ScopeChain | null =
    org && team && project && agent
      ? { orgId: org.id, orgName: org.slug, teamId: team.id, teamName: team.slug, projectId: project.id, projectName: project.slug, agentId: agent.id, agentName: agent.slug }
      : null;
  return { ...toKey(k, leaf.path), hash: k.hash, chain, scopeArchived: lineage.some((s) => s.archived_at !== null) };
}

export async function mustGetScope(db: Db, path: string): Promise<ScopeNode> {
  const p = formatScope(parseScope(path));
  const row = await db.selectFrom('scopes').selectAll().where('path', '=', p).executeTakeFirst();
  if (!row) throw new TollgateError('not_found', `scope "${p}" does not exist`);
  return toNode(row);
}

async function scopePath(db: Db, id: string): Promise<string> {
  const row = await db.selectFrom('scopes').select('path').where('id', '=', id).executeTakeFirst();
  return row?.path ?? '?';
}

async function findKeyByRef(db: Db, ref: string): Promise<Selectable<KeysTable>> {
  const r = ref.trim().replace(/….*$/, '');
  if (r.length < 4) throw new TollgateError('invalid_request', `key reference "${ref}" is too short: give the key id (key_…) or its display prefix (tg-xxxxxx)`);
  const rows = r.startsWith('key_')
    ? await db.selectFrom('keys').selectAll().where('id', '=', r).execute()
    : await db.selectFrom('keys').selectAll().where(sql<string>`substr(display, 1, ${r.length})`, '=', r).limit(2).execute();
  const [first, second] = rows;
  if (!first) throw new TollgateError('not_found', `no key matches "${ref}" (list keys to see ids and prefixes)`);
  if (second) throw new TollgateError('conflict', `"${ref}" matches more than one key; give the key id instead`);
  return first;
}

export async function writeAudit(db: Db, at: number, actor: string, action: string, target: string, before: unknown, after: unknown): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ at, actor, action, target, before: before === null ? null : JSON.stringify(before), after: after === null ? null : JSON.stringify(after) })
    .execute();
}

export async function bumpVersion(db: Db): Promise<void> {
  await db
    .updateTable('meta')
    .set({ value: sql<string>`cast(cast(value as integer) + 1 as text)` })
    .where('key', '=', 'directory_version')
    .execute();
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  // PostgreSQL unique_violation, or SQLite's constraint error.
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
