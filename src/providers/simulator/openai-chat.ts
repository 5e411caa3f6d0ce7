/** Simulated `POST /v1/chat/completions`. https://platform.openai.com/docs/api-reference/chat */
import { argumentPieces, textPieces } from './sim-plan.ts';
import type { SimPlan } from './sim-plan.ts';
import type { SimAnswer, SimEndpoint, SimEvent } from './sim-endpoint.ts';
import { sseEvent } from './sim-endpoint.ts';

export const openaiChat: SimEndpoint = {
  route: 'openai.chat',
  method: 'POST',
  dialect: 'openai',
  answer: (_body, plan) => (plan.stream ? stream(plan) : json(plan)),
};

function json(plan: SimPlan): SimAnswer {
  const message = plan.tool
    ? { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: [{ id: callId(plan), type: 'function', function: { name: plan.tool.name, arguments: argumentPieces(plan).join('') } }] }
    : { role: 'assistant', content: plan.words.join(' '), refusal: null, annotations: [] };
  const body = {
    ...envelope(plan, 'chat.completion'),
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(plan) }],
    usage: usageOf(plan),
  };
  return { kind: 'json', body, usage: plan.usage };
}

function stream(plan: SimPlan): SimAnswer {
  const base = envelope(plan, 'chat.completion.chunk');
  // With include_usage every chunk carries `usage: null`, and one more chunk carries the counts.
  const extra = plan.includeUsage ? { usage: null } : {};
  const chunk = (delta: unknown, finish: string | null): SimEvent => ({
    text: sseEvent({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra }),
  });
  const events: SimEvent[] = [];
  if (plan.tool) {
    const first = { index: 0, id: callId(plan), type: 'function', function: { name: plan.tool.name, arguments: '' } };
    events.push(chunk({ role: 'assistant', content: null, tool_calls: [first], refusal: null }, null));
    for (const piece of argumentPieces(plan)) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
  } else {
    events.push(chunk({ role: 'assistant', content: '', refusal: null }, null));
    for (const piece of textPieces(plan.words)) events.push(chunk({ content: piece }, null));
  }
  events.push(chunk({}, finishReason(plan)));
  if (plan.includeUsage) events.push({ text: sseEvent({ ...base, choices: [], usage: usageOf(plan) }), reportsUsage: true });
  events.push({ text: sseEvent('[DONE]') });
  const errorEvent = sseEvent({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } });
  return { kind: 'stream', events, errorEvent };
}

function envelope(plan: SimPlan, object: string): Record<string, unknown> {
  return { id: `chatcmpl-sim${plan.seq}`, object, created: plan.created, model: plan.servedModel, service_tier: 'default', system_fingerprint: 'fp_sim' };
}

function callId(plan: SimPlan): string {
  return `call_sim${plan.seq}`;
}

function finishReason(plan: SimPlan): string {
  return plan.truncated ? 'length' : plan.tool ? 'tool_calls' : 'stop';
}

/** prompt_tokens INCLUDES cached_tokens; completion_tokens INCLUDES reasoning_tokens. */
function usageOf(plan: SimPlan): unknown {
  const u = plan.usage;
  const prompt = u.inputTokens + u.cacheReadTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}
