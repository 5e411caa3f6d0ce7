import { randomUUID } from 'node:crypto';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import type { LedgerEvent } from '../../src/ledger/contract.ts';

export function chainOf(path: string, ids: Partial<ScopeChain> = {}): ScopeChain {
  const [org = 'o', team = 't', project = 'p', agent = 'a'] = path.split('/');
  return {
    orgId: `id-${org}`,
    orgName: org,
    teamId: `id-${org}/${team}`,
    teamName: team,
    projectId: `id-${org}/${team}/${project}`,
    projectName: project,
    agentId: `id-${path}`,
    agentName: agent,
    ...ids,
  };
}

export function makeEvent(chain: ScopeChain, over: Partial<LedgerEvent> = {}): LedgerEvent {
  const startedAt = over.startedAt ?? Date.UTC(2026, 9, 15, 12, 0, 0);
  return {
    id: randomUUID(),
    startedAt,
    endedAt: startedAt + 850,
    chain,
    keyId: 'key_test',
    provider: 'anthropic',
    requestedModel: 'claude-sonnet-4-5',
    servedModel: 'claude-sonnet-4-5-20250929',
    route: 'anthropic.messages',
    status: 200,
    errorCode: null,
    usage: usage({ inputTokens: 1000, outputTokens: 200 }),
    listCostNano: 6_000_000n,
    effectiveCostNano: 4_800_000n,
    priceSource: 'catalog',
    latencyMs: 850,
    stream: false,
    estimated: false,
    traceId: null,
    tags: {},
    ...over,
  };
}
