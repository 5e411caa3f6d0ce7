/**
 * Token bound of a Messages request.
 * https://docs.anthropic.com/en/api/messages
 */
import { asObject, stringOf } from '../json-object.ts';
import type { MediaKind, TokenBound } from '../request-bound.ts';
import { bytesBound, largerLimit, lengthOf, positiveInt, tallyMedia } from '../request-bound.ts';

/**
 * Most tokens one image can cost: Anthropic counts width × height / 750 and resizes past 1.15 MP
 * (about 1,600 tokens); newer models take larger images, up to about 5,000. Twice that, for safety.
 */
export const ANTHROPIC_IMAGE_MAX_TOKENS = 10_000;

/** Margin for anything Anthropic adds unseen to every prompt; none is documented. */
const PROMPT_OVERHEAD_TOKENS = 500;

/** The tool-use system prompt Anthropic adds when tools are given: at most 530 tokens documented (Claude 3 Opus). */
const TOOLS_OVERHEAD_TOKENS = 1_000;

/** An Anthropic-defined client tool's hidden definition: computer use adds 735 tokens plus up to 499 of system prompt. */
const DEFINED_TOOL_TOKENS = 1_500;

/** Anthropic-defined tools the client runs (bash_20250124, text_editor_20250728, computer_20250124, memory_20250818). */
const CLIENT_DEFINED_TOOL = /^(?:bash|text_editor|computer|memory)_/;

/**
 * Iterations of the server-side sampling loop (web search, web fetch, code execution, MCP): past 10 the
 * API stops with `pause_turn`. https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/server-tools
 */
export const SERVER_LOOP_MAX_TURNS = 10;

export function messagesBound(body: Record<string, unknown>, bodyBytes: number): TokenBound {
  const media = tallyMedia([body.system, body.messages], messagesMedia);
  const tools = readTools(body.tools, body.mcp_servers);
  // With interleaved thinking budget_tokens may exceed max_tokens: the bound holds either way.
  const maxOutput = largerLimit(positiveInt(body.max_tokens), positiveInt(asObject(body.thinking)?.budget_tokens));
  return {
    inputTokens: bytesBound(bodyBytes, media, ANTHROPIC_IMAGE_MAX_TOKENS, PROMPT_OVERHEAD_TOKENS + tools.overhead),
    cappedByContext: true,
    unseenInput: media.unseen,
    samplingTurns: tools.turns,
    outputTokens: maxOutput ?? 'model-max',
    outputMultiplier: 1,
    extraOutputTokens: 0,
  };
}

function messagesMedia(node: Record<string, unknown>, type: string): MediaKind {
  if (type === 'image') {
    const source = asObject(node.source);
    return stringOf(source?.type) === 'base64' ? lengthOf(source?.data) : 0; // else a URL or a file id
  }
  if (type === 'document') {
    const source = asObject(node.source);
    const kind = stringOf(source?.type);
    // Plain text is in the bytes; `content` documents hold ordinary blocks, walked in turn.
    if (kind === 'text' || kind === 'content') return null;
    if (kind === 'base64' && stringOf(source?.media_type) === 'text/plain') return null;
    return 'unseen'; // a PDF (inline, URL or file id): every page adds text and an image, whatever its size in bytes
  }
  if (type === 'container_upload') return 'unseen'; // a file id for code execution
  return null;
}

/** Hidden tool definitions, and the turns server tools may run. */
function readTools(tools: unknown, mcpServers: unknown): { overhead: number; turns: number } {
  const list = Array.isArray(tools) ? tools : [];
  let overhead = list.length > 0 ? TOOLS_OVERHEAD_TOKENS : 0;
  let serverSide = Array.isArray(mcpServers) && mcpServers.length > 0;
  for (const tool of list) {
    const type = stringOf(asObject(tool)?.type);
    if (type === null || type === 'custom') continue;
    if (CLIENT_DEFINED_TOOL.test(type)) overhead += DEFINED_TOOL_TOKENS;
    // Any other type (web_search_*, web_fetch_*, code_execution_*, tool_search_*, mcp_toolset, an unknown one)
    // runs server-side. `max_uses` does not bound the turns: web search filters its results with code execution.
    else serverSide = true;
  }
  return { overhead, turns: serverSide ? SERVER_LOOP_MAX_TURNS : 1 };
}
