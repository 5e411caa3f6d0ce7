import { describe, expect, it } from 'vitest';
import { injectStreamUsage } from '../../src/providers/index.ts';

describe('injectStreamUsage', () => {
  const base = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };

  it('asks for usage when the client did not, without mutating the client body', () => {
    const body = { ...base, stream: true };
    const r = injectStreamUsage(body);
    expect(r).toEqual({ body: { ...base, stream: true, stream_options: { include_usage: true } }, injected: true });
    expect(body).toEqual({ ...base, stream: true });
  });

  it('keeps other stream options, and overrides an explicit include_usage: false', () => {
    const body = { ...base, stream: true, stream_options: { include_usage: false, include_obfuscation: false } };
    expect(injectStreamUsage(body)).toEqual({ body: { ...body, stream_options: { include_usage: true, include_obfuscation: false } }, injected: true });
  });

  it('leaves the body alone when the client asked, when not streaming, or when stream_options is malformed', () => {
    for (const body of [
      { ...base, stream: true, stream_options: { include_usage: true } },
      { ...base, stream: false },
      base,
      { ...base, stream: true, stream_options: 'yes' },
    ]) {
      const r = injectStreamUsage(body);
      expect(r.injected).toBe(false);
      expect(r.body).toBe(body);
    }
  });
});
