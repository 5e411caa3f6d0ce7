import { describe, expect, it } from 'vitest';
import { ANTHROPIC_IMAGE_MAX_TOKENS, SERVER_LOOP_MAX_TURNS } from './anthropic/messages-bound.ts';
import { adapterFor, API_ROUTES } from './index.ts';
import type { ApiRoute } from './index.ts';
import { DEFAULT_HOSTED_TOOL_TURNS, OPENAI_IMAGE_MAX_TOKENS, OPENAI_PROMPT_OVERHEAD_TOKENS } from './openai/openai-bound.ts';
import type { TokenBound } from './request-bound.ts';
import { tallyMedia } from './request-bound.ts';

/** The bound of `body` sent as compact JSON, with its byte count. */
function bound(route: ApiRoute, body: Record<string, unknown>): TokenBound & { bytes: number } {
  const bytes = Buffer.byteLength(JSON.stringify(body));
  return { ...adapterFor(route).requestBound(body, bytes), bytes };
}

const DATA_URL = `data:image/png;base64,${'A'.repeat(4000)}`;

describe('openai.chat', () => {
  const chat = (extra: Record<string, unknown> = {}) =>
    bound('openai.chat', { model: 'gpt-4o', messages: [{ role: 'user', content: 'héllo' }], ...extra });

  it('bounds input by the body bytes plus the hidden prompt overhead; output by the model when unset', () => {
    const b = chat();
    expect(b).toMatchObject({
      inputTokens: b.bytes + OPENAI_PROMPT_OVERHEAD_TOKENS,
      cappedByContext: true,
      unseenInput: false,
      samplingTurns: 1,
      outputTokens: 'model-max',
      outputMultiplier: 1,
      extraOutputTokens: 0,
    });
  });

  it('reads max_completion_tokens, the legacy max_tokens, and the larger when both are set', () => {
    expect(chat({ max_completion_tokens: 300 }).outputTokens).toBe(300);
    expect(chat({ max_tokens: 200 }).outputTokens).toBe(200);
    expect(chat({ max_tokens: 200, max_completion_tokens: 100 }).outputTokens).toBe(200);
  });

  it('ignores values the API would refuse', () => {
    for (const v of [0, -1, 1.5, '100', null, 2 ** 60]) expect(chat({ max_tokens: v }).outputTokens).toBe('model-max');
    expect(chat({ n: 0 }).outputMultiplier).toBe(1);
  });

  it('multiplies output by n, never input', () => {
    const b = chat({ n: 4, max_tokens: 50 });
    expect(b).toMatchObject({ outputTokens: 50, outputMultiplier: 4, inputTokens: b.bytes + OPENAI_PROMPT_OVERHEAD_TOKENS });
  });

  it('adds a predicted output as output (rejected prediction tokens are billed), counted in UTF-8 bytes', () => {
    expect(chat({ prediction: { type: 'content', content: 'const x = 1; // é' } }).extraOutputTokens).toBe(18);
    expect(chat({ prediction: { type: 'content', content: [{ type: 'text', text: 'ab' }, { type: 'text', text: 'çd' }] } }).extraOutputTokens).toBe(5);
  });

  it('adds the per-image maximum for an image by URL, and swaps inline data for it', () => {
    const part = (url: string) => ({ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url, detail: 'high' } }] });
    const byUrl = bound('openai.chat', { model: 'gpt-4o', messages: [part('https://example.com/cat.png')] });
    expect(byUrl.inputTokens).toBe(byUrl.bytes + OPENAI_IMAGE_MAX_TOKENS + OPENAI_PROMPT_OVERHEAD_TOKENS);
    const inline = bound('openai.chat', { model: 'gpt-4o', messages: [part(DATA_URL)] });
    expect(inline.inputTokens).toBe(inline.bytes - DATA_URL.length + OPENAI_IMAGE_MAX_TOKENS + OPENAI_PROMPT_OVERHEAD_TOKENS);
  });

  it('treats a file part (a PDF) as unseen input, and search as server-side turns', () => {
    const file = { role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] };
    expect(bound('openai.chat', { model: 'gpt-4o', messages: [file] }).unseenInput).toBe(true);
    expect(chat({ web_search_options: {} }).samplingTurns).toBe(DEFAULT_HOSTED_TOOL_TURNS);
  });
});

