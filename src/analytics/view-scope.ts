/**
 * What a dashboard read is about: one scope node and its subtree, or everything (every org) when the
 * caller may see it all and asked for nothing in particular. Access is checked before this: the path
 * given here is one the caller may read.
 */
import { TollgateError } from '../domain/errors.ts';
import { formatScope, parseScope, TIERS } from '../domain/scope.ts';
import type { Tier } from '../domain/scope.ts';
import type { Directory, GroupBy, ScopeNode } from '../ledger/contract.ts';

export interface View {
  /** The scope node; null: everything (no org, or several). */
  node: ScopeNode | null;
  /** The ledger filter for the node's subtree; undefined for everything. */
  within: { tier: Tier; id: string } | undefined;
}

/** The scope node at `path`; with no path, the only org, or everything when there are none or several. */
export async function resolveView(directory: Pick<Directory, 'getScope' | 'listScopes'>, path: string | undefined): Promise<View> {
  if (path === undefined) {
    const orgs = (await directory.listScopes()).filter((n) => n.tier === 'org');
    return orgs.length === 1 ? viewOf(orgs[0]!) : { node: null, within: undefined };
  }
  const normalised = formatScope(parseScope(path));
  const node = await directory.getScope(normalised);
  if (!node) throw new TollgateError('not_found', `scope "${normalised}" does not exist (see GET /api/scopes or \`tollgate scopes list\`)`);
  return viewOf(node);
}

function viewOf(node: ScopeNode): View {
  return { node, within: { tier: node.tier, id: node.id } };
}

/** The subtree lists of a view read (`listScopes`, `listBudgets`, anomalies): `under` its path, or everything. */
export function underOf(view: View): { under?: string } {
  return view.node ? { under: view.node.path } : {};
}

/** The grouping one level down: org → team → project → agent → model; everything → org. */
export function childGroup(tier: Tier | null): GroupBy {
  if (tier === null) return 'org';
  return TIERS[TIERS.indexOf(tier) + 1] ?? 'model';
}

/** Refuses a tier grouping above the view's tier (an org's row holding one team's spend would mislead). */
export function checkGroup(view: View, groupBy: GroupBy): void {
  const tier = view.node?.tier;
  if (tier === undefined || !(TIERS as readonly string[]).includes(groupBy)) return;
  if (TIERS.indexOf(groupBy as Tier) < TIERS.indexOf(tier)) {
    const below = [...TIERS.slice(TIERS.indexOf(tier)), 'model', 'provider'].join(', ');
    throw new TollgateError('invalid_request', `groupBy=${groupBy} is above the scope ${view.node!.path} (a ${tier}): group by ${below}`, { details: { param: 'groupBy' } });
  }
}
