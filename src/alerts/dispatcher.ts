/**
 * Sends alerts to every configured sink without ever making the caller wait: `send()` starts one
 * task per sink and returns at once (with a promise of the outcomes, for callers that want them).
 * Each task tries up to `maxAttempts` times with a per-attempt deadline; network errors, timeouts,
 * 5xx and 429 are retried after an exponential backoff with jitter (or the sink's Retry-After,
 * capped), any other answer is final. Anomaly outcomes are logged in the store's delivery log:
 * `delivered`, or `dead` with the last error (the dead-letter log). Ledger and reconciliation
 * outcomes go to the process log only: a ledger alert says the database is unreachable, so its
 * delivery must not wait on it, and `tollgate reconcile --alert` prints its own. `drain()` waits for
 * every task; `close()` gives up on retries after a deadline and records what was left as dead.
 */
import { Agent } from 'undici';
import type { AlertEvent, AnomalyAlert, DeliveryState, NewDelivery } from '../ledger/anomalies-contract.ts';
import type { Alert, SinkPayload } from './alert.ts';
import { payloadOf } from './alert.ts';
import type { AlertsConfig } from './config.ts';
import { attemptSink } from './sink-attempt.ts';
import type { Sink } from './sinks.ts';
import { scrub, slackSink, webhookSink } from './sinks.ts';

/** Where anomaly outcomes are kept: `store.anomalies` fits. */
export interface DeliveryLog {
  recordDelivery(delivery: NewDelivery): Promise<unknown>;
}

