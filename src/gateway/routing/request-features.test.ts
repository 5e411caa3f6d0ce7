import { describe, expect, it } from 'vitest';
import { requestFeatures, SCAN_CHARS } from './request-features.ts';

const user = (content: unknown) => ({ messages: [{ role: 'user', content }] });

describe('requestFeatures', () => {
  it('counts prompt text across the three APIs, tool results included, images not', () => {
    expect(requestFeatures({ system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'image', source: { data: 'A'.repeat(5000) } }] }] })).toMatchObject({ promptChars: 14, messages: 1 });
    expect(requestFeatures({ messages: [{ role: 'user', content: 'q' }, { role: 'user', content: [{ type: 'tool_result', content: [{ type: 'text', text: 'result' }] }] }] })).toMatchObject({ promptChars: 7, messages: 2 });
    expect(requestFeatures({ instructions: 'Be brief.', input: 'hello' })).toMatchObject({ promptChars: 14, messages: 1 });
    expect(requestFeatures({ input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }, { type: 'function_call_output', call_id: 'c', output: 'sunny' }] })).toMatchObject({ promptChars: 7, messages: 2 });
    expect(requestFeatures({ messages: [], tools: [{}, {}] })).toMatchObject({ promptChars: 0, messages: 0, tools: 2 });
  });

  it.each([
    ['```\nx\n```', 'a code fence'],
    ['  def area(r):', 'a definition'],
    ['export async function load() {', 'a definition'],
    ['class Foo(Base):', 'a definition'],
    ['from os import path', 'an import'],
    ['#include <stdio.h>', 'an import'],
    ['const total = a + b', 'an assignment'],
    ['please run SELECT id, name FROM users', 'SQL'],
  ])('sees code: %j', (text, what) => {
    expect(requestFeatures(user(`look at this\n${text}\nthanks`)).code).toBe(what);
  });

  it.each([
    ['\\frac{1}{2}', 'LaTeX'],
    ['$$x$$', 'LaTeX'],
    ['∑ of the series', 'maths symbols'],
    ['what is x^2 + 1', 'an exponent'],
    ['Prove the lemma', 'a maths word'],
  ])('sees maths: %j', (text, what) => {
    expect(requestFeatures(user(text)).math).toBe(what);
  });

  it('leaves prose alone, and looks only at the latest text', () => {
    const prose = 'Let me know if the class starts at noon.\nlet me know, and import duties apply; the function of this letter is thanks.\nSelect one from the list.';
    expect(requestFeatures(user(prose))).toMatchObject({ code: null, math: null });
    const old = { messages: [{ role: 'user', content: '```old code```' }, { role: 'user', content: 'x'.repeat(SCAN_CHARS) }] };
    expect(requestFeatures(old).code).toBeNull();
  });
});
