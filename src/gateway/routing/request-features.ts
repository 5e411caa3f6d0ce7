/**
 * The request features the cheap-first classifier decides on, read from the already parsed body of
 * any generation route (OpenAI chat and Responses, Anthropic messages) without re-serialising it.
 */
import { asObject } from '../../providers/json-object.ts';

export interface RequestFeatures {
  /** Characters of prompt text: system, instructions, messages, tool results (images and files not counted). */
  promptChars: number;
  /** Conversation depth: messages, or input items of a Responses call. */
  messages: number;
  /** Tools offered. */
  tools: number;
  /** The latest text looks like code: what matched, or null. */
  code: string | null;
  /** The latest text has maths: what matched, or null. */
  math: string | null;
}

/** Code and maths are looked for in this many trailing characters: the current task, at a bounded cost. */
export const SCAN_CHARS = 16_384;

// Line-start patterns are tried only where a line starts (sticky), so prose costs one failed character test per line.
const CODE_LINE =
  /[ \t]*(?:(?<definition>def \w+\s*\(|(?:export\s+)?(?:async\s+)?function\s*\w*\s*\(|fn \w+\s*[(<]|func \w+\s*\(|(?:public\s+|export\s+)?class \w+\s*[:({<])|(?<import>import\s+(?:[\w.]+[ \t]*;?[ \t]*$|[{*]|\w+\s+from\s)|from\s+[\w.]+\s+import\s|#include\s*[<"]|using\s+[\w.]+;|package\s+[\w.]+;?[ \t]*$)|(?<assignment>(?:const|let|var)\s+\w+\s*(?::\s*\w+\s*)?=))/my;
const SQL = /\b(?:SELECT\s+[\w*.,\s]+?\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|CREATE\s+TABLE)\b/;
const CODE_LABEL: Record<string, string> = { definition: 'a definition', import: 'an import', assignment: 'an assignment' };

const LATEX = /\\(?:frac|int|sum|prod|sqrt|lim|partial|mathbb|begin\{(?:equation|align)|cdot|infty)\b/;
const MATH_SYMBOLS = /[∫∑∏√∂∇∞≤≥≠≈±∀∃∈]/u;
const EXPONENT = /\b[a-z0-9]\^[\d{(]/i;
const MATH_WORD = /\b(?:prove|proof|theorem|lemma|integral|derivative|differentiate|eigenvalues?|polynomial|equation)\b/i;

export function requestFeatures(body: Record<string, unknown>): RequestFeatures {
  const texts: string[] = [];
  let chars = 0;
  const add = (s: string) => {
    texts.push(s);
    chars += s.length;
  };
  for (const field of ['system', 'instructions', 'messages', 'input'] as const) collectText(body[field], add, 0);
  const convo = Array.isArray(body['messages']) ? body['messages'] : Array.isArray(body['input']) ? body['input'] : null;
  const tools = Array.isArray(body['tools']) ? body['tools'].length : Array.isArray(body['functions']) ? body['functions'].length : 0;
  const tail = tailText(texts, SCAN_CHARS);
  return { promptChars: chars, messages: convo ? convo.length : texts.length > 0 ? 1 : 0, tools, code: codeIn(tail), math: mathIn(tail) };
}

/** Strings of a prompt: plain strings, and `text`/`content` of nested parts (tool results included). */
function collectText(value: unknown, add: (s: string) => void, depth: number): void {
  if (typeof value === 'string') {
    add(value);
    return;
  }
  // Prompts nest a few levels at most (message → content part → tool result → part); deeper is not prose.
  if (depth > 6) return;
  if (Array.isArray(value)) {
    for (const v of value) collectText(v, add, depth + 1);
    return;
  }
  const o = asObject(value);
  if (o === null) return;
  if (typeof o['text'] === 'string') add(o['text']);
  collectText(o['content'] ?? null, add, depth + 1);
  // Responses function results carry their text as `output`.
  if (o['type'] === 'function_call_output') collectText(o['output'], add, depth + 1);
}

function tailText(texts: readonly string[], max: number): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = texts.length - 1; i >= 0 && n < max; i--) {
    const t = texts[i]!;
    const piece = t.length > max - n ? t.slice(t.length - (max - n)) : t;
    parts.push(piece);
    n += piece.length + 1;
  }
  return parts.reverse().join('\n');
}

function codeIn(text: string): string | null {
  if (text.includes('```')) return 'a code fence';
  for (let at = 0; at < text.length; ) {
    CODE_LINE.lastIndex = at;
    const groups = CODE_LINE.exec(text)?.groups;
    if (groups) for (const [name, v] of Object.entries(groups)) if (v !== undefined) return CODE_LABEL[name] ?? name;
    const nl = text.indexOf('\n', at);
    if (nl < 0) break;
    at = nl + 1;
  }
  return SQL.test(text) ? 'SQL' : null;
}

function mathIn(text: string): string | null {
  // Cheap character checks first: most prompts have no backslash, caret or dollar pair.
  if ((text.includes('\\') && LATEX.test(text)) || text.includes('$$')) return 'LaTeX';
  if (MATH_SYMBOLS.test(text)) return 'maths symbols';
  if (text.includes('^') && EXPONENT.test(text)) return 'an exponent';
  return MATH_WORD.test(text) ? 'a maths word' : null;
}
