/**
 * Routed models compiled for the hot path: tiers resolved to upstreams once, at start-up, per wire
 * API; rules and policies turned into indexes. `plan` decides a call's first tier, in this order:
 * a spent soft budget (degrade), the scope's policy, the client's hint header, the classifier.
 */
import { TollgateError } from '../../domain/errors.ts';
import type { ScopeChain } from '../../domain/scope.ts';
import type { ApiRoute } from '../../providers/contract.ts';
import type { ModelRouter, RouteTarget } from '../model-router.ts';
import type { WireApi } from '../upstreams.ts';
import type { ClassifierRules } from './classifier.ts';
import { classify } from './classifier.ts';
import type { EscalationPolicy } from './escalation.ts';
import { requestFeatures } from './request-features.ts';
import type { RoutedModelConfig, RoutingConfig } from './routing-config.ts';
import { compileRegex, DEFAULT_RULES } from './routing-config.ts';

/** Request header a client sets to ask for a tier by name. */
export const HINT_HEADER = 'x-tollgate-route-tier';

export interface RouteTier {
  name: string;
  target: RouteTarget;
}

export interface RouteRequest {
  api: WireApi;
  route: ApiRoute;
  /** The model the client asked for. */
  model: string;
  body: Record<string, unknown>;
  /** The hint header's value, if sent. */
  hint: string | undefined;
  chain: ScopeChain;
  /** The alias a spent soft budget of the chain degrades to (Admission.degradeTarget); null when none. */
  degradeTo: string | null;
}

export interface RoutePlan {
  /** The routed model, e.g. `auto`. */
  alias: string;
  tiers: readonly RouteTier[];
  /** Tier the call runs on first. */
  start: number;
  /** Highest tier escalation may reach (`start` when the call may not escalate). */
  ceiling: number;
  reason: string;
  escalation: EscalationPolicy;
  /** `provider/model` of the top tier: what every call below it is compared with. */
  frontier: string;
  /** The soft budget's degrade_to that pinned the tier; null when not degraded. */
  degradedBy: string | null;
}

interface Compiled {
  name: string;
  tierNames: string[];
  byApi: Map<WireApi, RouteTier[]>;
  rules: ClassifierRules;
  escalation: EscalationPolicy;
  degradeOnSoftCap: boolean;
  /** Scope path → tier index. */
  policies: Map<string, number>;
}

const API_LABEL: Record<WireApi, string> = { openai: 'OpenAI (/v1/chat/completions, /v1/responses)', anthropic: 'Anthropic (/v1/messages)' };

export class RoutingTable {
  readonly #models = new Map<string, Compiled>();

  /** Throws `invalid_request` naming the routed model when its tiers do not resolve or clash with a models: alias. */
  constructor(config: RoutingConfig, router: ModelRouter, modelAliases: Record<string, string> = {}) {
    for (const [name, m] of Object.entries(config)) {
      if (name in modelAliases) throw new TollgateError('invalid_request', `routing.${name}: "${name}" is also a models: alias; give the routed model another name`);
      this.#models.set(name, compile(name, m, router));
    }
  }

