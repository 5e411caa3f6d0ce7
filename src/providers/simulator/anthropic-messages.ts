/**
 * Simulated `POST /v1/messages` and `POST /v1/messages/count_tokens`.
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
import type { SimPlan } from './sim-plan.ts';
import { argumentPieces, textPieces } from './sim-plan.ts';
import type { SimAnswer, SimEndpoint, SimEvent } from './sim-endpoint.ts';
import { sseEvent } from './sim-endpoint.ts';

export const anthropicMessages: SimEndpoint = {
  route: 'anthropic.messages',
  method: 'POST',
  dialect: 'anthropic',
  answer: (_body, plan) => (plan.stream ? stream(plan) : json(plan)),
};

export const anthropicCountTokens: SimEndpoint = {
  route: 'anthropic.count_tokens',
  method: 'POST',
  dialect: 'anthropic',
  answer: (_body, plan) => ({ kind: 'json', body: { input_tokens: plan.usage.inputTokens }, usage: null }),
};

const SIGNATURE = 'c2ltdWxhdGVkLXNpZ25hdHVyZQ==';

function json(plan: SimPlan): SimAnswer {
  const content: unknown[] = [];
  if (plan.thinking.length > 0) content.push({ type: 'thinking', thinking: plan.thinking.join(' '), signature: SIGNATURE });
  if (plan.tool) content.push({ type: 'tool_use', id: toolId(plan), name: plan.tool.name, input: JSON.parse(argumentPieces(plan).join('')) as unknown });
  else content.push({ type: 'text', text: plan.words.join(' '), citations: null });
  const body = { ...messageShell(plan), content, stop_reason: stopReason(plan), usage: { ...inputUsage(plan), output_tokens: plan.usage.outputTokens, ...thinkingUsage(plan) } };
  return { kind: 'json', body, usage: plan.usage };
}

function stream(plan: SimPlan): SimAnswer {
  const events: SimEvent[] = [];
  const emit = (type: string, fields: Record<string, unknown>, reportsUsage = false) => {
    events.push({ text: sseEvent({ type, ...fields }, type), reportsUsage });
  };
  // message_start's output count is a first tick; message_delta later carries the cumulative total.
  const start = { ...messageShell(plan), content: [], stop_reason: null, usage: { ...inputUsage(plan), output_tokens: Math.min(1, plan.usage.outputTokens) } };
  emit('message_start', { message: start });
  emit('ping', {});
  let index = 0;
  const block = (contentBlock: unknown, deltas: unknown[]) => {
    emit('content_block_start', { index, content_block: contentBlock });
    for (const delta of deltas) emit('content_block_delta', { index, delta });
    emit('content_block_stop', { index });
    index++;
  };
  if (plan.thinking.length > 0) {
    const deltas: unknown[] = textPieces(plan.thinking).map((thinking) => ({ type: 'thinking_delta', thinking }));
    deltas.push({ type: 'signature_delta', signature: SIGNATURE });
    block({ type: 'thinking', thinking: '', signature: '' }, deltas);
  }
  if (plan.tool) {
    block({ type: 'tool_use', id: toolId(plan), name: plan.tool.name, input: {} }, argumentPieces(plan).map((partial_json) => ({ type: 'input_json_delta', partial_json })));
  } else {
    block({ type: 'text', text: '' }, textPieces(plan.words).map((text) => ({ type: 'text_delta', text })));
  }
  const { cache_creation: _breakdown, service_tier: _tier, ...cumulativeInput } = inputUsage(plan);
  emit('message_delta', { delta: { stop_reason: stopReason(plan), stop_sequence: null }, usage: { ...cumulativeInput, output_tokens: plan.usage.outputTokens, ...thinkingUsage(plan) } }, true);
  emit('message_stop', {});
  const errorEvent = sseEvent({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error');
  return { kind: 'stream', events, errorEvent };
}

function messageShell(plan: SimPlan): Record<string, unknown> {
  return { id: `msg_sim${plan.seq}`, type: 'message', role: 'assistant', model: plan.servedModel, stop_sequence: null, container: null };
}

function toolId(plan: SimPlan): string {
  return `toolu_sim${plan.seq}`;
}

function stopReason(plan: SimPlan): string {
  return plan.truncated ? 'max_tokens' : plan.tool ? 'tool_use' : 'end_turn';
}

/** input_tokens is UNCACHED input only; cache writes come as a total and a TTL breakdown. */
function inputUsage(plan: SimPlan): Record<string, unknown> {
  const u = plan.usage;
  return {
    input_tokens: u.inputTokens,
    cache_creation_input_tokens: u.cacheWrite5mTokens + u.cacheWrite1hTokens,
    cache_read_input_tokens: u.cacheReadTokens,
    cache_creation: { ephemeral_5m_input_tokens: u.cacheWrite5mTokens, ephemeral_1h_input_tokens: u.cacheWrite1hTokens },
    service_tier: 'standard',
  };
}

/** Only reported when the model reasoned, so adapters meet both shapes. */
function thinkingUsage(plan: SimPlan): Record<string, unknown> {
  return plan.usage.reasoningTokens > 0 ? { output_tokens_details: { thinking_tokens: plan.usage.reasoningTokens } } : {};
}
