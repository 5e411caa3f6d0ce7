import { describe, expect, it } from 'vitest';
import { TollgateError } from '../domain/errors.ts';
import { ModelRouter } from './model-router.ts';
import type { Upstream } from './upstreams.ts';
import { closeUpstreams, createUpstreams } from './upstreams.ts';

function router(providers: Record<string, { base_url: string; api?: 'openai' | 'anthropic' }>, aliases: Record<string, string> = {}): { r: ModelRouter; ups: Map<string, Upstream> } {
  const ups = createUpstreams(providers);
  return { r: new ModelRouter(ups, aliases), ups };
}

describe('ModelRouter', () => {
  it('routes by the catalog among configured providers, keeping the model name', async () => {
    const { r, ups } = router({ openai: { base_url: 'http://127.0.0.1:1/v1' }, groq: { base_url: 'http://127.0.0.1:2/openai/v1' } });
    expect(r.resolve('openai', 'gpt-4.1-mini')).toMatchObject({ upstream: { id: 'openai' }, model: 'gpt-4.1-mini' });
    expect(r.resolve('openai', 'groq/llama-3.3-70b-versatile')).toMatchObject({ upstream: { id: 'groq' }, model: 'llama-3.3-70b-versatile' });
    await closeUpstreams(ups);
  });

  it('resolves aliases first and rewrites the model sent upstream', async () => {
    const { r, ups } = router({ openai: { base_url: 'http://127.0.0.1:1/v1' } }, { fast: 'openai/gpt-4.1-mini' });
    expect(r.resolve('openai', 'fast')).toMatchObject({ upstream: { id: 'openai' }, model: 'gpt-4.1-mini' });
    expect(r.models('openai').some((m) => m.id === 'fast')).toBe(true);
    await closeUpstreams(ups);
  });

  it('sends anything to a lone self-hosted upstream, but refuses unknown models for catalog providers unless prefixed', async () => {
    const lone = router({ vllm: { base_url: 'http://127.0.0.1:3/v1' } });
    expect(lone.r.resolve('openai', 'my-llama-ft')).toMatchObject({ upstream: { id: 'vllm' }, model: 'my-llama-ft' });
    const cat = router({ openai: { base_url: 'http://127.0.0.1:1/v1' } });
    expect(() => cat.r.resolve('openai', 'gpt-99-preview')).toThrow(/unknown model "gpt-99-preview".*openai\/gpt-99-preview/);
    expect(cat.r.resolve('openai', 'openai/gpt-99-preview')).toMatchObject({ model: 'gpt-99-preview' });
    await closeUpstreams(lone.ups);
    await closeUpstreams(cat.ups);
  });

  it('says which route to use when the model is served by the other API', async () => {
    const { r, ups } = router({ openai: { base_url: 'http://127.0.0.1:1/v1' }, anthropic: { base_url: 'http://127.0.0.1:4', api: 'anthropic' } });
    let err: unknown;
    try {
      r.resolve('openai', 'anthropic/claude-haiku-4-5');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TollgateError);
    expect((err as TollgateError).message).toContain('POST /v1/messages');
    await closeUpstreams(ups);
  });
});
