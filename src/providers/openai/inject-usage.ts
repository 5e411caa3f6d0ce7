/** The result of `injectStreamUsage`. */
export interface InjectedBody {
  /** The body to send upstream (a copy when changed; the input is never mutated). */
  body: Record<string, unknown>;
  /** True when the gateway asked for usage itself, so the usage-only chunk must not reach the client. */
  injected: boolean;
}

/**
 * Makes a streamed chat request report its usage: without `stream_options.include_usage` OpenAI sends
 * no usage at all in a stream, and the call could not be billed exactly.
 */
export function injectStreamUsage(body: Readonly<Record<string, unknown>>): InjectedBody {
  if (body.stream !== true) return { body, injected: false };
  const options = body.stream_options;
  if (options === undefined || options === null) {
    return { body: { ...body, stream_options: { include_usage: true } }, injected: true };
  }
  // A non-object is the client's mistake: left as sent, the upstream answers it with its own error.
  if (typeof options !== 'object' || Array.isArray(options)) return { body, injected: false };
  const opts = options as Record<string, unknown>;
  if (opts.include_usage === true) return { body, injected: false };
  return { body: { ...body, stream_options: { ...opts, include_usage: true } }, injected: true };
}
