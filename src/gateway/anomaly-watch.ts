/**
 * Anomaly detection inside the gateway. Every priced call is handed to the detector as its row is
 * written (a few counter updates, nothing awaited); a timer evaluates the detector, records what it
 * finds in the store (one open row per scope and signal, whichever replica sees it first), notifies
 * the alert sinks, and trips an agent's kill switch when the scope's policy asks for it.
 *
 * At start-up the baselines are seeded from the ledger's hourly rollups, so a restart does not
 * forget two weeks of normal. Each replica watches the calls it serves: behind a load balancer
 * every replica sees the same shape of traffic, so ratios to the baseline hold, and the store
 * deduplicates what they find.
 */
import type { Detector } from '../analytics/anomalies/detector.ts';
import type { Finding, HourlySeed, Observation, WatchedTier } from '../analytics/anomalies/contract.ts';
import type { AlertDispatcher } from '../alerts/dispatcher.ts';
import { autoKillApplies, type AnomalyAlert } from '../ledger/anomalies-contract.ts';
import type { LedgerEvent, Store } from '../ledger/contract.ts';
import { totalInputTokens } from '../domain/usage.ts';
import { TollgateError } from '../domain/errors.ts';
import { formatUsd } from '../domain/money.ts';

export const DETECTOR_ACTOR = 'anomaly-detector';
const HOUR_MS = 3_600_000;

export interface AnomalyWatchOptions {
  store: Store;
  detector: Detector;
  /** Where notifications go; null records anomalies without notifying anyone. */
  dispatcher: AlertDispatcher | null;
  now: () => number;
  /** How often the detector is evaluated, ms (default 60 000). */
  evaluateEveryMs?: number;
  /** Days of hourly rollups read at start-up to seed the baselines (default 15: two weeks and the day in progress). */
  seedDays?: number;
  log: { error: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
}

export class AnomalyWatch {
  readonly #o: AnomalyWatchOptions;
  #timer: NodeJS.Timeout | null = null;
  #tick: Promise<void> | null = null;
  #closed = false;

  constructor(opts: AnomalyWatchOptions) {
    this.#o = opts;
  }

  /** The proxy's observer: one settled call. Errors and refusals before upstream carry no spend and are skipped. */
  observe(event: LedgerEvent, requestBody: Record<string, unknown>): void {
    if (event.status >= 400 && event.effectiveCostNano === 0n) return;
    const o: Observation = {
      at: event.endedAt,
      chain: event.chain,
      model: event.servedModel,
      costNano: Number(event.effectiveCostNano),
      tokens: totalInputTokens(event.usage) + event.usage.outputTokens,
      traceId: event.traceId,
      fingerprint: promptFingerprint(requestBody),
    };
    try {
      this.#o.detector.observe(o);
    } catch (err) {
      // A malformed figure must not fail the call: the row is written regardless.
      this.#o.log.error({ err, requestId: event.id }, 'anomaly detector refused a call');
    }
  }

