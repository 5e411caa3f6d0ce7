/**
 * One error type with a closed set of codes. Every layer throws `TollgateError`; the HTTP edge maps
 * `code` to a status with `HTTP_STATUS` and renders it in the route's own error shape.
 */
export const ERROR_CODES = [
  'invalid_request',
  'payload_too_large',
  'unsupported_media_type',
  'not_found',
  'conflict',
  'unauthenticated',
  'key_invalid',
  'key_suspended',
  'key_revoked',
  'key_expired',
  'forbidden',
  'scope_archived',
  'budget_exceeded',
  'rate_limited',
  'killed',
  'unpriced_model',
  'upstream_error',
  'upstream_timeout',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  conflict: 409,
  unauthenticated: 401,
  key_invalid: 401,
  key_suspended: 403,
  key_revoked: 401,
  key_expired: 401,
  forbidden: 403,
  scope_archived: 403,
  budget_exceeded: 429,
  rate_limited: 429,
  killed: 403,
  unpriced_model: 400,
  upstream_error: 502,
  upstream_timeout: 504,
  unavailable: 503,
  internal: 500,
};

export class TollgateError extends Error {
  override readonly name = 'TollgateError';
  readonly code: ErrorCode;
  /** Structured facts for the client (e.g. the tier and remaining amount of a refused budget). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

/** Turns anything thrown into a TollgateError, keeping the original as `cause`. */
export function toTollgateError(thrown: unknown): TollgateError {
  if (thrown instanceof TollgateError) return thrown;
  return new TollgateError('internal', messageOf(thrown), { cause: thrown });
}

function messageOf(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  // Errors from another realm (vm, worker) fail instanceof but still carry a message.
  const message = (thrown as { message?: unknown } | null)?.message;
  if (typeof message === 'string') return message;
  try {
    return String(thrown);
  } catch {
    // String() throws on objects without a prototype: turning an error into a TollgateError must not throw.
    return Object.prototype.toString.call(thrown);
  }
}
