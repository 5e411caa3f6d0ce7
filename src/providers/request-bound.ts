/**
 * The most a request can consume, in tokens, read from its body before it is forwarded: what budget
 * admission reserves (DESIGN guarantee 2). Each adapter fills one in; `gateway/cost-bound.ts` adds the
 * model's limits and prices it.
 *
 * Input: a BPE token stands for at least one byte of the UTF-8 text it encodes, and the forwarded body
 * holds that text (JSON escapes only add bytes, keys and punctuation cover the few tokens per message a
 * chat format adds), so the body's byte length bounds the tokens of its text. What the bytes cannot
 * show is added: media (an image of a few bytes can cost thousands of tokens), the provider's hidden
 * prompts, and content held server-side (a stored conversation, a file id), bounded by a context window.
 */

/** Token bound of one request, before the model's limits and prices are applied. */
export interface TokenBound {
  /**
   * Input tokens the request can hold as sent: body bytes, less the inline data of its images, plus
   * each image's maximum and the provider's hidden prompt overhead.
   */
  inputTokens: number;
  /** The whole input of one model turn also fits the context window (false for embeddings: each input has its own). */
  cappedByContext: boolean;
  /** The input pulls in content the bytes do not show (stored state, files, documents): bounded by the context window only. */
  unseenInput: boolean;
  /** Model turns the provider may run inside this one call (server-side tools), each reading up to a context window; 1 otherwise. */
  samplingTurns: number;
  /** Output tokens per choice: the request's own limit, 'model-max' when it sets none, 'none' when the route generates nothing. */
  outputTokens: number | 'model-max' | 'none';
  /** Choices generated (OpenAI chat `n`): multiplies output, never input. */
  outputMultiplier: number;
  /** Output billed per choice beyond `outputTokens`: rejected predicted-output tokens. */
  extraOutputTokens: number;
}

/**
 * How a typed node of the request body counts: an image (the number is the length of its inline data,
 * already in the bytes; 0 for a URL or file id), 'unseen' content, or null for an ordinary node (its
 * children are looked at in turn).
 */
export type MediaKind = number | 'unseen' | null;

/** Media found in a request body. */
export interface MediaTally {
  images: number;
  /** Characters of inline image data: at least as many bytes of the body. */
  inlineChars: number;
  /** Some content is out of the body's sight (when true, the walk stopped there). */
  unseen: boolean;
}

/**
 * Walks `roots` (parsed JSON), asking `classify` about every object with a string `type`. Iterative,
 * so a deeply nested body cannot overflow the stack; strings are never scanned.
 */
export function tallyMedia(roots: readonly unknown[], classify: (node: Record<string, unknown>, type: string) => MediaKind): MediaTally {
  const tally: MediaTally = { images: 0, inlineChars: 0, unseen: false };
  const stack: unknown[] = [...roots];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    const node = value as Record<string, unknown>;
    const kind = typeof node.type === 'string' ? classify(node, node.type) : null;
    if (kind === 'unseen') return { ...tally, unseen: true };
    if (kind !== null) {
      tally.images++;
      tally.inlineChars += kind;
      continue;
    }
    for (const key in node) {
      const child = node[key];
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return tally;
}

/** Input tokens of the body as sent: its bytes with each image's inline data swapped for the image's maximum. */
export function bytesBound(bodyBytes: number, media: MediaTally, imageMaxTokens: number, overheadTokens: number): number {
  return Math.max(0, bodyBytes - media.inlineChars) + media.images * imageMaxTokens + overheadTokens;
}

/** A positive safe integer, or null (absent, or a value the provider would refuse anyway). */
export function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** The larger of two optional limits: when a request sets both, the bound must hold whichever one the provider obeys. */
export function largerLimit(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/** Length of a string field, 0 for anything else. */
export function lengthOf(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}
