/** What OpenAI's chat and Responses bounds share: per-image maximum, hidden prompt overhead, hosted-tool turns. */
import { positiveInt } from '../request-bound.ts';

/**
 * Most tokens one input image can cost: gpt-4o-mini at high detail, 2,833 + 8 tiles × 5,667 = 48,169
 * (an image is fit in 2048², its short side scaled to 768: at most 4 × 2 tiles of 512), the largest
 * per-image count OpenAI's vision guide lists (patch-based models: 1,536 patches × 2.46 at most).
 */
export const OPENAI_IMAGE_MAX_TOKENS = 50_000;

/**
 * Prompt tokens OpenAI adds that the body does not show: the hidden system header of reasoning models
 * (knowledge cutoff, date, reasoning effort, channels) and the framing of tool definitions. Undocumented;
 * a wide margin over the few dozen tokens they take.
 */
export const OPENAI_PROMPT_OVERHEAD_TOKENS = 500;

/**
 * Model turns a response with hosted tools may run when `max_tool_calls` does not say. OpenAI documents
 * no cap besides that field; this takes Anthropic's documented 10-iteration server-side loop.
 */
export const DEFAULT_HOSTED_TOOL_TURNS = 10;

/** Responses tools the client runs: the model stops at their call, so they add no hidden turn. */
const CLIENT_TOOLS = new Set(['function', 'custom', 'computer_use_preview', 'computer', 'local_shell', 'apply_patch']);

/** Turns a Responses call may run: 1 without hosted tools, else `max_tool_calls` + 1, else the default. */
export function responsesTurns(tools: unknown, maxToolCalls: unknown): number {
  if (!Array.isArray(tools)) return 1;
  // Any other type (web_search, file_search, code_interpreter, mcp, image_generation, an unknown one) runs server-side.
  const hosted = tools.some((t: unknown) => {
    const type = typeof t === 'object' && t !== null ? (t as Record<string, unknown>).type : undefined;
    return typeof type !== 'string' || !CLIENT_TOOLS.has(type);
  });
  if (!hosted) return 1;
  const calls = positiveInt(maxToolCalls);
  return calls === null ? DEFAULT_HOSTED_TOOL_TURNS : calls + 1;
}