describe('openai.responses', () => {
  const responses = (extra: Record<string, unknown> = {}) => bound('openai.responses', { model: 'gpt-5', input: 'Tell me a story', ...extra });

  it('reads max_output_tokens', () => {
    expect(responses().outputTokens).toBe('model-max');
    expect(responses({ max_output_tokens: 1234 }).outputTokens).toBe(1234);
  });

  it('marks server-side state as unseen input: previous response, conversation, stored prompt', () => {
    expect(responses().unseenInput).toBe(false);
    expect(responses({ previous_response_id: 'resp_123' }).unseenInput).toBe(true);
    expect(responses({ conversation: 'conv_123' }).unseenInput).toBe(true);
    expect(responses({ prompt: { id: 'pmpt_123', version: '2' } }).unseenInput).toBe(true);
    const ref = [{ type: 'item_reference', id: 'msg_123' }];
    expect(responses({ input: ref }).unseenInput).toBe(true);
  });

  it('counts images by URL, file id or inline data, and files as unseen', () => {
    const input = (part: Record<string, unknown>) => [{ role: 'user', content: [{ type: 'input_text', text: 'look' }, part] }];
    const byId = responses({ input: input({ type: 'input_image', file_id: 'file-1' }) });
    expect(byId.inputTokens).toBe(byId.bytes + OPENAI_IMAGE_MAX_TOKENS + OPENAI_PROMPT_OVERHEAD_TOKENS);
    const inline = responses({ input: input({ type: 'input_image', image_url: DATA_URL }) });
    expect(inline.inputTokens).toBe(inline.bytes - DATA_URL.length + OPENAI_IMAGE_MAX_TOKENS + OPENAI_PROMPT_OVERHEAD_TOKENS);
    expect(responses({ input: input({ type: 'input_file', file_url: 'https://example.com/a.pdf' }) }).unseenInput).toBe(true);
  });

  it('finds an image nested in a tool output', () => {
    const output = [{ type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_image', image_url: 'https://example.com/x.png' }] }];
    const b = responses({ input: output });
    expect(b.inputTokens).toBe(b.bytes + OPENAI_IMAGE_MAX_TOKENS + OPENAI_PROMPT_OVERHEAD_TOKENS);
  });

  it('runs hosted tools for several turns: max_tool_calls + 1, else the default; client tools add none', () => {
    const fn = { type: 'function', name: 'f', parameters: { type: 'object', properties: {} } };
    expect(responses({ tools: [fn] }).samplingTurns).toBe(1);
    expect(responses({ tools: [fn, { type: 'web_search' }] }).samplingTurns).toBe(DEFAULT_HOSTED_TOOL_TURNS);
    expect(responses({ tools: [{ type: 'file_search', vector_store_ids: ['vs'] }], max_tool_calls: 2 }).samplingTurns).toBe(3);
  });
});

describe('openai.embeddings', () => {
  it('bounds input by bytes alone, uncapped by one context window, and generates nothing', () => {
    const b = bound('openai.embeddings', { model: 'text-embedding-3-small', input: ['one', 'two', [1, 2, 3]] });
    expect(b).toMatchObject({ inputTokens: b.bytes, cappedByContext: false, unseenInput: false, outputTokens: 'none', samplingTurns: 1 });
  });
});

describe('anthropic.messages', () => {
  const messages = (extra: Record<string, unknown> = {}, content: unknown = 'Hello') =>
    bound('anthropic.messages', { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content }], ...extra });
  const PROMPT_OVERHEAD = 500;

  it('reads max_tokens, and a larger thinking budget (interleaved thinking allows one)', () => {
    const b = messages();
    expect(b).toMatchObject({ inputTokens: b.bytes + PROMPT_OVERHEAD, outputTokens: 1024, cappedByContext: true, samplingTurns: 1 });
    expect(messages({ thinking: { type: 'enabled', budget_tokens: 512 } }).outputTokens).toBe(1024);
    expect(messages({ thinking: { type: 'enabled', budget_tokens: 4096 } }).outputTokens).toBe(4096);
    expect(messages({ max_tokens: undefined }).outputTokens).toBe('model-max');
  });

  it('adds the image maximum for an image by URL, and swaps inline base64 for it', () => {
    const data = 'iVBORw0KGgo'.repeat(500);
    const inline = messages({}, [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data } }]);
    expect(inline.inputTokens).toBe(inline.bytes - data.length + ANTHROPIC_IMAGE_MAX_TOKENS + PROMPT_OVERHEAD);
    const byUrl = messages({}, [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }]);
    expect(byUrl.inputTokens).toBe(byUrl.bytes + ANTHROPIC_IMAGE_MAX_TOKENS + PROMPT_OVERHEAD);
  });

  it('finds images in tool results and content documents; a PDF is unseen input, a text document is not', () => {
    const image = { type: 'image', source: { type: 'file', file_id: 'file_1' } };
    const inResult = messages({}, [{ type: 'tool_result', tool_use_id: 't1', content: [image] }]);
    expect(inResult.inputTokens).toBe(inResult.bytes + ANTHROPIC_IMAGE_MAX_TOKENS + PROMPT_OVERHEAD);
    const inDocument = messages({}, [{ type: 'document', source: { type: 'content', content: [image, image] } }]);
    expect(inDocument.inputTokens).toBe(inDocument.bytes + 2 * ANTHROPIC_IMAGE_MAX_TOKENS + PROMPT_OVERHEAD);
    const pdf = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' } };
    expect(messages({}, [pdf]).unseenInput).toBe(true);
    const text = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } };
    expect(messages({}, [text]).unseenInput).toBe(false);
  });

  it('adds the tool-use system prompt and Anthropic-defined tool definitions', () => {
    const custom = { name: 'lookup', description: 'd', input_schema: { type: 'object' } };
    const withCustom = messages({ tools: [custom] });
    expect(withCustom.inputTokens).toBe(withCustom.bytes + PROMPT_OVERHEAD + 1000);
    const withBash = messages({ tools: [custom, { type: 'bash_20250124', name: 'bash' }] });
    expect(withBash.inputTokens).toBe(withBash.bytes + PROMPT_OVERHEAD + 1000 + 1500);
    expect(withBash.samplingTurns).toBe(1);
  });

  it('runs server tools (and MCP servers) for up to the server loop limit', () => {
    expect(messages({ tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }] }).samplingTurns).toBe(SERVER_LOOP_MAX_TURNS);
    expect(messages({ mcp_servers: [{ type: 'url', url: 'https://mcp.example.com', name: 'x' }] }).samplingTurns).toBe(SERVER_LOOP_MAX_TURNS);
  });
});