  /** Routed models a client can ask for on this API, for the models list. */
  models(api: WireApi): { id: string; ownedBy: string }[] {
    return [...this.#models.values()].filter((m) => m.byApi.has(api)).map((m) => ({ id: m.name, ownedBy: 'tollgate' }));
  }

  /** How to run a call for a routed model (or one degraded to it); null when the call is not routed. */
  plan(req: RouteRequest): RoutePlan | null {
    const viaDegrade = !this.#models.has(req.model);
    const m = this.#models.get(req.model) ?? (req.degradeTo === null ? undefined : this.#models.get(req.degradeTo));
    if (!m) return null;
    const tiers = m.byApi.get(req.api);
    if (req.route === 'openai.embeddings' || !tiers) {
      // A soft budget degrading to a routed model must not break calls it cannot serve: they keep their model.
      if (viaDegrade) return null;
      const apis = [...m.byApi.keys()].map((a) => API_LABEL[a]).join(' or ');
      throw new TollgateError('invalid_request', `"${m.name}" is a routed model for generation on the ${apis} API; call it there, or name a model directly`, { details: { param: 'model' } });
    }
    const top = tiers.length - 1;
    const last = tiers[top]!.target;
    const plan = (start: number, reason: string, degradedBy: string | null = null): RoutePlan => ({
      alias: m.name,
      tiers,
      start,
      ceiling: degradedBy === null ? top : start,
      reason,
      escalation: m.escalation,
      frontier: `${last.upstream.id}/${last.model}`,
      degradedBy,
    });

    if (req.degradeTo !== null && m.degradeOnSoftCap) {
      const named = m.tierNames.indexOf(req.degradeTo);
      const tier = named >= 0 ? named : 0;
      return plan(tier, `soft budget spent (degrade_to ${req.degradeTo}) → ${m.tierNames[tier]!}, no escalation`, req.degradeTo);
    }
    const prefix = viaDegrade ? `soft budget spent (degrade_to ${m.name}); ` : '';
    const policy = policyOf(m, req.chain);
    if (policy) return plan(policy.tier, `${prefix}policy of ${policy.scope} → ${m.tierNames[policy.tier]!}`);
    if (req.hint !== undefined && req.hint.trim() !== '') {
      const tier = m.tierNames.indexOf(req.hint.trim().toLowerCase());
      if (tier < 0) throw new TollgateError('invalid_request', `${HINT_HEADER}: "${req.hint}" is not a tier of "${m.name}" (tiers: ${m.tierNames.join(', ')})`);
      return plan(tier, `${prefix}hint header → ${m.tierNames[tier]!}`);
    }
    const c = classify(requestFeatures(req.body), m.rules, m.tierNames);
    return plan(c.tier, prefix + c.reason);
  }
}

function policyOf(m: Compiled, chain: ScopeChain): { scope: string; tier: number } | null {
  if (m.policies.size === 0) return null;
  const paths = [chain.orgName, chain.teamName, chain.projectName, chain.agentName].map((_, i, all) => all.slice(0, i + 1).join('/'));
  for (const scope of paths.reverse()) {
    const tier = m.policies.get(scope);
    if (tier !== undefined) return { scope, tier };
  }
  return null;
}

function compile(name: string, m: RoutedModelConfig, router: ModelRouter): Compiled {
  const tierNames = m.tiers.map((t) => t.name);
  const top = tierNames.length - 1;
  const index = (ref: true | string | undefined) => (ref === undefined || ref === true ? top : tierNames.indexOf(ref));
  const byApi = new Map<WireApi, RouteTier[]>();
  const failures: string[] = [];
  for (const api of ['openai', 'anthropic'] as const) {
    try {
      byApi.set(api, m.tiers.map((t) => ({ name: t.name, target: router.resolve(api, t.model) })));
    } catch (err) {
      failures.push(`${api}: ${(err as Error).message}`);
    }
  }
  if (byApi.size === 0) {
    throw new TollgateError('invalid_request', `routing.${name}: its tiers (${m.tiers.map((t) => t.model).join(', ')}) do not all resolve on one API — ${failures.join(' | ')}`);
  }
  const rules = m.rules ?? DEFAULT_RULES;
  const threshold = (r: { above: number; tier?: string | undefined } | undefined) => (r ? { above: r.above, tier: index(r.tier) } : null);
  const flag = (r: true | string | undefined) => (r === undefined ? null : index(r));
  const e = m.escalate_on ?? {};
  return {
    name,
    tierNames,
    byApi,
    rules: { promptChars: threshold(rules.prompt_chars), messages: threshold(rules.messages), tools: flag(rules.tools), code: flag(rules.code), math: flag(rules.math) },
    escalation: {
      upstreamError: e.upstream_error ?? true,
      timeoutMs: e.timeout_ms ?? null,
      check: {
        refusal: e.refusal ?? true,
        finishReasons: new Set(e.check?.finish_reasons ?? []),
        regex: e.check?.regex === undefined ? null : compileRegex(e.check.regex),
        empty: e.check?.empty ?? false,
      },
    },
    degradeOnSoftCap: m.degrade_on_soft_cap ?? true,
    policies: new Map(Object.entries(m.policies ?? {}).map(([scope, p]) => [scope, index(p.tier)])),
  };
}
