/**
 * Token bound of a Responses request.
 * https://platform.openai.com/docs/api-reference/responses/create
 */
import { asObject, stringOf } from '../json-object.ts';
import type { MediaKind, TokenBound } from '../request-bound.ts';
import { bytesBound, lengthOf, positiveInt, tallyMedia } from '../request-bound.ts';
import { OPENAI_IMAGE_MAX_TOKENS, OPENAI_PROMPT_OVERHEAD_TOKENS, responsesTurns } from './openai-bound.ts';

export function responsesBound(body: Record<string, unknown>, bodyBytes: number): TokenBound {
  const media = tallyMedia([body.input], responsesMedia);
  return {
    inputTokens: bytesBound(bodyBytes, media, OPENAI_IMAGE_MAX_TOKENS, OPENAI_PROMPT_OVERHEAD_TOKENS),
    cappedByContext: true,
    unseenInput: media.unseen || storedState(body),
    samplingTurns: responsesTurns(body.tools, body.max_tool_calls),
    // Covers the whole response, reasoning and every hosted-tool turn included.
    outputTokens: positiveInt(body.max_output_tokens) ?? 'model-max',
    outputMultiplier: 1,
    extraOutputTokens: 0,
  };
}

/** A previous response, a conversation or a stored prompt template brings in input the body does not hold. */
function storedState(body: Record<string, unknown>): boolean {
  const previous = stringOf(body.previous_response_id);
  return (previous !== null && previous !== '') || (body.conversation !== undefined && body.conversation !== null) || asObject(body.prompt) !== null;
}

function responsesMedia(node: Record<string, unknown>, type: string): MediaKind {
  switch (type) {
    case 'input_image':
    case 'computer_screenshot': {
      const url = node.image_url;
      return typeof url === 'string' && url.startsWith('data:') ? url.length : 0; // else an http URL or a file_id
    }
    case 'image_generation_call': // a generated image passed back: base64 in `result`
      return lengthOf(node.result);
    case 'input_file': // a PDF by id, URL or inline: every page adds text and an image, whatever its size in bytes
    case 'item_reference': // an item stored server-side
    case 'compaction': // an encrypted summary of earlier turns
      return 'unseen';
    default:
      return null;
  }
}