describe('every adapter', () => {
  const junk: unknown[] = [null, 0, -1, 1.5, 'x', [], [null, 5, 'y'], {}, { type: 5 }, { type: 'image_url', image_url: 7 }, Object.create(null)];
  const fields = ['messages', 'input', 'system', 'tools', 'mcp_servers', 'max_tokens', 'max_completion_tokens', 'max_output_tokens', 'n', 'prediction', 'thinking', 'prompt', 'conversation', 'previous_response_id', 'max_tool_calls', 'web_search_options'];

  it('never throws, and answers non-negative safe integers, whatever the fields hold', () => {
    for (const route of API_ROUTES) {
      for (const field of fields) {
        for (const value of junk) {
          for (const wrapped of [value, [value], [{ role: 'user', content: [value] }], [{ type: 'image', source: value }]]) {
            const b = adapterFor(route).requestBound({ model: 'm', [field]: wrapped }, 100);
            for (const n of [b.inputTokens, b.samplingTurns, b.outputMultiplier, b.extraOutputTokens]) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
          }
        }
      }
    }
  });
});

describe('tallyMedia', () => {
  it('walks a very deep body without overflowing the stack', () => {
    let node: unknown = { type: 'image' };
    for (let i = 0; i < 200_000; i++) node = { content: [node] };
    expect(tallyMedia([node], (_n, type) => (type === 'image' ? 0 : null))).toEqual({ images: 1, inlineChars: 0, unseen: false });
  });

  it('does not look inside a node it classified', () => {
    const nested = { type: 'image', inner: { type: 'image' } };
    expect(tallyMedia([[nested, nested]], (_n, type) => (type === 'image' ? 3 : null))).toEqual({ images: 2, inlineChars: 6, unseen: false });
  });
});
