/**
 * Load for the crash and outage tests, and the audit that compares what clients received with the
 * ledger. Calls are plain and streamed chat completions through the official OpenAI SDK, and streams
 * read raw with undici (to see the `[DONE]` event apart from the end of the body). A response is
 * "fully received" when the client read it to its end without error.
 */
import OpenAI from 'openai';
import { request } from 'undici';
import { nanoToDecimalString } from '../../src/domain/money.ts';
import type { Usage } from '../../src/domain/usage.ts';
import { usage as makeUsage } from '../../src/domain/usage.ts';
import type { LedgerEvent, Store } from '../../src/ledger/contract.ts';
import type { Pricer } from '../../src/pricing/index.ts';

export type CallKind = 'sdk-json' | 'sdk-stream' | 'raw-stream';

export interface CallOutcome {
  kind: CallKind;
  /** x-tollgate-request-id; null when no response headers arrived. */
  id: string | null;
  status: number | null;
  /** Read to its end without error. */
  complete: boolean;
  /** Usage as the client saw it (complete 200 responses). */
  usage: Usage | null;
  /** x-tollgate-cost-usd (plain calls). */
  costHeader: string | null;
  /** Raw streams: the `data: [DONE]` event arrived (the body may still have been cut after it). */
  sawDone: boolean;
  /** The error code of a refusal (`budget_exceeded`, `unavailable`…), or the transport error. */
  error: string | null;
}

export interface CallShape {
  outputTokens: number;
  chunkDelayMs: number;
  latencyMs: number;
  /** max_tokens of the request: keeps the reserved bound small under a tight budget. */
  maxTokens?: number;
}

interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

function fromChat(u: ChatUsage | null | undefined): Usage | null {
  if (!u) return null;
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return makeUsage({ inputTokens: u.prompt_tokens - cached, cacheReadTokens: cached, outputTokens: u.completion_tokens, reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0 });
}

export const MODEL = 'gpt-4.1-mini';

/** One call of the given kind; never throws (a failure is an outcome). */
export async function runCall(kind: CallKind, client: OpenAI, url: string, key: string, shape: CallShape): Promise<CallOutcome> {
  const o: CallOutcome = { kind, id: null, status: null, complete: false, usage: null, costHeader: null, sawDone: false, error: null };
  const headers = { 'x-sim-output-tokens': String(shape.outputTokens), 'x-sim-chunk-delay-ms': String(shape.chunkDelayMs), 'x-sim-latency-ms': String(shape.latencyMs) };
  const messages = [{ role: 'user' as const, content: 'count the tokens of this crash test' }];
  const limit = shape.maxTokens === undefined ? {} : { max_tokens: shape.maxTokens };
  try {
    if (kind === 'sdk-json') {
      const { data, response } = await client.chat.completions.create({ model: MODEL, messages, ...limit }, { headers }).withResponse();
      o.id = response.headers.get('x-tollgate-request-id');
      o.status = response.status;
      o.costHeader = response.headers.get('x-tollgate-cost-usd');
      o.usage = fromChat(data.usage);
      o.complete = true;
    } else if (kind === 'sdk-stream') {
      const { data, response } = await client.chat.completions.create({ model: MODEL, messages, ...limit, stream: true, stream_options: { include_usage: true } }, { headers }).withResponse();
      o.id = response.headers.get('x-tollgate-request-id');
      o.status = response.status;
      for await (const chunk of data) if (chunk.usage) o.usage = fromChat(chunk.usage);
      o.complete = true;
    } else {
      const res = await request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: MODEL, messages, ...limit, stream: true, stream_options: { include_usage: true } }),
      });
      o.id = (res.headers['x-tollgate-request-id'] as string | undefined) ?? null;
      o.status = res.statusCode;
      let text = '';
      try {
        for await (const chunk of res.body) {
          text += (chunk as Buffer).toString();
          if (text.includes('data: [DONE]')) o.sawDone = true;
        }
      } finally {
        if (res.statusCode === 200) {
          const last = text.split('\n').filter((l) => l.startsWith('data: {') && l.includes('"usage":{')).at(-1);
          o.usage = last ? fromChat((JSON.parse(last.slice(6)) as { usage: ChatUsage }).usage) : null;
        } else {
          o.error = /"code":"(\w+)"/.exec(text)?.[1] ?? `http_${res.statusCode}`;
        }
      }
      o.complete = res.statusCode === 200 ? o.sawDone : true;
    }
  } catch (err) {
    const e = err as { status?: number; code?: string; error?: { code?: string }; headers?: Headers; message?: string };
    if (typeof e.status === 'number') {
      // The SDK's APIError: a complete error response (a refusal), with its headers.
      o.status = e.status;
      o.id = e.headers?.get('x-tollgate-request-id') ?? o.id;
      o.error = e.error?.code ?? e.code ?? `http_${e.status}`;
      o.complete = true;
    } else {
      o.error = e.code ?? e.message ?? String(err);
    }
  }
  return o;
}

