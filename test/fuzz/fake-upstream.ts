/**
 * A misbehaving upstream on 127.0.0.1 port 0. Without a script it answers every API route with a small
 * valid reply (streamed when asked); a request carrying `x-sim-fuzz: <id>` gets the script registered
 * under that id instead, written chunk by chunk (each flushed on its own, so split lines and split
 * UTF-8 sequences reach the gateway as separate TCP reads), then ended, cut, or never answered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface UpstreamScript {
  status: number;
  headers: Record<string, string>;
  /** Written one at a time, each in its own TCP segment. */
  chunks: Uint8Array[];
  /** `end`: a normal end; `cut`: the socket is destroyed after the chunks (a body cut mid-event); `hang-up`: destroyed before any byte. */
  ending: 'end' | 'cut' | 'hang-up';
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The `x-sim-fuzz` id, when the request had one. */
  script: string | null;
}

export interface FakeUpstream {
  /** Base URL without a path, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every request received, in arrival order. */
  received: ReceivedRequest[];
  /** Registers the reply to requests carrying `x-sim-fuzz: <id>`. */
  script(id: string, s: UpstreamScript): void;
  close(): Promise<void>;
}

/** Usage of the default replies: small enough for any request's bound. */
export const DEFAULT_USAGE = { input: 7, output: 1 };

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const scripts = new Map<string, UpstreamScript>();
  const received: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const id = req.headers['x-sim-fuzz'];
      const script = typeof id === 'string' ? (scripts.get(id) ?? null) : null;
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, script: typeof id === 'string' ? id : null });
      if (typeof id === 'string') scripts.delete(id);
      void (script ? play(res, script) : answer(req, res, body));
    });
  });
  server.on('connection', (s: Socket) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script: (id, s) => void scripts.set(id, s),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function play(res: ServerResponse, s: UpstreamScript): Promise<void> {
  if (s.ending === 'hang-up') {
    res.socket?.destroy();
    return;
  }
  res.writeHead(s.status, s.headers);
  res.flushHeaders();
  for (const chunk of s.chunks) {
    if (res.destroyed) return;
    await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
    // A turn of the event loop between writes: each chunk leaves in its own segment.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (s.ending === 'cut') res.socket?.destroy();
  else res.end();
}

/** A small valid reply in the API's own shape, streamed when the request asked for a stream. */
function answer(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  let parsed: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) parsed = v as Record<string, unknown>;
  } catch {
    // The gateway forwards only JSON objects; anything else is answered like an empty request.
  }
  const model = typeof parsed['model'] === 'string' ? parsed['model'] : 'unknown';
  const stream = parsed['stream'] === true;
  const path = (req.url ?? '').split('?')[0];
  const { input, output } = DEFAULT_USAGE;
  const json = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const sse = (events: string[]) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(events.join(''));
  };
  switch (path) {
    case '/v1/chat/completions': {
      if (!stream) return json(200, { id: 'c1', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output } });
      const wantsUsage = (parsed['stream_options'] as { include_usage?: unknown } | undefined)?.include_usage === true;
      return sse([
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: 'ok' } }] })}\n\n`,
        ...(wantsUsage ? [`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [], usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output } })}\n\n`] : []),
        'data: [DONE]\n\n',
      ]);
    }
    case '/v1/responses': {
      const response = { id: 'r1', object: 'response', model, status: 'completed', output: [], usage: { input_tokens: input, output_tokens: output, total_tokens: input + output } };
      if (!stream) return json(200, response);
      return sse([
        `event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', delta: 'ok' })}\n\n`,
        `event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response })}\n\n`,
      ]);
    }
    case '/v1/embeddings':
      return json(200, { object: 'list', model, data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], usage: { prompt_tokens: input, total_tokens: input } });
    case '/v1/messages': {
      const usage = { input_tokens: input, output_tokens: output };
      if (!stream) return json(200, { id: 'm1', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage });
      return sse([
        `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm1', type: 'message', role: 'assistant', model, content: [], usage: { input_tokens: input, output_tokens: 1 } } })}\n\n`,
        `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } })}\n\n`,
        `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: output } })}\n\n`,
        `event: message_stop\ndata: ${JSON.stringify({ type: 'message_stop' })}\n\n`,
      ]);
    }
    case '/v1/messages/count_tokens':
      return json(200, { input_tokens: input });
    default:
      return json(404, { error: { message: `no route ${path}`, type: 'invalid_request_error' } });
  }
}
