/**
 * Token bound of a Chat Completions request.
 * https://platform.openai.com/docs/api-reference/chat/create
 */
import { asObject } from '../json-object.ts';
import type { MediaKind, TokenBound } from '../request-bound.ts';
import { bytesBound, largerLimit, positiveInt, tallyMedia } from '../request-bound.ts';
import { DEFAULT_HOSTED_TOOL_TURNS, OPENAI_IMAGE_MAX_TOKENS, OPENAI_PROMPT_OVERHEAD_TOKENS } from './openai-bound.ts';

export function chatBound(body: Record<string, unknown>, bodyBytes: number): TokenBound {
  const media = tallyMedia([body.messages], chatMedia);
  // max_tokens is the legacy name of max_completion_tokens; both limit each choice, reasoning included.
  const perChoice = largerLimit(positiveInt(body.max_completion_tokens), positiveInt(body.max_tokens));
  return {
    inputTokens: bytesBound(bodyBytes, media, OPENAI_IMAGE_MAX_TOKENS, OPENAI_PROMPT_OVERHEAD_TOKENS),
    cappedByContext: true,
    unseenInput: media.unseen,
    // Search models read pages the bytes do not show, and OpenAI bills that content on some models.
    samplingTurns: asObject(body.web_search_options) === null ? 1 : DEFAULT_HOSTED_TOOL_TURNS,
    outputTokens: perChoice ?? 'model-max',
    outputMultiplier: positiveInt(body.n) ?? 1,
    extraOutputTokens: predictionBytes(body.prediction),
  };
}

function chatMedia(node: Record<string, unknown>, type: string): MediaKind {
  if (type === 'image_url') {
    const url = asObject(node.image_url)?.url;
    return typeof url === 'string' && url.startsWith('data:') ? url.length : 0;
  }
  // A file part is a PDF (by id or inline): every page adds text and an image, whatever its size in bytes.
  if (type === 'file') return 'unseen';
  return null; // text, refusal, and input_audio (base64 audio: far more bytes than audio tokens)
}

/**
 * Rejected predicted-output tokens are billed as completion tokens: at most the prediction's tokens,
 * at most its UTF-8 bytes. https://platform.openai.com/docs/guides/predicted-outputs
 */
function predictionBytes(prediction: unknown): number {
  const content = asObject(prediction)?.content;
  if (typeof content === 'string') return Buffer.byteLength(content, 'utf8');
  if (!Array.isArray(content)) return 0;
  let bytes = 0;
  for (const part of content) {
    const text = asObject(part)?.text;
    if (typeof text === 'string') bytes += Buffer.byteLength(text, 'utf8');
  }
  return bytes;
}
