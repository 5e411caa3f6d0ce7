/**
 * The simulator's token scheme: one whitespace-separated word is one token, both ways, so a test can
 * predict every count exactly from the text.
 */

/** JSON-safe words (no quotes, backslashes or controls); a few multi-byte ones exercise UTF-8 splitting. */
const VOCABULARY = [
  'the', 'ledger', 'records', 'every', 'token', 'and', 'each', 'call', 'budget', 'holds', 'under', 'load',
  'cache', 'reads', 'are', 'cheaper', 'than', 'writes', 'agents', 'spend', 'money', 'fast', 'so', 'we',
  'measure', 'it', 'twice', 'before', 'finance', 'asks', 'why', 'spikes', 'happen', 'at', 'night', 'on',
  'tuesday', 'café', 'naïve', 'über', '東京', 'smile🙂', 'Ωmega', 'reasoning', 'output', 'input', 'stream', 'chunk',
  'upstream', 'gateway', 'proxy', 'price', 'nano', 'dollar', 'forecast', 'anomaly', 'owner', 'team', 'project', 'org',
  'showback', 'chargeback', 'outcome', 'ticket',
] as const;

/** `count` deterministic words; `seed` varies the text between prompts. */
export function simWords(count: number, seed: number): string[] {
  const words: string[] = [];
  const n = VOCABULARY.length;
  const start = Math.abs(Math.trunc(seed)) % n;
  // A step coprime with the vocabulary size walks through every word before repeating.
  for (let i = 0; i < count; i++) words.push(VOCABULARY[(start + i * 7) % n] ?? 'token');
  return words;
}

/** Keys under which a request carries prompt text, across the OpenAI and Anthropic request shapes. */
const TEXT_KEYS = new Set(['messages', 'input', 'instructions', 'system', 'prompt', 'content', 'text', 'output']);

/** Prompt size under the scheme: words in the request's text fields; numbers (token arrays) count one each. */
export function promptWords(value: unknown): number {
  if (typeof value === 'string') return wordCount(value);
  if (typeof value === 'number') return 1;
  if (Array.isArray(value)) {
    let sum = 0;
    for (const v of value) sum += promptWords(v);
    return sum;
  }
  if (typeof value !== 'object' || value === null) return 0;
  let sum = 0;
  for (const [k, v] of Object.entries(value)) if (TEXT_KEYS.has(k)) sum += promptWords(v);
  return sum;
}

function wordCount(s: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
    if (!space && !inWord) count++;
    inWord = !space;
  }
  return count;
}
