/**
 * A real HTTP upstream that speaks the OpenAI and Anthropic APIs well enough for the official SDKs,
 * with deterministic usage (one word = one token) and per-request knobs (`x-sim-*` headers) for
 * latency, errors and broken streams. It records every call so tests can compare the ledger with what
 * the upstream reported and see which credentials reached it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { asObject } from '../json-object.ts';
import { anthropicCountTokens, anthropicMessages } from './anthropic-messages.ts';
import { openaiChat } from './openai-chat.ts';
import { openaiEmbeddings, openaiModels } from './openai-embeddings.ts';
import { openaiResponses } from './openai-responses.ts';
import { seededRandom } from '../../domain/seeded-random.ts';
import type { SimControls } from './sim-controls.ts';
import { readControls, SimRequestError } from './sim-controls.ts';
import type { SimEndpoint } from './sim-endpoint.ts';
import { planCall } from './sim-plan.ts';
import { SimReply } from './sim-reply.ts';
import type { SimulatedCall } from './simulated-call.ts';

export interface SimulatorOptions {
  /** Default time to first byte in ms (`x-sim-latency-ms` overrides). Default 0. */
  latencyMs?: number;
  /** Default delay between stream chunks in ms (`x-sim-chunk-delay-ms` overrides). Default 0. */
  chunkDelayMs?: number;
  /** Share of calls (0..1) answered with `errorStatus`, drawn from a PRNG seeded with `seed`. Default 0. */
  errorRate?: number;
  /** Status of the random errors. Default 500. */
  errorStatus?: number;
  /** PRNG seed: the same seed fails the same calls. Default 1. */
  seed?: number;
  /** Output tokens (words) generated when the request sets no lower cap and no header overrides. Default 12. */
  outputTokens?: number;
  /** Keep every call in `calls`. Default true; benchmarks turn it off to keep memory flat. */
  recordCalls?: boolean;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:40123` (OpenAI clients add `/v1`). */
  url: string;
  /** Every call so far, in arrival order (empty when `recordCalls` is false). */
  calls: SimulatedCall[];
  close(): Promise<void>;
}

const ENDPOINTS: ReadonlyMap<string, SimEndpoint> = new Map(
  (
    [
      ['/v1/chat/completions', openaiChat],
      ['/v1/responses', openaiResponses],
      ['/v1/embeddings', openaiEmbeddings],
      ['/v1/models', openaiModels],
      ['/v1/messages', anthropicMessages],
      ['/v1/messages/count_tokens', anthropicCountTokens],
    ] as const
  ).map(([path, endpoint]) => [`${endpoint.method} ${path}`, endpoint]),
);

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const calls: SimulatedCall[] = [];
  const state: ServerState = {
    options,
    record: options.recordCalls ?? true,
    calls,
    random: seededRandom(options.seed ?? 1),
    seq: 0,
  };
  const server = createServer((req, res) => {
    handle(req, res, state).catch((err: unknown) => internalError(res, err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets of SDK clients would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

interface ServerState {
  options: SimulatorOptions;
  record: boolean;
  calls: SimulatedCall[];
  random: () => number;
  seq: number;
}

async function handle(req: IncomingMessage, res: ServerResponse, state: ServerState): Promise<void> {
  const seq = ++state.seq;
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const endpoint = ENDPOINTS.get(`${req.method ?? 'GET'} ${path}`) ?? null;
  const dialect = endpoint?.dialect ?? (path.startsWith('/v1/messages') ? 'anthropic' : 'openai');
  const call: SimulatedCall = {
    route: endpoint?.route ?? null,
    method: req.method ?? 'GET',
    path,
    auth: credentialOf(req, dialect),
    headers: req.headers,
    body: {},
    model: null,
    stream: false,
    status: 0,
    usage: null,
    planned: null,
    sent: '',
    completed: false,
    broken: false,
    disconnected: false,
  };
  if (state.record) state.calls.push(call);
  const reply = new SimReply(res, call, dialect, seq, state.record);
  res.once('close', () => reply.onClose());

  if (endpoint === null) return reply.error(404, `Unknown request URL: ${req.method ?? ''} ${path}`);
  if (call.auth === null) {
    const header = dialect === 'anthropic' ? 'x-api-key' : 'Authorization: Bearer';
    return reply.error(401, `No API key provided: send it in the ${header} header.`);
  }
  let body: Record<string, unknown> = {};
  if (endpoint.method === 'POST') {
    const parsed = await readJson(req);
    if (parsed === null) return reply.error(400, 'We could not parse the JSON body of your request.');
    body = parsed;
  }
  call.body = body;
  let controls: SimControls;
  try {
    controls = readControls(req.headers, { latencyMs: state.options.latencyMs ?? 0, chunkDelayMs: state.options.chunkDelayMs ?? 0 });
  } catch (err) {
    if (err instanceof SimRequestError) return reply.error(400, err.message);
    throw err;
  }
  if (endpoint.method === 'POST' && typeof body.model !== 'string') return reply.error(400, 'model: field required');
  if (endpoint.route === 'anthropic.messages' && typeof body.max_tokens !== 'number') return reply.error(400, 'max_tokens: field required');

  const plan = planCall(body, controls, { seq, dialect, defaultOutputTokens: state.options.outputTokens ?? 12 });
  call.model = plan.model;
  call.stream = plan.stream && endpoint.route !== 'openai.embeddings';
  const randomError = (state.options.errorRate ?? 0) > 0 && state.random() < (state.options.errorRate ?? 0) ? (state.options.errorStatus ?? 500) : null;

  if (controls.latencyMs > 0) await sleep(controls.latencyMs);
  if (reply.closed) return;
  const status = controls.errorStatus ?? randomError;
  if (status !== null) return reply.error(status, `Simulated error ${status}.`);
  const answer = endpoint.answer(body, plan);
  call.planned = answer.kind === 'stream' ? plan.usage : answer.usage;
  if (answer.kind === 'json') return reply.json(answer, controls);
  return reply.stream(answer, plan.usage, controls);
}

/** A bug in the simulator answers 500 with its message (or cuts a started stream): tests see it, the process lives. */
function internalError(res: ServerResponse, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify({ error: { message: `simulator bug: ${message}`, type: 'server_error', param: null, code: null } });
  res.writeHead(500, { 'content-type': 'application/json' }).end(text);
}

function credentialOf(req: IncomingMessage, dialect: 'openai' | 'anthropic'): string | null {
  const key = req.headers['x-api-key'];
  if (dialect === 'anthropic' && typeof key === 'string' && key !== '') return key;
  // Anthropic also accepts OAuth bearer tokens (the SDK's `authToken`).
  const authorization = req.headers.authorization;
  return authorization !== undefined && /^Bearer \S/.test(authorization) ? authorization : null;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return asObject(value);
  } catch {
    return null; // unparsable body, or the client went away mid-upload
  }
}
