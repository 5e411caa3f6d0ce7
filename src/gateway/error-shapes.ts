/**
 * Errors in the API's own shape: OpenAI routes answer like OpenAI, Anthropic routes like Anthropic,
 * the admin API with Tollgate's plain `{ error: { code, message } }`.
 */
import type { ErrorCode } from '../domain/errors.ts';
import type { TollgateError } from '../domain/errors.ts';

export type ErrorShape = 'openai' | 'anthropic' | 'admin';

/** The error `type` values both APIs share for the same situations. */
const SHARED_TYPE: Partial<Record<ErrorCode, string>> = {
  invalid_request: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
  unpriced_model: 'invalid_request_error',
  unauthenticated: 'authentication_error',
  key_invalid: 'authentication_error',
  key_revoked: 'authentication_error',
  key_expired: 'authentication_error',
  key_suspended: 'permission_error',
  forbidden: 'permission_error',
  scope_archived: 'permission_error',
  killed: 'permission_error',
  rate_limited: 'rate_limit_error',
};

// https://docs.anthropic.com/en/api/errors — the `type` vocabulary Anthropic clients switch on.
const ANTHROPIC_TYPE: Partial<Record<ErrorCode, string>> = {
  ...SHARED_TYPE,
  payload_too_large: 'request_too_large',
  not_found: 'not_found_error',
  budget_exceeded: 'rate_limit_error',
  unavailable: 'overloaded_error',
};

// OpenAI's error `type` values as its SDKs see them.
const OPENAI_TYPE: Partial<Record<ErrorCode, string>> = {
  ...SHARED_TYPE,
  payload_too_large: 'invalid_request_error',
  not_found: 'invalid_request_error',
  budget_exceeded: 'insufficient_quota',
};

export function shapeFor(url: string): ErrorShape {
  if (url.startsWith('/v1/messages')) return 'anthropic';
  if (url.startsWith('/api/')) return 'admin';
  return 'openai';
}

export function errorBody(err: TollgateError, shape: ErrorShape): Record<string, unknown> {
  switch (shape) {
    case 'anthropic':
      return { type: 'error', error: { type: ANTHROPIC_TYPE[err.code] ?? 'api_error', message: err.message } };
    case 'openai':
      return { error: { message: err.message, type: OPENAI_TYPE[err.code] ?? 'server_error', param: null, code: err.code, ...(err.details ? { details: err.details } : {}) } };
    case 'admin':
      return { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
  }
}

/** The SSE error event sent to a streaming client whose stream failed mid-way. */
export function streamErrorEvent(err: TollgateError, shape: ErrorShape): string {
  const body = errorBody(err, shape === 'admin' ? 'openai' : shape);
  return shape === 'anthropic' ? `event: error\ndata: ${JSON.stringify(body)}\n\n` : `data: ${JSON.stringify(body)}\n\n`;
}


