/**
 * Whether a lower tier's complete (non-streamed) answer failed: it refused, stopped for a listed
 * reason, matched a regex, or said nothing. Reads the parsed body of each generation API.
 */
import type { ApiRoute } from '../../providers/contract.ts';
import { asObject, stringOf } from '../../providers/json-object.ts';

export interface AnswerCheck {
  refusal: boolean;
  finishReasons: ReadonlySet<string>;
  regex: RegExp | null;
  empty: boolean;
}

/** What an answer says about itself, in one shape for every API. */
export interface AnswerFacts {
  /** Stop reasons as the API spells them (chat `finish_reason`, Responses incomplete reason, Anthropic `stop_reason`). */
  reasons: string[];
  refused: boolean;
  text: string;
  toolCalls: number;
}

/** Why the answer failed the check, or null when it passed. */
export function failedCheck(route: ApiRoute, body: unknown, check: AnswerCheck): string | null {
  const facts = answerFacts(route, body);
  if (facts === null) return null;
  if (check.refusal && facts.refused) return 'the model refused';
  const reason = facts.reasons.find((r) => check.finishReasons.has(r));
  if (reason !== undefined) return `stopped for ${reason}`;
  if (check.regex && check.regex.test(facts.text)) return `answer matches ${String(check.regex)}`;
  if (check.empty && facts.text.trim() === '' && facts.toolCalls === 0) return 'empty answer';
  return null;
}

export function answerFacts(route: ApiRoute, body: unknown): AnswerFacts | null {
  const o = asObject(body);
  if (o === null) return null;
  const facts: AnswerFacts = { reasons: [], refused: false, text: '', toolCalls: 0 };
  const texts: string[] = [];
  if (route === 'openai.chat') {
    for (const c of Array.isArray(o['choices']) ? o['choices'] : []) {
      const choice = asObject(c);
      const reason = stringOf(choice?.['finish_reason']);
      if (reason) facts.reasons.push(reason);
      const m = asObject(choice?.['message']);
      if (typeof m?.['refusal'] === 'string' && m['refusal'] !== '') facts.refused = true;
      const content = m?.['content'];
      if (typeof content === 'string') texts.push(content);
      else if (Array.isArray(content)) for (const p of content) texts.push(stringOf(asObject(p)?.['text']) ?? '');
      if (Array.isArray(m?.['tool_calls'])) facts.toolCalls += m['tool_calls'].length;
    }
  } else if (route === 'openai.responses') {
    const reason = stringOf(asObject(o['incomplete_details'])?.['reason']);
    if (reason) facts.reasons.push(reason);
    for (const item of Array.isArray(o['output']) ? o['output'] : []) {
      const it = asObject(item);
      if (it?.['type'] === 'function_call' || it?.['type'] === 'custom_tool_call') facts.toolCalls++;
      for (const p of Array.isArray(it?.['content']) ? it['content'] : []) {
        const part = asObject(p);
        if (part?.['type'] === 'refusal') facts.refused = true;
        else if (typeof part?.['text'] === 'string') texts.push(part['text']);
      }
    }
  } else if (route === 'anthropic.messages') {
    const reason = stringOf(o['stop_reason']);
    if (reason) facts.reasons.push(reason);
    if (reason === 'refusal') facts.refused = true;
    for (const b of Array.isArray(o['content']) ? o['content'] : []) {
      const block = asObject(b);
      if (block?.['type'] === 'text' && typeof block['text'] === 'string') texts.push(block['text']);
      if (block?.['type'] === 'tool_use') facts.toolCalls++;
    }
  } else {
    return null;
  }
  facts.text = texts.join('\n');
  return facts;
}
