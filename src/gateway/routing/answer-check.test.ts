import { describe, expect, it } from 'vitest';
import type { AnswerCheck } from './answer-check.ts';
import { failedCheck } from './answer-check.ts';
import { escalateAfterAnswer, escalateAfterError } from './escalation.ts';
import { TollgateError } from '../../domain/errors.ts';

const NONE: AnswerCheck = { refusal: false, finishReasons: new Set(), regex: null, empty: false };
const chat = (message: Record<string, unknown>, finish = 'stop') => ({ choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, finish_reason: finish }] });

describe('failedCheck', () => {
  it('sees a refusal in each API', () => {
    const check = { ...NONE, refusal: true };
    expect(failedCheck('openai.chat', chat({ content: null, refusal: 'I can’t help with that.' }), check)).toBe('the model refused');
    expect(failedCheck('openai.responses', { status: 'completed', output: [{ type: 'message', content: [{ type: 'refusal', refusal: 'No.' }] }] }, check)).toBe('the model refused');
    expect(failedCheck('anthropic.messages', { stop_reason: 'refusal', content: [] }, check)).toBe('the model refused');
    expect(failedCheck('openai.chat', chat({ content: 'Sure.' }), check)).toBeNull();
    expect(failedCheck('openai.chat', chat({ content: null, refusal: 'No.' }), NONE)).toBeNull();
  });

  it('stop reasons as each API spells them', () => {
    const check = { ...NONE, finishReasons: new Set(['length', 'max_tokens', 'max_output_tokens']) };
    expect(failedCheck('openai.chat', chat({ content: 'cut' }, 'length'), check)).toBe('stopped for length');
    expect(failedCheck('openai.responses', { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [] }, check)).toBe('stopped for max_output_tokens');
    expect(failedCheck('anthropic.messages', { stop_reason: 'max_tokens', content: [{ type: 'text', text: 'cut' }] }, check)).toBe('stopped for max_tokens');
    expect(failedCheck('anthropic.messages', { stop_reason: 'end_turn', content: [{ type: 'text', text: 'done' }] }, check)).toBeNull();
  });

  it('a regex over the answer text, and empty answers (a tool call is not empty)', () => {
    const check = { ...NONE, regex: /as an ai|i cannot/i, empty: true };
    expect(failedCheck('openai.chat', chat({ content: 'I cannot do that.' }), check)).toBe('answer matches /as an ai|i cannot/i');
    expect(failedCheck('anthropic.messages', { stop_reason: 'end_turn', content: [{ type: 'thinking', thinking: 'i cannot' }, { type: 'text', text: ' ' }] }, check)).toBe('empty answer');
    expect(failedCheck('openai.chat', chat({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }), check)).toBeNull();
    expect(failedCheck('openai.responses', { output: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, check)).toBeNull();
    expect(failedCheck('openai.chat', 'not json', check)).toBeNull();
  });
});

describe('escalation decisions', () => {
  const policy = { upstreamError: true, timeoutMs: 500, check: { ...NONE, finishReasons: new Set(['length']) } };

  it('errors that another tier may not repeat escalate; client errors do not', () => {
    expect(escalateAfterAnswer(policy, 'openai.chat', 503, {})).toBe('upstream answered 503');
    expect(escalateAfterAnswer(policy, 'openai.chat', 429, {})).toBe('upstream answered 429');
    expect(escalateAfterAnswer(policy, 'openai.chat', 400, {})).toBeNull();
    expect(escalateAfterAnswer({ ...policy, upstreamError: false }, 'openai.chat', 503, {})).toBeNull();
    expect(escalateAfterAnswer(policy, 'openai.chat', 200, chat({ content: 'x' }, 'length'))).toBe('failed check: stopped for length');
  });

  it('thrown failures: unreachable and timed out upstreams, and our own deadline whatever the setting', () => {
    expect(escalateAfterError(policy, new TollgateError('upstream_error', 'x'), false)).toBe('upstream unreachable');
    expect(escalateAfterError(policy, new TollgateError('upstream_timeout', 'x'), false)).toBe('upstream timeout');
    expect(escalateAfterError({ ...policy, upstreamError: false }, new TollgateError('upstream_timeout', 'x'), true)).toBe('no answer within 500 ms');
    expect(escalateAfterError({ ...policy, upstreamError: false }, new TollgateError('upstream_error', 'x'), false)).toBeNull();
    expect(escalateAfterError(policy, new TollgateError('killed', 'x'), false)).toBeNull();
  });
});