export interface AlertLogger {
  /** Outcomes that no delivery log keeps (ledger and reconciliation alerts) are logged here when delivered. */
  info?(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How one alert ended at one sink. */
export interface DeliveryOutcome {
  sink: Sink['kind'];
  /** The sink as it may be shown (no secret). */
  url: string;
  state: DeliveryState;
  /** Attempts made; 0 when it was dead-lettered without one (too many in progress). */
  attempts: number;
  /** Why the last attempt failed; null when the first one succeeded. */
  lastError: string | null;
  /** When it ended, epoch ms. */
  at: number;
}

export interface DispatcherOptions {
  sinks: readonly Sink[];
  /** The anomaly delivery log; absent or null, anomaly outcomes go to the process log like the others. */
  deliveries?: DeliveryLog | null;
  /** Base URL of the dashboard, for the link in every alert. */
  dashboardUrl?: string | null;
  /** Attempts per alert and sink, the first included (default 5). */
  maxAttempts?: number;
  /** One attempt's deadline, headers and body, ms; also the longest wait for a delivery log write (default 10 000). */
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

type Outcome = Pick<DeliveryOutcome, 'attempts' | 'lastError' | 'state'>;

export class AlertDispatcher {
  readonly #sinks: readonly Sink[];
  readonly #deliveries: DeliveryLog | null;
  readonly #dashboardUrl: string | null;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #log: AlertLogger | undefined;
  readonly #pending = new Set<Promise<DeliveryOutcome>>();
  readonly #stopping = new AbortController();
  readonly #agent = new Agent({ keepAliveTimeout: 10_000 });
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(opts: DispatcherOptions) {
    this.#sinks = opts.sinks;
    this.#deliveries = opts.deliveries ?? null;
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

  /** Starts sending `event` about an anomaly to every sink; returns at once. */
  deliver(alert: AnomalyAlert, event: AlertEvent): void {
    void this.send({ kind: 'anomaly', anomaly: alert, event });
  }

  /**
   * Starts sending `alert` to every sink and returns at once. The promise (which never rejects)
   * resolves to one outcome per sink once each has been delivered or dead-lettered; none when the
   * dispatcher is closed. Throws only for an alert that has no payload (a finding of unknown kind).
   */
  send(alert: Alert): Promise<DeliveryOutcome[]> {
    const payload = payloadOf(alert, { dashboardUrl: this.#dashboardUrl, now: this.#now() });
    const about = subject(alert, payload);
    if (this.#closed) {
      this.#log?.warn(about, 'alert not sent: the dispatcher is closed');
      return Promise.resolve([]);
    }
    const tasks = this.#sinks.map((sink) => {
      let task: Promise<DeliveryOutcome>;
      if (this.#pending.size >= this.#maxPending) {
        const lastError = `more than ${this.#maxPending} alert deliveries were already in progress`;
        this.#log?.warn({ ...about, sink: sink.kind, url: sink.label, error: lastError }, 'alert not sent: too many deliveries in progress');
        task = this.#finish(sink, payload, alert, { attempts: 0, lastError, state: 'dead' });
      } else {
        task = this.#send(sink, payload, alert);
      }
      this.#pending.add(task);
      void task.finally(() => this.#pending.delete(task));
      return task;
    });
    return Promise.all(tasks);
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

  async #send(sink: Sink, payload: SinkPayload, alert: Alert): Promise<DeliveryOutcome> {
    let lastError: string | null = null;
    for (let attempt = 1; ; attempt++) {
      const r = await attemptSink(sink.request(payload, this.#now()), { agent: this.#agent, timeoutMs: this.#timeoutMs, stopping: this.#stopping.signal, now: this.#now });
      if (r.ok) return this.#finish(sink, payload, alert, { attempts: attempt, lastError, state: 'delivered' });
      lastError = scrub(r.error, sink);
      const stopping = this.#stopping.signal.aborted;
      if (!r.retry || attempt >= this.#maxAttempts || stopping) {
        const why = stopping && r.retry && attempt < this.#maxAttempts ? `${lastError} (retries stopped at shutdown)` : lastError;
        this.#log?.warn({ ...subject(alert, payload), sink: sink.kind, url: sink.label, attempts: attempt, error: why }, 'alert delivery failed for good');
        return this.#finish(sink, payload, alert, { attempts: attempt, lastError: why, state: 'dead' });
      }
      await sleep(this.#delay(attempt, r.retryAfterMs), this.#stopping.signal);
    }
  }

  /** Backoff before attempt `attempt + 1`: the sink's Retry-After if it gave one, else base·2^(attempt-1) with jitter; never above the cap. */
  #delay(attempt: number, retryAfter: number | undefined): number {
    if (retryAfter !== undefined) return Math.min(retryAfter, this.#maxDelayMs);
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + this.#random() * (ceiling / 2);
  }

  /** Keeps the outcome: an anomaly's in the delivery log, any other's (and a delivery failure's, already warned) in the process log. */
  async #finish(sink: Sink, payload: SinkPayload, alert: Alert, outcome: Outcome): Promise<DeliveryOutcome> {
    const done: DeliveryOutcome = { sink: sink.kind, url: sink.label, at: this.#now(), ...outcome };
    if (alert.kind === 'anomaly' && this.#deliveries) {
      await this.#record(this.#deliveries, { anomalyId: alert.anomaly.id, sink: done.sink, url: done.url, event: alert.event, at: done.at, ...outcome });
    } else if (done.state === 'delivered') {
      this.#log?.info?.({ ...subject(alert, payload), sink: done.sink, url: done.url, attempts: done.attempts, lastError: done.lastError }, 'alert delivered');
    }
    return done;
  }

  /** Writes the delivery log, for at most one attempt's deadline: a database that hangs must not hold deliveries (or shutdown) up. */
  async #record(log: DeliveryLog, delivery: NewDelivery): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const write = log.recordDelivery(delivery);
      // A write that lands after the deadline is harmless; one that fails after it must not go unhandled.
      void write.catch(() => undefined);
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the delivery log did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      });
      await Promise.race([write, deadline]);
    } catch (err) {
      const { anomalyId, event, sink, url, state } = delivery;
      this.#log?.error({ anomalyId, event, sink, url, state, err: err instanceof Error ? err.message : String(err) }, 'could not record an alert delivery');
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What the logs name an alert by. */
function subject(alert: Alert, payload: SinkPayload): Record<string, string> {
  return alert.kind === 'anomaly' ? { anomalyId: alert.anomaly.id, event: alert.event } : { type: payload.type, deliveryId: payload.delivery_id };
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
