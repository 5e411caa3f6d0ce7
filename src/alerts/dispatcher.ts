/**
 * Sends alerts to every configured sink without ever making the caller wait: `deliver()` starts one
 * task per sink and returns. Each task tries up to `maxAttempts` times with a per-attempt deadline;
 * network errors, timeouts, 5xx and 429 are retried after an exponential backoff with jitter (or
 * the sink's Retry-After, capped), any other answer is final. The outcome is logged in the store's
 * delivery log: `delivered`, or `dead` with the last error (the dead-letter log). `drain()` waits
 * for every task; `close()` gives up on retries after a deadline and records what was left as dead.
 */
import { Agent, request } from 'undici';
import type { AlertEvent, AnomalyAlert, NewDelivery } from '../ledger/anomalies-contract.ts';
import type { AlertsConfig } from './config.ts';
import type { AlertPayload } from './payload.ts';
import { alertPayload } from './payload.ts';
import type { Sink } from './sinks.ts';
import { scrub, slackSink, webhookSink } from './sinks.ts';

/** Where outcomes are kept: `store.anomalies` fits. */
export interface DeliveryLog {
  recordDelivery(delivery: NewDelivery): Promise<unknown>;
}

export interface AlertLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DispatcherOptions {
  sinks: readonly Sink[];
  deliveries: DeliveryLog;
  /** Base URL of the dashboard, for the link in every alert. */
  dashboardUrl?: string | null;
  /** Attempts per alert and sink, the first included (default 5). */
  maxAttempts?: number;
  /** One attempt's deadline, headers and body, ms (default 10 000). */
  timeoutMs?: number;
  /** First backoff, ms, doubled per attempt; each wait is drawn from its upper half (default 1 000). */
  baseDelayMs?: number;
  /** Longest wait between attempts, and the cap on a Retry-After (default 60 000). */
  maxDelayMs?: number;
  /** Deliveries in progress beyond which new ones are dead-lettered at once (default 1 000). */
  maxPending?: number;
  now?: () => number;
  random?: () => number;
  log?: AlertLogger;
}

type Attempt = { ok: true } | { ok: false; error: string; retry: boolean; retryAfterMs?: number };

/** Bytes of a failed answer kept for the error message. */
const ERROR_BODY_BYTES = 300;

export class AlertDispatcher {
  readonly #sinks: readonly Sink[];
  readonly #deliveries: DeliveryLog;
  readonly #dashboardUrl: string | null;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #log: AlertLogger | undefined;
  readonly #pending = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  readonly #agent = new Agent({ keepAliveTimeout: 10_000 });
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(opts: DispatcherOptions) {
    this.#sinks = opts.sinks;
    this.#deliveries = opts.deliveries;
    this.#dashboardUrl = opts.dashboardUrl ?? null;
    this.#maxAttempts = opts.maxAttempts ?? 5;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#baseDelayMs = opts.baseDelayMs ?? 1_000;
    this.#maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.#maxPending = opts.maxPending ?? 1_000;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#log = opts.log;
  }

  /** A dispatcher for the `alerts` config section. */
  static fromConfig(config: AlertsConfig, deps: Omit<DispatcherOptions, 'sinks' | 'dashboardUrl' | 'maxAttempts' | 'timeoutMs' | 'baseDelayMs' | 'maxDelayMs'>): AlertDispatcher {
    const r = config.retry;
    return new AlertDispatcher({
      ...deps,
      sinks: [...config.webhooks.map(webhookSink), ...config.slack.map(slackSink)],
      dashboardUrl: config.dashboard_url ?? null,
      ...(r?.max_attempts === undefined ? {} : { maxAttempts: r.max_attempts }),
      ...(r?.timeout_ms === undefined ? {} : { timeoutMs: r.timeout_ms }),
      ...(r?.base_delay_ms === undefined ? {} : { baseDelayMs: r.base_delay_ms }),
      ...(r?.max_delay_ms === undefined ? {} : { maxDelayMs: r.max_delay_ms }),
    });
  }

  /** Base URL of the dashboard the alerts link to; null when not configured. */
  get dashboardUrl(): string | null {
    return this.#dashboardUrl;
  }

  /** The sinks, as they may be shown. */
  get sinks(): { kind: Sink['kind']; label: string }[] {
    return this.#sinks.map((s) => ({ kind: s.kind, label: s.label }));
  }