  /** Seeds the baselines from the ledger, then evaluates on a timer. */
  async start(): Promise<void> {
    await this.seed();
    if (this.#closed) return;
    this.#timer = setInterval(() => void this.evaluate(), this.#o.evaluateEveryMs ?? 60_000);
    this.#timer.unref();
  }

  /** Primes the baselines from the last `seedDays` of hourly rollups (hours already seen live are not counted twice). */
  async seed(): Promise<void> {
    try {
      this.#o.detector.seed(await this.#seedRows());
    } catch (err) {
      this.#o.log.error({ err }, 'anomaly baselines could not be seeded from the ledger; they will learn from live traffic');
    }
  }

  /** Resolves once the evaluation in progress and the notifications sent so far are done. */
  async settled(): Promise<void> {
    await this.#tick;
    await this.#o.dispatcher?.drain();
  }

  /** One evaluation (the timer's; tests call it directly). Never overlaps itself; never throws. */
  evaluate(): Promise<void> {
    this.#tick ??= this.#evaluate()
      .catch((err: unknown) => this.#o.log.error({ err }, 'anomaly evaluation failed'))
      .finally(() => {
        this.#tick = null;
      });
    return this.#tick;
  }

  /** Stops the timer, waits for an evaluation in progress, and gives notifications on their way up to `deadlineMs` (then dead-letters them). */
  async close(deadlineMs = 5_000): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#tick;
    await this.#o.dispatcher?.close(deadlineMs);
  }

  async #evaluate(): Promise<void> {
    const { store, detector, dispatcher } = this.#o;
    const ev = detector.evaluate(this.#o.now());
    for (const f of [...ev.opened, ...ev.ongoing]) {
      const { alert, created } = await store.anomalies.open(f);
      if (created) dispatcher?.deliver(alert, 'opened');
      await this.#maybeKill(f, alert);
    }
    for (const r of ev.resolved) {
      const alert = await store.anomalies.resolve(r.scopeId, r.signal, r.at);
      if (alert) dispatcher?.deliver(alert, 'resolved');
    }
  }

  /** Trips the agent's kill switch when its policy asks, once across replicas (the action is claimed in the store first). */
  async #maybeKill(f: Finding, alert: AnomalyAlert): Promise<void> {
    if (f.tier !== 'agent' || alert.action !== null) return;
    const policy = await this.#o.store.anomalies.policyFor(f.scopeId);
    if (!autoKillApplies(f, policy)) return;
    if (!(await this.#o.store.anomalies.markAction(alert.id, 'auto_killed'))) return;
    const reason = `automatic: ${f.signal.replace('_', ' ')} (${f.summary}); ${formatUsd(BigInt(Math.round(f.atRiskNanoPerHour)))}/h at risk, policy of ${policy!.scopePath} kills above ${formatUsd(policy!.minNanoPerHour)}/h; anomaly ${alert.id}`;
    try {
      await this.#o.store.controls.kill(f.path, reason, DETECTOR_ACTOR);
    } catch (err) {
      // Killed already (by hand, or another replica got there between claim and kill): nothing more to do.
      if (!(err instanceof TollgateError && err.code === 'conflict')) throw err;
    }
    this.#o.log.warn({ scope: f.path, signal: f.signal, anomaly: alert.id }, 'anomaly tripped the kill switch');
    const after = (await this.#o.store.anomalies.get(alert.id)) ?? alert;
    this.#o.dispatcher?.deliver(after, 'auto_killed');
  }

  /**
   * The last `seedDays` of hourly spend per agent, project and team: one read of the rollups per
   * agent and hour, summed up the tree (an agent's parent is its project, the project's its team).
   */
  async #seedRows(): Promise<HourlySeed[]> {
    const now = this.#o.now();
    const from = Math.floor(now / HOUR_MS) * HOUR_MS - (this.#o.seedDays ?? 15) * 24 * HOUR_MS;
    const [scopes, rows] = await Promise.all([
      this.#o.store.directory.listScopes({ includeArchived: true }),
      this.#o.store.ledger.series({ from, to: now, groupBy: 'agent', bucket: 'hour' }),
    ]);
    const byId = new Map(scopes.map((s) => [s.id, s]));
    const out = new Map<string, HourlySeed>();
    for (const r of rows) {
      const tokens = Number(r.inputTokens + r.cacheReadTokens + r.cacheWrite5mTokens + r.cacheWrite1hTokens + r.outputTokens);
      let node = byId.get(r.key);
      for (const tier of ['agent', 'project', 'team'] as const satisfies readonly WatchedTier[]) {
        if (!node) break;
        const key = `${node.id}\u0000${r.at}`;
        const seed = out.get(key) ?? { hour: r.at, tier, scopeId: node.id, path: node.path, costNano: 0, tokens: 0, calls: 0 };
        seed.costNano += Number(r.effectiveCostNano);
        seed.tokens += tokens;
        seed.calls += r.calls;
        out.set(key, seed);
        node = node.parentId === null ? undefined : byId.get(node.parentId);
      }
    }
    return [...out.values()];
  }
}

/**
 * A short hash of what the call asks: the text of the last message (chat, messages) or of the input
 * (responses, embeddings), its first 512 characters. A loop re-sending the same question repeats it.
 * Only text is read (never image or file data), so the cost stays small whatever the body holds.
 */
export function promptFingerprint(body: Record<string, unknown>): string | null {
  const messages = body['messages'];
  const last: unknown = Array.isArray(messages) ? messages[messages.length - 1] : body['input'];
  const text = textOf(last, 0);
  if (text === '') return null;
  // FNV-1a, 32 bits: cheap, and a collision only merges two prompts' counts.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

const FINGERPRINT_CHARS = 512;

function textOf(v: unknown, depth: number): string {
  if (typeof v === 'string') return v.slice(0, FINGERPRINT_CHARS);
  if (depth > 3 || v === null || typeof v !== 'object') return '';
  if (Array.isArray(v)) {
    // The last input item of a responses call, or the text parts of a message's content.
    let out = '';
    for (const item of v.length > 16 ? v.slice(-16) : v) {
      out += textOf(item, depth + 1);
      if (out.length >= FINGERPRINT_CHARS) break;
    }
    return out.slice(0, FINGERPRINT_CHARS);
  }
  const o = v as Record<string, unknown>;
  return textOf(o['text'] ?? o['content'] ?? o['input'] ?? '', depth + 1);
}
