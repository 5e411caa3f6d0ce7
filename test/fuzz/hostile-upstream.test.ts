/**
 * A misbehaving upstream: SSE split across TCP reads at any byte (inside a line, inside a UTF-8
 * sequence), CRLF/CR/LF line ends, comment lines, events past the size limit, a missing `[DONE]` or
 * final event, a body cut mid-event, a connection dropped before any byte, the wrong content type,
 * error statuses, and usage with negative, fractional, huge, non-numeric or missing counts and odd
 * served-model names.
 *
 * Every call gets an answer (the upstream's status, or 502/504 in the route's own shape); a stream
 * that did not end properly ends with an error event; every call has exactly one ledger row priced
 * exactly from its own usage, held within what the request could produce; usage that cannot be
 * trusted is flagged `usage_suspect` (and estimated), and usage that can is recorded as reported.
 */
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costBound } from '../../src/gateway/cost-bound.ts';
import type { ApiRoute } from '../../src/providers/index.ts';
import { MAX_TOKEN_COUNT } from '../../src/providers/index.ts';
import type { FuzzGateway } from './fuzz-gateway.ts';
import { FUZZ_RUNS, FUZZ_SEED, FUZZ_TIMEOUT_MS, expectAlive, expectErrorShape, expectPricedExactly, expectWholeLedgerPriced, shapeOf, startFuzzGateway } from './fuzz-gateway.ts';

interface RouteSpec {
  route: ApiRoute;
  path: string;
  model: string;
  /** Served-model names that are fine for this model: the model and one of its snapshots. */
  snapshots: string[];
  /** A model that is listed and priced far above this one. */
  dearer: string;
  streams: boolean;
}

const ROUTES: RouteSpec[] = [
  { route: 'openai.chat', path: '/v1/chat/completions', model: 'gpt-4.1-mini', snapshots: ['gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14'], dearer: 'o1-pro', streams: true },
  { route: 'openai.responses', path: '/v1/responses', model: 'gpt-4.1-mini', snapshots: ['gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14'], dearer: 'o1-pro', streams: true },
  { route: 'anthropic.messages', path: '/v1/messages', model: 'claude-haiku-4-5', snapshots: ['claude-haiku-4-5', 'claude-haiku-4-5-20251001'], dearer: 'claude-opus-4-1', streams: true },
  { route: 'openai.embeddings', path: '/v1/embeddings', model: 'text-embedding-3-small', snapshots: ['text-embedding-3-small'], dearer: 'text-embedding-3-large', streams: false },
];

/** A reported count: usually a fine one, often not. `undefined` leaves the field out. */
type Count = number | string | boolean | null | undefined | object;
const BAD_COUNTS: Count[] = [-1, -1000, 0.5, 1.5, 1e12, MAX_TOKEN_COUNT + 1, 1e308, 2 ** 53 + 2, '12', 'NaN', '', null, true, {}, [], undefined];
const count = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 41, max: 200_000 }) }, { weight: 3, arbitrary: fc.constantFrom(...BAD_COUNTS) });
const okCount = (c: Count): c is number => typeof c === 'number' && Number.isInteger(c) && c >= 0 && c <= MAX_TOKEN_COUNT;

interface Reported {
  input: Count;
  cached: Count;
  output: Count;
  reasoning: Count;
  /** Anthropic's cache writes (5 minutes). */
  write: Count;
}

type Served = 'routed' | 'snapshot' | 'dearer' | 'unknown' | 'empty' | 'long' | 'absent';