  /** Deliveries still in progress (sending or waiting to retry). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Starts sending `event` about `alert` to every sink; returns at once. */
  deliver(alert: AnomalyAlert, event: AlertEvent): void {
    if (this.#closed) {
      this.#log?.warn({ anomalyId: alert.id, event }, 'alert not sent: the dispatcher is closed');
      return;
    }
    const payload = alertPayload(alert, event, { dashboardUrl: this.#dashboardUrl, now: this.#now() });
    for (const sink of this.#sinks) {
      const task =
        this.#pending.size >= this.#maxPending
          ? this.#record(sink, payload, alert.id, { attempts: 0, lastError: `more than ${this.#maxPending} alert deliveries were already in progress`, state: 'dead' })
          : this.#send(sink, payload, alert.id);
      this.#pending.add(task);
      void task.finally(() => this.#pending.delete(task));
    }
  }

  /** Resolves once every delivery started so far has ended (delivered or dead-lettered). */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /** Takes no new alerts, lets deliveries finish for up to `deadlineMs`, then cuts the rest short (dead-lettered). Idempotent. */
  close(deadlineMs = 5_000): Promise<void> {
    this.#closing ??= this.#close(deadlineMs);
    return this.#closing;
  }

  async #close(deadlineMs: number): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timer);
    this.#stopping.abort();
    await this.drain();
    await this.#agent.close();
  }

  async #send(sink: Sink, payload: AlertPayload, anomalyId: string): Promise<void> {
    let lastError: string | null = null;
    for (let attempt = 1; ; attempt++) {
      const r = await this.#attempt(sink, payload);
      if (r.ok) return this.#record(sink, payload, anomalyId, { attempts: attempt, lastError, state: 'delivered' });
      lastError = scrub(r.error, sink);
      const stopping = this.#stopping.signal.aborted;
      if (!r.retry || attempt >= this.#maxAttempts || stopping) {
        const why = stopping && r.retry && attempt < this.#maxAttempts ? `${lastError} (retries stopped at shutdown)` : lastError;
        this.#log?.warn({ anomalyId, event: payload.event, sink: sink.kind, url: sink.label, attempts: attempt, error: why }, 'alert delivery failed for good');
        return this.#record(sink, payload, anomalyId, { attempts: attempt, lastError: why, state: 'dead' });
      }
      await sleep(this.#delay(attempt, r.retryAfterMs), this.#stopping.signal);
    }
  }

  async #attempt(sink: Sink, payload: AlertPayload): Promise<Attempt> {
    const req = sink.request(payload, this.#now());
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      const res = await request(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        dispatcher: this.#agent,
        signal: AbortSignal.any([timeout, this.#stopping.signal]),
      });
      const text = await readSome(res.body);
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
      const error = `HTTP ${res.statusCode}${text.trim() ? `: ${text.trim().replace(/\s+/g, ' ')}` : ''}`;
      if (res.statusCode === 429 || res.statusCode >= 500) {
        const after = retryAfterMs(res.headers['retry-after'], this.#now());
        return { ok: false, error, retry: true, ...(after === undefined ? {} : { retryAfterMs: after }) };
      }
      return { ok: false, error: res.statusCode < 400 ? `${error} (redirects are not followed)` : error, retry: false };
    } catch (err) {
      if (timeout.aborted) return { ok: false, error: `no answer within ${this.#timeoutMs} ms`, retry: true };
      if (this.#stopping.signal.aborted) return { ok: false, error: 'cut short at shutdown', retry: true };
      const e = err as { code?: unknown; message?: unknown };
      return { ok: false, error: `${typeof e.code === 'string' ? `${e.code}: ` : ''}${typeof e.message === 'string' ? e.message : String(err)}`, retry: true };
    }
  }

  /** Backoff before attempt `attempt + 1`: the sink's Retry-After if it gave one, else base·2^(attempt-1) with jitter; never above the cap. */
  #delay(attempt: number, retryAfter: number | undefined): number {
    if (retryAfter !== undefined) return Math.min(retryAfter, this.#maxDelayMs);
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + this.#random() * (ceiling / 2);
  }

  async #record(sink: Sink, payload: AlertPayload, anomalyId: string, outcome: Pick<NewDelivery, 'attempts' | 'lastError' | 'state'>): Promise<void> {
    try {
      await this.#deliveries.recordDelivery({ anomalyId, sink: sink.kind, url: sink.label, event: payload.event, at: this.#now(), ...outcome });
    } catch (err) {
      this.#log?.error({ anomalyId, event: payload.event, sink: sink.kind, url: sink.label, state: outcome.state, err: err instanceof Error ? err.message : String(err) }, 'could not record an alert delivery');
    }
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
