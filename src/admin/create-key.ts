/**
 * Issues a virtual key: resolves (or creates) its scope chain, makes the secret, stores its hash.
 * The secret exists only in the return value: shown once, never stored.
 *
 * Two kinds: an agent key makes model calls and belongs to one agent (the full org/team/project/agent
 * path); a viewer key (`tgv-…`) reads the reports and the dashboard of one subtree, on any tier.
 */
import type { KeyKind, KeyRecord, Store } from '../ledger/contract.ts';
import { TollgateError } from '../domain/errors.ts';
import { formatScope, parseScope, tierOf, TIERS } from '../domain/scope.ts';
import { generateKeySecret, newKeyId } from '../domain/virtual-key.ts';

export interface CreateKeyInput {
  scope: string;
  /** Agent (default) or viewer. */
  kind?: KeyKind;
  name?: string;
  /** Epoch ms, or null for no expiry. */
  expiresAt?: number | null;
  /** Create missing org/team/project/agent tiers (default true for agent keys; viewer keys never create tiers). */
  createMissing?: boolean;
  actor: string;
  now?: number;
}

export interface CreatedKey {
  secret: string;
  key: KeyRecord;
  /** Scope paths that did not exist and were created. */
  createdScopes: string[];
}

export async function createKey(store: Store, input: CreateKeyInput): Promise<CreatedKey> {
  const now = input.now ?? Date.now();
  const kind = input.kind ?? 'agent';
  if (input.expiresAt != null && input.expiresAt <= now) {
    throw new TollgateError('invalid_request', `expiry ${new Date(input.expiresAt).toISOString()} is in the past`);
  }
  const path = parseScope(input.scope);
  if (kind === 'agent' && path.length !== TIERS.length) {
    // Checked before anything is created, so a mistaken path leaves no stray tiers behind.
    throw new TollgateError(
      'invalid_request',
      `a virtual key belongs to one agent: "${formatScope(path)}" is a ${tierOf(path)}; give the full org/team/project/agent path, e.g. ${[...path, ...TIERS.slice(path.length).map((t) => `<${t}>`)].join('/')}` +
        ' (to read a whole subtree\'s reports instead, issue a viewer key)',
    );
  }
  // A viewer of a scope that does not exist would see nothing: a typo must fail, not create tiers.
  if (kind === 'viewer' && (await store.directory.getScope(formatScope(path))) === null) {
    throw new TollgateError('not_found', `scope "${formatScope(path)}" does not exist: a viewer key reads an existing org, team, project or agent (see \`tollgate scopes list\`)`);
  }
  const create = kind === 'agent' && (input.createMissing ?? true);
  const { nodes, created } = await store.directory.ensureScope(formatScope(path), { create, actor: input.actor });
  const leaf = nodes.at(-1)!;
  const s = generateKeySecret(kind);
  const key = await store.directory.insertKey(
    { id: newKeyId(), hash: s.hash, display: s.display, kind, scopeId: leaf.id, name: input.name ?? 'default', expiresAt: input.expiresAt ?? null },
    input.actor,
  );
  return { secret: s.secret, key, createdScopes: created };
}

/**
 * Issues a fresh key named `name` for an agent and revokes the earlier ones of that name: one live
 * key per purpose (the demo's, say) however often it is reissued.
 */
export async function reissueKey(store: Store, input: CreateKeyInput & { name: string }): Promise<CreatedKey> {
  for (const k of await store.directory.listKeys({ under: input.scope })) {
    if (k.name === input.name && k.kind === (input.kind ?? 'agent')) await store.directory.setKeyState(k.id, 'revoked', input.actor);
  }
  return createKey(store, input);
}
