/**
 * OpenAI usage objects → the ledger's Usage. OpenAI counts cached tokens INSIDE the prompt/input total
 * and reasoning tokens INSIDE the completion/output total, so cached is subtracted and reasoning is not.
 * OpenAI reports no cache writes (prompt caching is automatic and writes are free).
 */
import { usage } from '../../domain/usage.ts';
import type { UsageCapture } from '../contract.ts';
import { CountReader } from '../count-reader.ts';
import { captureUsage, suspiciousCapture } from '../usage-capture.ts';

/** Chat Completions `usage` (https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage). */
export function chatUsage(raw: unknown, servedModel: string | null): UsageCapture | null {
  return readUsage(raw, servedModel, {
    input: 'prompt_tokens',
    inputDetails: 'prompt_tokens_details',
    output: 'completion_tokens',
    outputDetails: 'completion_tokens_details',
  });
}

/** Responses `usage` (https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage). */
export function responsesUsage(raw: unknown, servedModel: string | null): UsageCapture | null {
  return readUsage(raw, servedModel, {
    input: 'input_tokens',
    inputDetails: 'input_tokens_details',
    output: 'output_tokens',
    outputDetails: 'output_tokens_details',
  });
}

/** Embeddings `usage`: only `prompt_tokens` (and `total_tokens`, equal to it). */
export function embeddingsUsage(raw: unknown, servedModel: string | null): UsageCapture | null {
  const problems: string[] = [];
  const r = CountReader.of(raw, 'usage', problems);
  if (r === null) return problems.length > 0 ? suspiciousCapture(servedModel, problems) : null;
  return captureUsage(usage({ inputTokens: r.required('prompt_tokens') }), servedModel, problems);
}

interface UsageKeys {
  input: string;
  inputDetails: string;
  output: string;
  outputDetails: string;
}

function readUsage(raw: unknown, servedModel: string | null, keys: UsageKeys): UsageCapture | null {
  const problems: string[] = [];
  const r = CountReader.of(raw, 'usage', problems);
  if (r === null) return problems.length > 0 ? suspiciousCapture(servedModel, problems) : null;
  const input = r.required(keys.input);
  const output = r.required(keys.output);
  const cached = r.child(keys.inputDetails)?.optional('cached_tokens') ?? 0;
  const reasoning = r.child(keys.outputDetails)?.optional('reasoning_tokens') ?? 0;
  if (cached > input) problems.push(`usage.${keys.inputDetails}.cached_tokens (${cached}) exceeds ${keys.input} (${input})`);
  // Salvaged as all cached: the cached part is inside the total, so it cannot be more than the total.
  const cachedIn = Math.min(cached, input);
  return captureUsage(
    usage({ inputTokens: input - cachedIn, cacheReadTokens: cachedIn, outputTokens: output, reasoningTokens: reasoning }),
    servedModel,
    problems,
  );
}