interface Case {
  spec: RouteSpec;
  stream: boolean;
  maxTokens: number | null;
  reported: Reported;
  served: Served;
  /** Text of each generated delta. */
  deltas: string[];
  eol: '\n' | '\r\n' | '\r';
  comments: boolean;
  /** Leave out the final event ([DONE], message_stop, response.completed). */
  dropEnd: boolean;
  /** Characters of an event past the splitter's 8 MiB bound, sent before the usage (0: none). */
  giant: number;
  /** An event no parser should understand. */
  junkEvent: boolean;
  status: number;
  contentType: string | null;
  ending: 'end' | 'cut' | 'hang-up';
  /** Where the body is cut (fraction of its bytes) when `ending` is `cut`. */
  cutAt: number;
  /** Chunk boundaries, as fractions of the body's bytes. */
  splits: number[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    spec: fc.constantFrom(...ROUTES),
    stream: fc.boolean(),
    maxTokens: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 4096 })),
    reported: fc.record({ input: count, cached: fc.oneof(fc.constant(undefined), count), output: count, reasoning: fc.oneof(fc.constant(undefined), count), write: fc.oneof(fc.constant(undefined), count) }),
    served: fc.constantFrom<Served>('routed', 'routed', 'routed', 'snapshot', 'dearer', 'unknown', 'empty', 'long', 'absent'),
    deltas: fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('é', '€', '😀', 'data: x\n\n', '\r\n\r\n', '"}')), { maxLength: 6 }),
    eol: fc.constantFrom<Case['eol']>('\n', '\n', '\r\n', '\r'),
    comments: fc.boolean(),
    dropEnd: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    giant: fc.oneof({ weight: 40, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(8 * 1024 * 1024 + 17) }),
    junkEvent: fc.boolean(),
    status: fc.oneof({ weight: 12, arbitrary: fc.constant(200) }, { weight: 1, arbitrary: fc.constantFrom(400, 401, 404, 429, 500, 503, 529) }),
    contentType: fc.oneof({ weight: 6, arbitrary: fc.constant('natural') }, { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', 'text/event-stream; charset=utf-8', 'text/html', null) }),
    ending: fc.oneof({ weight: 10, arbitrary: fc.constant<'end'>('end') }, { weight: 2, arbitrary: fc.constant<'cut'>('cut') }, { weight: 1, arbitrary: fc.constant<'hang-up'>('hang-up') }),
    cutAt: fc.double({ min: 0, max: 1, noNaN: true }),
    splits: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
  })
  .map((c) => ({ ...c, stream: c.stream && c.spec.streams, contentType: c.contentType === 'natural' ? null : c.contentType, naturalType: c.contentType === 'natural' }))
  .map(({ naturalType, ...c }) => ({ ...c, contentType: naturalType ? (c.stream ? 'text/event-stream' : 'application/json') : c.contentType }));

function servedName(c: Case): string | undefined {
  switch (c.served) {
    case 'routed':
      return c.spec.model;
    case 'snapshot':
      return c.spec.snapshots.at(-1);
    case 'dearer':
      return c.spec.dearer;
    case 'unknown':
      return 'no-such-model-anywhere';
    case 'empty':
      return '';
    case 'long':
      return 'm'.repeat(300);
    case 'absent':
      return undefined;
  }
}

