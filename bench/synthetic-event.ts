/**
 * The i-th synthetic call of a benchmark ledger: sizes, statuses, cache reads, streams and customers
 * vary with i in fixed cycles, so every run writes the same rows and sums can be checked.
 */
import type { ScopeChain } from '../src/domain/scope.ts';
import { usage } from '../src/domain/usage.ts';
import type { LedgerEvent } from '../src/ledger/contract.ts';

export interface SyntheticCall {
  /** Unique and time-ordered, as the gateway's request ids are. */
  id: string;
  i: number;
  chain: ScopeChain;
  model: string;
  startedAt: number;
  /** Multiplies the call's cost (a context blow-up); default 1. */
  costFactor?: bigint;
  traceId?: string | null;
}

export function syntheticEvent(c: SyntheticCall): LedgerEvent {
  const { i, model, startedAt } = c;
  const input = 500 + (i % 3000);
  const output = 50 + (i % 700);
  const list = (BigInt(input) * 3000n + BigInt(output) * 15000n) * (c.costFactor ?? 1n);
  const openai = model.startsWith('gpt');
  return {
    id: c.id,
    startedAt,
    endedAt: startedAt + 900,
    chain: c.chain,
    keyId: 'key_bench',
    provider: openai ? 'openai' : 'anthropic',
    requestedModel: model,
    servedModel: model,
    route: openai ? 'openai.chat' : 'anthropic.messages',
    status: i % 97 === 0 ? 429 : 200,
    errorCode: i % 97 === 0 ? 'rate_limited' : null,
    usage: usage({ inputTokens: input, cacheReadTokens: i % 4 === 0 ? 1024 : 0, outputTokens: output }),
    listCostNano: list,
    effectiveCostNano: (list * 8n) / 10n,
    priceSource: 'catalog',
    latencyMs: 900,
    stream: i % 2 === 0,
    estimated: false,
    traceId: c.traceId ?? null,
    tags: { customer: `c-${i % 50}` },
  };
}
