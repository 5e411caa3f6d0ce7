/** Simulated `POST /v1/responses`. https://platform.openai.com/docs/api-reference/responses-streaming */
import { stringOf } from '../json-object.ts';
import { argumentPieces, textPieces } from './sim-plan.ts';
import type { SimPlan } from './sim-plan.ts';
import type { SimAnswer, SimEndpoint, SimEvent } from './sim-endpoint.ts';
import { sseEvent } from './sim-endpoint.ts';

export const openaiResponses: SimEndpoint = {
  route: 'openai.responses',
  method: 'POST',
  dialect: 'openai',
  answer: (body, plan) => (plan.stream ? stream(body, plan) : { kind: 'json', body: response(body, plan, 'final', [finalItem(plan)]), usage: plan.usage }),
};

function stream(body: Record<string, unknown>, plan: SimPlan): SimAnswer {
  let seq = 0;
  const events: SimEvent[] = [];
  const emit = (type: string, fields: Record<string, unknown>, reportsUsage = false) => {
    events.push({ text: sseEvent({ type, ...fields, sequence_number: seq++ }, type), reportsUsage });
  };
  const itemId = plan.tool ? `fc_sim${plan.seq}` : `msg_sim${plan.seq}`;
  const at = { item_id: itemId, output_index: 0 };
  emit('response.created', { response: response(body, plan, 'in_progress', []) });
  emit('response.in_progress', { response: response(body, plan, 'in_progress', []) });
  if (plan.tool) {
    emit('response.output_item.added', { output_index: 0, item: { ...finalItem(plan), status: 'in_progress', arguments: '' } });
    for (const piece of argumentPieces(plan)) emit('response.function_call_arguments.delta', { ...at, delta: piece });
    emit('response.function_call_arguments.done', { ...at, name: plan.tool.name, arguments: argumentPieces(plan).join('') });
  } else {
    const empty = { type: 'output_text', annotations: [], logprobs: [], text: '' };
    emit('response.output_item.added', { output_index: 0, item: { id: itemId, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
    emit('response.content_part.added', { ...at, content_index: 0, part: empty });
    for (const piece of textPieces(plan.words)) emit('response.output_text.delta', { ...at, content_index: 0, delta: piece, logprobs: [] });
    const text = plan.words.join(' ');
    emit('response.output_text.done', { ...at, content_index: 0, text, logprobs: [] });
    emit('response.content_part.done', { ...at, content_index: 0, part: { ...empty, text } });
  }
  emit('response.output_item.done', { output_index: 0, item: finalItem(plan) });
  const final = plan.truncated ? 'response.incomplete' : 'response.completed';
  emit(final, { response: response(body, plan, 'final', [finalItem(plan)]) }, true);
  const errorEvent = sseEvent({ type: 'error', code: 'server_error', message: 'The server had an error while processing your request.', param: null, sequence_number: seq }, 'error');
  return { kind: 'stream', events, errorEvent };
}

function finalItem(plan: SimPlan): Record<string, unknown> {
  if (plan.tool) {
    return { id: `fc_sim${plan.seq}`, type: 'function_call', status: 'completed', arguments: argumentPieces(plan).join(''), call_id: `call_sim${plan.seq}`, name: plan.tool.name };
  }
  const text = { type: 'output_text', annotations: [], logprobs: [], text: plan.words.join(' ') };
  return { id: `msg_sim${plan.seq}`, type: 'message', status: 'completed', content: [text], role: 'assistant' };
}

function response(body: Record<string, unknown>, plan: SimPlan, phase: 'in_progress' | 'final', output: unknown[]): Record<string, unknown> {
  const done = phase === 'final';
  const status = !done ? 'in_progress' : plan.truncated ? 'incomplete' : 'completed';
  return {
    id: `resp_sim${plan.seq}`,
    object: 'response',
    created_at: plan.created,
    status,
    completed_at: done && !plan.truncated ? plan.created : null,
    error: null,
    incomplete_details: done && plan.truncated ? { reason: 'max_output_tokens' } : null,
    instructions: stringOf(body.instructions),
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    model: plan.servedModel,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: 1,
    truncation: 'disabled',
    usage: done ? usageOf(plan) : null,
    user: null,
    metadata: {},
  };
}

/** input_tokens INCLUDES cached_tokens; output_tokens INCLUDES reasoning_tokens. */
function usageOf(plan: SimPlan): unknown {
  const u = plan.usage;
  const input = u.inputTokens + u.cacheReadTokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cacheReadTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: input + u.outputTokens,
  };
}