/** A usage object with the reported counts (a field whose count is `undefined` is left out). */
function usageObject(fields: Record<string, Count>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

function openAiUsage(c: Case, names: { input: string; output: string; inputDetails: string; outputDetails: string }): Record<string, unknown> {
  const r = c.reported;
  return usageObject({
    [names.input]: r.input,
    [names.output]: r.output,
    ...(r.cached === undefined ? {} : { [names.inputDetails]: usageObject({ cached_tokens: r.cached }) }),
    ...(r.reasoning === undefined ? {} : { [names.outputDetails]: usageObject({ reasoning_tokens: r.reasoning }) }),
  });
}

/** The events (or JSON body) the upstream sends, before line ends, comments and chunking are applied. */
function replyOf(c: Case): { events: string[]; body: string | null } {
  const model = servedName(c);
  const withModel = (o: Record<string, unknown>) => (model === undefined ? o : { ...o, model });
  const r = c.reported;
  switch (c.spec.route) {
    case 'openai.chat': {
      const usage = openAiUsage(c, { input: 'prompt_tokens', output: 'completion_tokens', inputDetails: 'prompt_tokens_details', outputDetails: 'completion_tokens_details' });
      if (!c.stream) return { events: [], body: JSON.stringify(withModel({ id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: c.deltas.join('') } }], usage })) };
      return {
        events: [
          ...c.deltas.map((d) => `data: ${JSON.stringify(withModel({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: d } }] }))}`),
          `data: ${JSON.stringify(withModel({ id: 'c', object: 'chat.completion.chunk', choices: [], usage }))}`,
          'data: [DONE]',
        ],
        body: null,
      };
    }
    case 'openai.responses': {
      const response = withModel({ id: 'r', object: 'response', status: 'completed', usage: openAiUsage(c, { input: 'input_tokens', output: 'output_tokens', inputDetails: 'input_tokens_details', outputDetails: 'output_tokens_details' }) });
      if (!c.stream) return { events: [], body: JSON.stringify(response) };
      return {
        events: [
          `event: response.created${c.eol}data: ${JSON.stringify({ type: 'response.created', response: withModel({ id: 'r', status: 'in_progress', usage: null }) })}`,
          ...c.deltas.map((d) => `event: response.output_text.delta${c.eol}data: ${JSON.stringify({ type: 'response.output_text.delta', delta: d })}`),
          `event: response.completed${c.eol}data: ${JSON.stringify({ type: 'response.completed', response })}`,
        ],
        body: null,
      };
    }
    case 'anthropic.messages': {
      const input = usageObject({ input_tokens: r.input, cache_read_input_tokens: r.cached, cache_creation_input_tokens: r.write });
      if (!c.stream) return { events: [], body: JSON.stringify(withModel({ id: 'm', type: 'message', role: 'assistant', content: [{ type: 'text', text: c.deltas.join('') }], usage: { ...input, ...usageObject({ output_tokens: r.output }) } })) };
      const ev = (type: string, data: Record<string, unknown>) => `event: ${type}${c.eol}data: ${JSON.stringify({ type, ...data })}`;
      return {
        events: [
          ev('message_start', { message: withModel({ id: 'm', type: 'message', role: 'assistant', content: [], usage: { ...input, output_tokens: 1 } }) }),
          ...c.deltas.map((d) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: d } })),
          ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: usageObject({ output_tokens: r.output }) }),
          ev('message_stop', {}),
        ],
        body: null,
      };
    }
    case 'openai.embeddings':
      return { events: [], body: JSON.stringify(withModel({ object: 'list', data: [], usage: usageObject({ prompt_tokens: r.input, total_tokens: r.input }) })) };
  }
}

/** An optional count: absent and null both mean "not reported". */
const okOptional = (c: Count): boolean => c === undefined || c === null || okCount(c);
const valueOf = (c: Count): number => (okCount(c) ? c : 0);

/**
 * The output count the upstream reported. An Anthropic stream reports it twice: message_start's first
 * tick (1 here), then message_delta's total; a delta without one leaves the tick standing.
 */
function outputOf(c: Case): Count {
  const o = c.reported.output;
  return c.spec.route === 'anthropic.messages' && c.stream && (o === undefined || o === null) ? 1 : o;
}

/** The reported usage is well-formed (every count fine, the parts within their totals). */
function reportedIsValid(c: Case): boolean {
  const r = { ...c.reported, output: outputOf(c) };
  if (!okCount(r.input)) return false;
  if (c.spec.route === 'openai.embeddings') return true;
  if (!okCount(r.output) || !okOptional(r.cached)) return false;
  if (c.spec.route === 'anthropic.messages') return okOptional(r.write);
  return okOptional(r.reasoning) && valueOf(r.reasoning) <= r.output && valueOf(r.cached) <= r.input;
}

