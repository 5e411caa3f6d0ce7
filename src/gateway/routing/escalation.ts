/**
 * When a call that ran on a lower tier goes up to the next one instead of back to the client. A
 * streamed call can only escalate before its first byte reaches the client: on an upstream error,
 * an error status or a timeout before the response headers; once events flow, it is the answer.
 */
import type { TollgateError } from '../../domain/errors.ts';
import type { ApiRoute } from '../../providers/contract.ts';
import type { AnswerCheck } from './answer-check.ts';
import { failedCheck } from './answer-check.ts';

export interface EscalationPolicy {
  /** Connection failures, 408, 429 and 5xx, and the upstream pool's own timeout. */
  upstreamError: boolean;
  /** Deadline for a lower tier's answer (headers of a stream, whole body otherwise); null: none. */
  timeoutMs: number | null;
  check: AnswerCheck;
}

/** Statuses that say "try elsewhere" rather than "your request is wrong" (which every tier would say). */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Why a thrown upstream failure escalates the call, or null. `deadline`: our routing deadline fired. */
export function escalateAfterError(p: EscalationPolicy, err: TollgateError, deadline: boolean): string | null {
  if (deadline) return `no answer within ${p.timeoutMs ?? 0} ms`;
  if (!p.upstreamError) return null;
  if (err.code === 'upstream_timeout') return 'upstream timeout';
  if (err.code === 'upstream_error') return 'upstream unreachable';
  return null;
}

/** Why a complete answer escalates the call, or null: an error status, or a failed check of a success. */
export function escalateAfterAnswer(p: EscalationPolicy, route: ApiRoute, status: number, body: unknown): string | null {
  if (status >= 400) return p.upstreamError && retryable(status) ? `upstream answered ${status}` : null;
  const failed = failedCheck(route, body, p.check);
  return failed === null ? null : `failed check: ${failed}`;
}
