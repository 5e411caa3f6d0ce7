/**
 * The spend hierarchy: org / team / project / agent, addressed by slash paths such as
 * `acme/support/helpdesk/triage-bot`. A path of depth n names a node of tier TIERS[n-1].
 */
import { TollgateError } from './errors.ts';

export const TIERS = ['org', 'team', 'project', 'agent'] as const;
export type Tier = (typeof TIERS)[number];

/** Lower-case slug: what a path segment may be. Names for display are free text. */
const SEGMENT = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

export type ScopePath = readonly string[];

export function parseScope(path: string): ScopePath {
  const trimmed = path.trim().replace(/^\/+|\/+$/g, '');
  if (trimmed === '') throw new TollgateError('invalid_request', 'scope path is empty (expected e.g. acme/support/helpdesk/triage-bot)');
  const segments = trimmed.split('/');
  if (segments.length > TIERS.length) {
    throw new TollgateError('invalid_request', `scope "${path}" has ${segments.length} segments; the deepest tier is agent (org/team/project/agent)`);
  }
  for (const s of segments) assertSegment(s, path);
  return segments;
}

export function assertSegment(segment: string, context = segment): void {
  if (!SEGMENT.test(segment)) {
    throw new TollgateError(
      'invalid_request',
      `invalid scope segment "${segment}" in "${context}": use 1-64 lower-case letters, digits, ".", "_" or "-", starting and ending with a letter or digit`,
    );
  }
}

export function tierOf(path: ScopePath): Tier {
  const tier = TIERS[path.length - 1];
  if (!tier) throw new TollgateError('invalid_request', `scope path must have 1 to ${TIERS.length} segments`);
  return tier;
}

export function formatScope(path: ScopePath): string {
  return path.join('/');
}

/** True when `inner` is `outer` or lies beneath it. */
export function isWithin(inner: ScopePath, outer: ScopePath): boolean {
  return outer.length <= inner.length && outer.every((s, i) => inner[i] === s);
}

/** The ids and names of a call's owners, as stamped on every ledger row. */
export interface ScopeChain {
  orgId: string;
  orgName: string;
  teamId: string;
  teamName: string;
  projectId: string;
  projectName: string;
  agentId: string;
  agentName: string;
}
