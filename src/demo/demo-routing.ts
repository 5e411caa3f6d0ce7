/**
 * Routed models of the demo (used when tollgate.yaml has no routing: section), and the routing stamps
 * of seeded history, so `tollgate report routing` has a real mix to show: the triage bot asks for
 * `auto-claude`; its frontier calls are the heavier ones (the classifier sends long prompts and code
 * up), and a few budget answers fail their check and are escalated.
 */
import type { LedgerEvent } from '../ledger/contract.ts';
import type { Pricer } from '../pricing/index.ts';
import type { RoutingConfig } from '../gateway/routing/routing-config.ts';
import { routingConfigSchema } from '../gateway/routing/routing-config.ts';

export const DEMO_ROUTING: RoutingConfig = routingConfigSchema.parse({
  auto: { tiers: [{ name: 'budget', model: 'openai/gpt-4.1-mini' }, { name: 'frontier', model: 'openai/gpt-4.1' }] },
  'auto-claude': {
    tiers: [{ name: 'budget', model: 'anthropic/claude-haiku-4-5' }, { name: 'frontier', model: 'anthropic/claude-sonnet-4-5' }],
    escalate_on: { check: { finish_reasons: ['max_tokens'] } },
  },
});

/** Share of budget answers of a routed demo agent that fail their check and go to the frontier. */
export const DEMO_ESCALATION_RATE = 0.03;
/** How much longer the prompts the classifier sends to the frontier are than the rest. */
export const DEMO_FRONTIER_WEIGHT = 2.5;

const FRONTIER_REASONS = ['code (a code fence) → frontier', 'prompt 18,204 chars > 16,000 → frontier', '14 messages > 12 → frontier', 'maths (a maths word) → frontier'];
const CHECK = 'failed check: stopped for max_tokens';

/** The frontier model of a demo routed model, e.g. claude-sonnet-4-5. */
export function demoFrontierModel(alias: string): string {
  const model = DEMO_ROUTING[alias]?.tiers.at(-1)?.model ?? '';
  return model.slice(model.indexOf('/') + 1);
}

/**
 * A seeded call of an agent that asks for `alias`, stamped as the router would have placed it; an
 * escalated one is its budget attempt (billed, it failed its check) followed by the frontier's answer.
 */
export function routeDemoCall(e: LedgerEvent, alias: string, pricer: Pricer, escalate: boolean, n: number): LedgerEvent[] {
  const target = DEMO_ROUTING[alias]!.tiers.at(-1)!.model;
  const slash = target.indexOf('/');
  const [provider, frontierModel] = [target.slice(0, slash), target.slice(slash + 1)];
  const call = { ...e, requestedModel: alias };
  if (e.servedModel === frontierModel) return [{ ...call, routing: { alias, tier: 'frontier', reason: FRONTIER_REASONS[n % FRONTIER_REASONS.length]!, escalatedFrom: null, frontier: null } }];
  const budget = { alias, tier: 'budget', reason: 'no rule fired', escalatedFrom: null, frontier: target };
  if (!escalate || e.status >= 400) return [{ ...call, routing: budget }];
  // The failed attempt ran just before the answer, so both stay within the seeded day and before "now".
  const failed: LedgerEvent = { ...call, id: `${e.id}-esc`, startedAt: e.startedAt - e.latencyMs - 1, endedAt: e.startedAt - 1, routing: { ...budget, reason: `no rule fired — escalated: ${CHECK}` } };
  const q = pricer.price(provider, frontierModel, e.usage, e.startedAt);
  return [
    failed,
    { ...call, servedModel: frontierModel, listCostNano: q.listNano, effectiveCostNano: q.effectiveNano, priceSource: q.source, routing: { alias, tier: 'frontier', reason: `escalated from budget: ${CHECK}`, escalatedFrom: failed.id, frontier: null } },
  ];
}