/** An OpenAI SDK client on the gateway; no retries, so each call is one request. */
export function sdkClient(url: string, key: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, timeout: 30_000 });
}

export interface Audit {
  sent: number;
  /** 200 responses read to their end. */
  received: number;
  /** Complete refusals (4xx/5xx answered by the gateway). */
  refused: number;
  /** Calls cut (the gateway died, or the connection broke). */
  cut: number;
  /** Ledger rows of the scope. */
  rows: number;
  /** Received responses with no row. */
  lost: number;
  /** Rows counted more than once (events vs distinct ids, and rollups vs events). */
  duplicated: number;
  /** Received responses whose row has another usage or cost than the client saw. */
  wrongCost: number;
  /** Raw streams cut after their `[DONE]` event arrived, and how many of those have no row. */
  cutAfterDone: number;
  cutAfterDoneWithoutRow: number;
  /** Rows of calls the client did not receive in full (cut mid-way): billed as used, never lost. */
  rowsOfCutCalls: number;
  problems: string[];
}

/** Compares what clients received with the ledger rows of the agent `agentId`. */
export async function audit(store: Store, pricer: Pricer, outcomes: readonly CallOutcome[], agentId: string): Promise<Audit> {
  const within = { tier: 'agent' as const, id: agentId };
  const rows = new Map<string, LedgerEvent>();
  let events = 0;
  for (let cursor: string | null | undefined; ; ) {
    const page = await store.ledger.events({ within, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const r of page.rows) rows.set(r.id, r);
    events += page.rows.length;
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  const totals = await store.ledger.totals({ within });
  const spend = await store.ledger.spend({ from: 0, to: Date.now() + 86_400_000, groupBy: 'agent', within });
  const rollupCalls = spend.reduce((n, r) => n + r.calls, 0);
  const rollupCost = spend.reduce((n, r) => n + r.effectiveCostNano, 0n);
  const a: Audit = { sent: outcomes.length, received: 0, refused: 0, cut: 0, rows: totals.calls, lost: 0, duplicated: 0, wrongCost: 0, cutAfterDone: 0, cutAfterDoneWithoutRow: 0, rowsOfCutCalls: 0, problems: [] };
  a.duplicated = events - rows.size + Math.abs(totals.calls - rows.size) + Math.abs(rollupCalls - totals.calls);
  if (rollupCost !== totals.effectiveCostNano) {
    a.duplicated++;
    a.problems.push(`rollups hold ${rollupCost} nano-USD, events ${totals.effectiveCostNano}`);
  }
  for (const o of outcomes) {
    const row = o.id ? rows.get(o.id) : undefined;
    if (!o.complete) {
      a.cut++;
      if (row) a.rowsOfCutCalls++;
      if (o.sawDone) {
        a.cutAfterDone++;
        if (!row) a.cutAfterDoneWithoutRow++;
      }
      continue;
    }
    if (o.status !== 200) {
      a.refused++;
      continue;
    }
    a.received++;
    if (!row) {
      a.lost++;
      a.problems.push(`${o.kind} ${o.id ?? '(no id)'} was received in full but has no ledger row`);
      continue;
    }
    const expected = o.usage ? pricer.price(row.provider, row.servedModel, o.usage, row.startedAt).effectiveNano : null;
    const sameUsage = o.usage !== null && (['inputTokens', 'cacheReadTokens', 'outputTokens', 'reasoningTokens'] as const).every((f) => row.usage[f] === o.usage![f]);
    const headerOk = o.kind !== 'sdk-json' || o.costHeader === nanoToDecimalString(row.effectiveCostNano);
    if (!sameUsage || expected !== row.effectiveCostNano || expected <= 0n || !headerOk || row.status !== 200 || row.estimated) {
      a.wrongCost++;
      a.problems.push(`${o.kind} ${o.id}: client saw ${JSON.stringify(o.usage)} (${expected} nano-USD, header ${o.costHeader}), row has ${JSON.stringify(row.usage)} (${row.effectiveCostNano}, status ${row.status}, estimated ${row.estimated})`);
    }
  }
  return a;
}

/** The figures as one line for the test log. */
export function figures(label: string, a: Audit, extra: Record<string, string | number> = {}): string {
  const parts: Record<string, string | number> = {
    sent: a.sent,
    received: a.received,
    refused: a.refused,
    cut: a.cut,
    'ledger rows': a.rows,
    lost: a.lost,
    duplicated: a.duplicated,
    'wrong cost': a.wrongCost,
    'rows of cut calls': a.rowsOfCutCalls,
    'cut after [DONE]': a.cutAfterDone,
    '…of which no row': a.cutAfterDoneWithoutRow,
    ...extra,
  };
  return `[${label}] ` + Object.entries(parts).map(([k, v]) => `${k}: ${v}`).join(', ');
}
