/**
 * What the simulator will answer to one call, decided before the first byte: the usage it will report
 * and the words it will emit, consistent with each other under the word-per-token scheme.
 */
import type { Usage } from '../../domain/usage.ts';
import { asObject, stringOf } from '../json-object.ts';
import type { SimControls } from './sim-controls.ts';
import { promptWords, simWords } from './sim-words.ts';

export interface SimPlan {
  /** Sequence number of the call, for ids. */
  seq: number;
  /** Unix seconds. */
  created: number;
  model: string;
  /** The model reported as having served the call. */
  servedModel: string;
  stream: boolean;
  /** Chat only: the request asked for the usage chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
  /** Exactly what the answer reports. */
  usage: Usage;
  /** Visible output words (text, or the tool call's argument value). */
  words: string[];
  /** Reasoning words; Anthropic emits them as a thinking block, OpenAI keeps them hidden. */
  thinking: string[];
  /** The tool the answer calls, when the request offered tools. */
  tool: { name: string; arg: string } | null;
  /** Output stopped at the request's max tokens. */
  truncated: boolean;
}

export function planCall(
  body: Record<string, unknown>,
  controls: SimControls,
  opts: { seq: number; dialect: 'openai' | 'anthropic'; defaultOutputTokens: number },
): SimPlan {
  const model = stringOf(body.model) ?? 'unknown';
  const input = controls.inputTokens ?? Math.max(1, promptWords(body));
  const cap = firstCount(body.max_completion_tokens, body.max_tokens, body.max_output_tokens);
  let output = controls.outputTokens ?? controls.reasoningTokens + opts.defaultOutputTokens;
  let truncated = false;
  if (controls.outputTokens === null && cap !== null && output > cap) {
    output = cap;
    truncated = true;
  }
  const reasoning = Math.min(controls.reasoningTokens, output);
  const anthropic = opts.dialect === 'anthropic';
  const streamOptions = asObject(body.stream_options);
  return {
    seq: opts.seq,
    created: Math.floor(Date.now() / 1000),
    model,
    servedModel: controls.servedModel ?? model,
    stream: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    usage: {
      inputTokens: input,
      cacheReadTokens: controls.cachedTokens,
      cacheWrite5mTokens: anthropic ? controls.cacheWrite5m : 0,
      cacheWrite1hTokens: anthropic ? controls.cacheWrite1h : 0,
      outputTokens: output,
      reasoningTokens: reasoning,
      requests: 1,
    },
    words: simWords(output - reasoning, input),
    thinking: anthropic ? simWords(reasoning, input + 1) : [],
    tool: body.tool_choice === 'none' ? null : toolOf(body.tools),
    truncated,
  };
}

function firstCount(...values: unknown[]): number | null {
  for (const v of values) if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  return null;
}

/** The first offered function tool: chat nests it under `function`, Responses and Anthropic do not. */
function toolOf(tools: unknown): SimPlan['tool'] {
  if (!Array.isArray(tools)) return null;
  const tool = asObject(tools[0]);
  if (tool === null) return null;
  const fn = asObject(tool.function);
  const name = stringOf(fn?.name) ?? stringOf(tool.name);
  if (name === null) return null;
  const schema = asObject(fn?.parameters) ?? asObject(tool.parameters) ?? asObject(tool.input_schema);
  const arg = Object.keys(asObject(schema?.properties) ?? {})[0] ?? 'input';
  return { name, arg };
}

/** The tool arguments as JSON, in one piece per word (the way providers stream them). */
export function argumentPieces(plan: SimPlan): string[] {
  const arg = plan.tool?.arg ?? 'input';
  if (plan.words.length === 0) return ['{}'];
  const pieces = plan.words.map((w, i) => (i === 0 ? `{${JSON.stringify(arg)}: "${w}` : ` ${w}`));
  pieces[pieces.length - 1] += '"}';
  return pieces;
}

/** Visible text, one piece per word. */
export function textPieces(words: readonly string[]): string[] {
  return words.map((w, i) => (i === 0 ? w : ` ${w}`));
}
