/**
 * Explore's inputs as they sit in the address (`#/explore?scope=acme/eng&from=…&model=…`), and the
 * links every figure makes to the ledger rows behind it (`#/calls?…` with the same filters).
 */
import type { GroupBy, Tier } from '../api/types.ts';
import { href } from '../router.ts';

export interface ExploreParams {
  scope: string;
  from: string;
  to: string;
  bucket: 'hour' | 'day' | 'week';
  groupBy: GroupBy | '';
  provider: string;
  model: string;
  customer: string;
}

const TIERS: readonly Tier[] = ['org', 'team', 'project', 'agent'];

export function readExploreParams(p: URLSearchParams, defaultScope: string): ExploreParams {
  const bucket = p.get('bucket');
  const groupBy = p.get('groupBy');
  return {
    scope: p.get('scope') ?? defaultScope,
    from: p.get('from') ?? '',
    to: p.get('to') ?? '',
    bucket: bucket === 'hour' || bucket === 'week' ? bucket : 'day',
    groupBy: groupBy === 'team' || groupBy === 'project' || groupBy === 'agent' || groupBy === 'model' || groupBy === 'provider' ? groupBy : '',
    provider: p.get('provider') ?? '',
    model: p.get('model') ?? '',
    customer: p.get('customer') ?? '',
  };
}

/** The tier of a scope path (acme → org … acme/a/b/c → agent). */
export function tierOfPath(path: string): Tier {
  const depth = path.split('/').filter((s) => s !== '').length;
  return TIERS[Math.min(Math.max(depth, 1), 4) - 1]!;
}

/** What a scope's rows are by default: the tier below it, or models for an agent. */
export function defaultGroupBy(path: string): GroupBy {
  const t = tierOfPath(path);
  return t === 'org' ? 'team' : t === 'team' ? 'project' : t === 'project' ? 'agent' : 'model';
}

export function exploreHref(p: ExploreParams, change: Partial<ExploreParams> = {}): string {
  const n = { ...p, ...change };
  return href('explore', { ...n, bucket: n.bucket === 'day' ? '' : n.bucket });
}

/**
 * The calls behind a figure: the explore filters, narrowed to a row. A row of a tier is its scope;
 * a row of models or providers keeps the scope and adds that filter.
 */
export function callsHref(p: ExploreParams, period: { from: number; to: number }, row?: { path: string | null; key: string }, groupBy?: GroupBy): string {
  // The exact window the figure was read over (whole hours, epoch ms), not the filter's dates: the
  // calls' total then adds up to the figure.
  const q: Record<string, string> = { scope: p.scope, from: String(period.from), to: String(period.to), provider: p.provider, model: p.model, customer: p.customer };
  if (row !== undefined) {
    if (row.path !== null) q['scope'] = row.path;
    else if (groupBy === 'model') q['model'] = row.key;
    else if (groupBy === 'provider') q['provider'] = row.key;
  }
  return href('calls', q);
}
