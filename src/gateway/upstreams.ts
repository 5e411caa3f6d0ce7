/**
 * The upstream APIs Tollgate forwards to, from the config's `providers:` section, each with its own
 * keep-alive connection pool. Credentials live here and nowhere else: they are added to the
 * upstream request and never returned, logged or stored.
 */
import { Pool } from 'undici';
import { TollgateError } from '../domain/errors.ts';

export type WireApi = 'openai' | 'anthropic';

export interface Upstream {
  readonly id: string;
  readonly api: WireApi;
  readonly origin: string;
  /** Path prefix of the base URL without a trailing slash ("/v1" for OpenAI-style bases). */
  readonly basePath: string;
  readonly apiKey: string | null;
  readonly pool: Pool;
}

export interface ProviderConfig {
  base_url: string;
  api_key?: string | undefined;
  api?: WireApi | undefined;
}

export function createUpstreams(providers: Record<string, ProviderConfig>, opts: { connections?: number; headersTimeoutMs?: number } = {}): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  for (const [id, p] of Object.entries(providers)) {
    let url: URL;
    try {
      url = new URL(p.base_url);
    } catch (err) {
      throw new TollgateError('invalid_request', `providers.${id}.base_url is not a URL: ${p.base_url}`, { cause: err });
    }
    out.set(id, {
      id,
      api: p.api ?? (id === 'anthropic' ? 'anthropic' : 'openai'),
      origin: url.origin,
      basePath: url.pathname.replace(/\/+$/, ''),
      apiKey: p.api_key && p.api_key.length > 0 ? p.api_key : null,
      pool: new Pool(url.origin, {
        connections: opts.connections ?? 256,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: opts.headersTimeoutMs ?? 600_000,
        // A generation can pause between tokens for a long time (tool use, long reasoning).
        bodyTimeout: opts.headersTimeoutMs ?? 600_000,
      }),
    });
  }
  return out;
}

export async function closeUpstreams(upstreams: Map<string, Upstream>): Promise<void> {
  await Promise.all([...upstreams.values()].map((u) => u.pool.close()));
}
