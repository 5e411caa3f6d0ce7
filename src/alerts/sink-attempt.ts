/**
 * One attempt at one sink: POST the request, read the start of the answer, and say whether a
 * failure is worth retrying (network errors, timeouts, 5xx and 429, the latter two after the sink's
 * Retry-After when it gives one) or final (any other answer; redirects are not followed).
 */
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { SinkRequest } from './sinks.ts';

export type Attempt = { ok: true } | { ok: false; error: string; retry: boolean; retryAfterMs?: number };

/** Bytes of a failed answer kept for the error message. */
const ERROR_BODY_BYTES = 300;

export async function attemptSink(req: SinkRequest, opts: { agent: Dispatcher; timeoutMs: number; stopping: AbortSignal; now: () => number }): Promise<Attempt> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await request(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      dispatcher: opts.agent,
      signal: AbortSignal.any([timeout, opts.stopping]),
    });
    const text = await readSome(res.body);
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
    const error = `HTTP ${res.statusCode}${text.trim() ? `: ${text.trim().replace(/\s+/g, ' ')}` : ''}`;
    if (res.statusCode === 429 || res.statusCode >= 500) {
      const after = retryAfterMs(res.headers['retry-after'], opts.now());
      return { ok: false, error, retry: true, ...(after === undefined ? {} : { retryAfterMs: after }) };
    }
    return { ok: false, error: res.statusCode < 400 ? `${error} (redirects are not followed)` : error, retry: false };
  } catch (err) {
    if (timeout.aborted) return { ok: false, error: `no answer within ${opts.timeoutMs} ms`, retry: true };
    if (opts.stopping.aborted) return { ok: false, error: 'cut short at shutdown', retry: true };
    const e = err as { code?: unknown; message?: unknown };
    return { ok: false, error: `${typeof e.code === 'string' ? `${e.code}: ` : ''}${typeof e.message === 'string' ? e.message : String(err)}`, retry: true };
  }
}

/** The first bytes of an answer, then the rest is dropped (closing the stream frees the connection). */
async function readSome(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= ERROR_BODY_BYTES) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length > ERROR_BODY_BYTES ? `${text.slice(0, ERROR_BODY_BYTES)}…` : text;
}

/** Retry-After as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
