/**
 * Which upstream serves a requested model, in order: a config alias (`fast: openai/gpt-4.1-mini`),
 * the price catalog's provider match among the configured providers, an explicit `provider/model`
 * prefix, and last the only configured provider of that API when the catalog cannot know its models
 * (a lone vLLM, say). A model too new for the catalog is reached with the prefix (`openai/gpt-9`). Memoised.
 */
import { findProvider } from '@pydantic/genai-prices';
import { TollgateError } from '../domain/errors.ts';
import { bundledCatalog, isCatalogProvider } from '../pricing/index.ts';
import type { Upstream, WireApi } from './upstreams.ts';

export interface RouteTarget {
  upstream: Upstream;
  /** The model name sent upstream (an alias or prefix resolved away). */
  model: string;
}

const API_LABEL: Record<WireApi, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };

export class ModelRouter {
  readonly #upstreams: Map<string, Upstream>;
  readonly #aliases: Record<string, string>;
  readonly #memo = new Map<string, RouteTarget>();

  constructor(upstreams: Map<string, Upstream>, aliases: Record<string, string> = {}) {
    this.#upstreams = upstreams;
    this.#aliases = aliases;
  }

  resolve(api: WireApi, requested: string): RouteTarget {
    const key = `${api}\u0000${requested}`;
    let target = this.#memo.get(key);
    if (!target) {
      target = this.#resolve(api, requested);
      if (this.#memo.size > 10_000) this.#memo.clear();
      this.#memo.set(key, target);
    }
    return target;
  }

  /** Model ids a client can ask for on this API: aliases plus the catalog models of configured providers. */
  models(api: WireApi): { id: string; ownedBy: string }[] {
    const out = new Map<string, string>();
    for (const [alias, target] of Object.entries(this.#aliases)) {
      const u = this.#upstreams.get(target.split('/')[0] ?? '');
      if (u?.api === api) out.set(alias, u.id);
    }
    for (const u of this.#upstreams.values()) {
      if (u.api !== api) continue;
      for (const m of findProvider({ providerId: u.id })?.models ?? []) if (!m.deprecated && !out.has(m.id)) out.set(m.id, u.id);
    }
    return [...out].map(([id, ownedBy]) => ({ id, ownedBy })).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  #resolve(api: WireApi, requested: string): RouteTarget {
    const alias = this.#aliases[requested];
    if (alias !== undefined) return this.#explicit(api, alias, requested) ?? this.#refuse(api, requested, `alias "${requested}" points to ${alias}, which is not a configured ${API_LABEL[api]} provider`);
    const ofApi = [...this.#upstreams.values()].filter((u) => u.api === api);
    for (const u of ofApi) {
      if (isCatalogProvider(u.id) && bundledCatalog.find(u.id, requested)) return { upstream: u, model: requested };
    }
    const prefixed = this.#explicit(api, requested, requested);
    if (prefixed) return prefixed;
    // A lone self-hosted upstream (vLLM, Ollama…) serves whatever it serves: the catalog cannot know its models.
    const [only, ...others] = ofApi;
    if (only && others.length === 0 && !isCatalogProvider(only.id)) return { upstream: only, model: requested };
    return this.#refuse(api, requested, `no configured ${API_LABEL[api]} provider is known to serve it`);
  }

  #explicit(api: WireApi, target: string, requested: string): RouteTarget | null {
    const slash = target.indexOf('/');
    if (slash <= 0) return null;
    const upstream = this.#upstreams.get(target.slice(0, slash));
    if (!upstream) return null;
    if (upstream.api !== api) {
      throw new TollgateError(
        'invalid_request',
        `model "${requested}" is served by ${upstream.id}, which speaks the ${API_LABEL[upstream.api]} API: call it through ${upstream.api === 'anthropic' ? 'POST /v1/messages' : 'the OpenAI routes (/v1/chat/completions, /v1/responses)'}`,
      );
    }
    return { upstream, model: target.slice(slash + 1) };
  }

  #refuse(api: WireApi, requested: string, why: string): never {
    const ids = [...this.#upstreams.values()].filter((u) => u.api === api).map((u) => u.id);
    throw new TollgateError(
      'not_found',
      `unknown model "${requested}": ${why}. ${ids.length > 0 ? `Configured ${API_LABEL[api]} providers: ${ids.join(', ')}; write provider/model to send it to one anyway (e.g. ${ids[0]}/${requested}), or add an alias under models:.` : `No ${API_LABEL[api]} provider is configured (providers: in tollgate.yaml).`}`,
    );
  }
}
