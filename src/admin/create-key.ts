/**
 * Issues a virtual key: resolves (or creates) the agent's scope chain, makes the secret, stores its
 * hash. The secret exists only in the return value: shown once, never stored.
 */
import type { KeyRecord, Store } from '../ledger/contract.ts';
import { TollgateError } from '../domain/errors.ts';
import { formatScope, parseScope, tierOf, TIERS } from '../domain/scope.ts';
import { generateKeySecret, newKeyId } from '../domain/virtual-key.ts';

export interface CreateKeyInput {
  scope: string;
  name?: string;
  /** Epoch ms, or null for no expiry. */
  expiresAt?: number | null;
  /** Create missing org/team/project/agent tiers (default true). */
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
  if (input.expiresAt != null && input.expiresAt <= now) {
    throw new TollgateError('invalid_request', `expiry ${new Date(input.expiresAt).toISOString()} is in the past`);
  }
  const path = parseScope(input.scope);
  if (path.length !== TIERS.length) {
    // Checked before anything is created, so a mistaken path leaves no stray tiers behind.
    throw new TollgateError(
      'invalid_request',
      `a virtual key belongs to one agent: "${formatScope(path)}" is a ${tierOf(path)}; give the full org/team/project/agent path, e.g. ${[...path, ...TIERS.slice(path.length).map((t) => `<${t}>`)].join('/')}`,
    );
  }
  const { nodes, created } = await store.directory.ensureScope(formatScope(path), { create: input.createMissing ?? true, actor: input.actor });
  const leaf = nodes.at(-1)!;
  const s = generateKeySecret('agent');
  const key = await store.directory.insertKey(
    { id: newKeyId(), hash: s.hash, display: s.display, kind: 'agent', scopeId: leaf.id, name: input.name ?? 'default', expiresAt: input.expiresAt ?? null },
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
    if (k.name === input.name) await store.directory.setKeyState(k.id, 'revoked', input.actor);
  }
  return createKey(store, input);
}
