/** Simulated `POST /v1/embeddings` and `GET /v1/models`. */
import { usage } from '../../domain/usage.ts';
import type { SimEndpoint } from './sim-endpoint.ts';

export const openaiEmbeddings: SimEndpoint = {
  route: 'openai.embeddings',
  method: 'POST',
  dialect: 'openai',
  answer(body, plan) {
    const dims = typeof body.dimensions === 'number' && Number.isInteger(body.dimensions) && body.dimensions > 0 ? Math.min(body.dimensions, 4096) : 8;
    // The official SDK asks for base64 (packed little-endian float32) unless the caller chose a format.
    const base64 = body.encoding_format === 'base64';
    const data = Array.from({ length: inputCount(body.input) }, (_, index) => {
      const vector = Array.from({ length: dims }, (_v, j) => (((index * 31 + j * 7) % 17) - 8) / 8);
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    // Embeddings bill input only: output and cache knobs do not apply.
    const u = usage({ inputTokens: plan.usage.inputTokens });
    return {
      kind: 'json',
      body: { object: 'list', data, model: plan.servedModel, usage: { prompt_tokens: u.inputTokens, total_tokens: u.inputTokens } },
      usage: u,
    };
  },
};

/** One embedding per input: a string, a token array, or a list of either. */
function inputCount(input: unknown): number {
  if (!Array.isArray(input) || input.length === 0) return 1;
  return typeof input[0] === 'number' ? 1 : input.length;
}

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'o3-mini', 'text-embedding-3-small', 'text-embedding-3-large'];

export const openaiModels: SimEndpoint = {
  route: 'openai.models',
  method: 'GET',
  dialect: 'openai',
  answer: () => ({
    kind: 'json',
    body: { object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created: 1_715_367_049, owned_by: 'system' })) },
    usage: null,
  }),
};