/** What the upstream writes: the reply with its line ends, comments, junk and giant events, split into chunks. */
function scriptOf(c: Case): { chunks: Uint8Array[]; bytes: number } {
  const { events, body } = replyOf(c);
  let text: string;
  if (body !== null) text = body;
  else {
    const out: string[] = [];
    const withEnd = c.dropEnd ? events.slice(0, -1) : events;
    withEnd.forEach((e, i) => {
      if (c.comments) out.push(`: keep-alive ${i}`);
      if (c.junkEvent && i === 1) out.push(`event: ???${c.eol}data: {"usage": "lots", "type": 7`);
      if (c.giant > 0 && i === withEnd.length - 2) out.push(`data: ${'g'.repeat(c.giant)}`);
      out.push(e.replaceAll('\n', c.eol));
    });
    text = out.map((e) => e + c.eol + c.eol).join('');
  }
  let bytes: Uint8Array = new TextEncoder().encode(text);
  if (c.ending === 'cut') bytes = bytes.subarray(0, Math.floor(bytes.length * c.cutAt));
  const cuts = [...new Set(c.splits.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    if (at > from) chunks.push(bytes.subarray(from, at));
    from = Math.max(from, at);
  }
  return { chunks, bytes: bytes.length };
}

function requestBody(c: Case): Record<string, unknown> {
  const { route, model } = c.spec;
  const max = c.maxTokens === null ? {} : route === 'openai.responses' ? { max_output_tokens: c.maxTokens } : { max_tokens: c.maxTokens };
  switch (route) {
    case 'openai.chat':
      return { model, stream: c.stream, messages: [{ role: 'user', content: 'hello there' }], ...max };
    case 'openai.responses':
      return { model, stream: c.stream, input: 'hello there', ...max };
    case 'anthropic.messages':
      return { model, stream: c.stream, max_tokens: c.maxTokens ?? 1024, messages: [{ role: 'user', content: 'hello there' }] };
    case 'openai.embeddings':
      return { model, input: 'hello there' };
  }
}

let next = 0;
/** How often each decided branch was checked: a run that never reached one would prove nothing about it. */
const checked = { absurdFlagged: 0, soundKept: 0, overBoundFlagged: 0, brokenStreamErrored: 0, gatewayErrors: 0 };

async function upstreamMisbehaves(g: FuzzGateway, c: Case): Promise<void> {
  const id = `case-${next++}`;
  const { chunks } = scriptOf(c);
  g.upstream.script(id, { status: c.status, headers: c.contentType === null ? {} : { 'content-type': c.contentType }, chunks, ending: c.ending });
  const body = requestBody(c);
  const res = await request(g.h.url + c.spec.path, {
    method: 'POST',
    headers: { authorization: `Bearer ${g.h.secret}`, 'content-type': 'application/json', 'x-sim-fuzz': id },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  const what = `${c.spec.path} ${c.stream ? 'stream' : 'body'} ${c.ending} ${c.status} ${c.contentType ?? 'no content-type'}`;

  // An answer: the upstream's own status, or the gateway's 502/504 in the route's shape.
  const gatewayError = res.statusCode !== c.status || c.ending !== 'end';
  if (res.statusCode !== c.status) {
    expect([502, 504], `${what}: ${res.statusCode} ${text.slice(0, 200)}`).toContain(res.statusCode);
    expectErrorShape(shapeOf(c.spec.path), text, what);
    checked.gatewayErrors++;
  }
  const sse = String(res.headers['content-type'] ?? '').includes('text/event-stream');
  const brokenStream = c.stream && c.status === 200 && sse && (c.ending !== 'end' || c.dropEnd);
  if (brokenStream) {
    expect(text, `${what}: a broken stream must end with an error event`).toMatch(c.spec.route === 'anthropic.messages' ? /event: error\ndata: \{"type":"error"/ : /data: \{"error":\{"message":/);
    checked.brokenStreamErrored++;
  }

  // One row, priced exactly from its own usage, within the request's bound.
  const requestId = res.headers['x-tollgate-request-id'];
  expect(typeof requestId, what).toBe('string');
  await g.h.gateway.writer.flush();
  const row = await g.h.store.ledger.get(requestId as string);
  expect(row, `${what}: no ledger row`).not.toBeNull();
  expectPricedExactly(row!, g.pricer);
  const sent = g.upstream.received.find((r) => r.script === id);
  if (sent) {
    const bound = costBound(g.pricer, row!.provider, c.spec.model, c.spec.route, JSON.parse(sent.body.toString('utf8')) as Record<string, unknown>, sent.body.length, row!.startedAt);
    const u = row!.usage;
    expect(u.outputTokens, `${what}: output past the bound`).toBeLessThanOrEqual(bound.outputTokens);
    expect(u.inputTokens + u.cacheReadTokens + u.cacheWrite5mTokens + u.cacheWrite1hTokens, `${what}: input past the ceiling`).toBeLessThanOrEqual(bound.inputCeiling);

    // Delivered intact: what the gateway did with the usage is decided, not left to chance.
    const intact = c.status === 200 && c.ending === 'end' && (!c.stream || (sse && !c.dropEnd));
    if (intact && !gatewayError) {
      const suspect = row!.tags['usage_suspect'];
      if (!reportedIsValid(c)) {
        expect(suspect, `${what}: absurd usage ${JSON.stringify(c.reported)} was trusted`).toBeDefined();
        expect(row!.estimated).toBe(true);
        // Salvaged usage is held within the body's bound: never billed past what admission reserved.
        expect(row!.effectiveCostNano <= bound.costNano, `${what}: salvaged usage billed ${row!.effectiveCostNano} past the reservation ${bound.costNano}`).toBe(true);
        checked.absurdFlagged++;
      } else {
        const output = c.spec.route === 'openai.embeddings' ? 0 : valueOf(outputOf(c));
        const input = valueOf(c.reported.input) + (c.spec.route === 'anthropic.messages' ? valueOf(c.reported.cached) + valueOf(c.reported.write) : 0);
        const withinBound = output <= bound.outputTokens && input <= bound.inputCeiling;
        const goodModel = c.served === 'routed' || c.served === 'snapshot' || c.served === 'absent';
        if (withinBound && goodModel) {
          expect(suspect, `${what}: sound usage ${JSON.stringify(c.reported)} flagged`).toBeUndefined();
          expect(row!.estimated).toBe(false);
          expect(row!.usage.outputTokens).toBe(output);
          checked.soundKept++;
        }
        if (!withinBound) {
          expect(suspect, `${what}: usage past the bound not flagged`).toMatch(/> bound \d+/);
          checked.overBoundFlagged++;
        }
      }
    }
  }
  await expectAlive(g.h.url);
}

describe('a misbehaving upstream', () => {
  let g: FuzzGateway;
  beforeAll(async () => {
    g = await startFuzzGateway();
  });
  afterAll(async () => {
    await g?.close();
  });

  it('split, cut, unterminated, oversized and mistyped replies with absurd usage: an answer, one exact row, suspect usage flagged', { timeout: FUZZ_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, (c) => upstreamMisbehaves(g, c)),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED, endOnFailure: true },
    );
    for (const [branch, n] of Object.entries(checked)) expect(n, `${branch} never checked in ${FUZZ_RUNS} runs: ${JSON.stringify(checked)}`).toBeGreaterThan(0);
  });

  it('count_tokens: an upstream that drops the connection or answers junk gets a 502 or its own answer, never a 500', async () => {
    for (const [ending, body] of [['hang-up', ''], ['cut', '{"input_tok'], ['end', 'not json']] as const) {
      const id = `count-${ending}`;
      g.upstream.script(id, { status: 200, headers: { 'content-type': 'application/json' }, chunks: [Buffer.from(body)], ending });
      const res = await request(`${g.h.url}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${g.h.secret}`, 'content-type': 'application/json', 'x-sim-fuzz': id },
        body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] }),
      });
      const text = await res.body.text();
      if (ending === 'end') expect(res.statusCode).toBe(200);
      else {
        expect(res.statusCode, `${ending}: ${text}`).toBe(502);
        expectErrorShape('anthropic', text, `count_tokens ${ending}`);
      }
      await expectAlive(g.h.url);
    }
  });

  it('an upstream cannot set the gateway\'s own headers', async () => {
    for (const stream of [false, true]) {
      const id = `own-headers-${stream}`;
      const reply = stream ? 'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\ndata: [DONE]\n\n' : '{"usage":{"prompt_tokens":1,"completion_tokens":1}}';
      g.upstream.script(id, { status: 200, headers: { 'content-type': stream ? 'text/event-stream' : 'application/json', 'x-tollgate-request-id': 'req_forged', 'x-tollgate-cost-usd': '0.000000000' }, chunks: [Buffer.from(reply)], ending: 'end' });
      const res = await request(`${g.h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${g.h.secret}`, 'content-type': 'application/json', 'x-sim-fuzz': id },
        body: JSON.stringify({ model: 'gpt-4.1-mini', stream, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.body.dump();
      expect(res.headers['x-tollgate-request-id']).not.toBe('req_forged');
      expect(res.headers['x-tollgate-cost-usd']).not.toBe('0.000000000');
    }
  });

  it('every row the fuzzing wrote is priced exactly', async () => {
    expect(await expectWholeLedgerPriced(g)).toBeGreaterThan(0);
  });
});
