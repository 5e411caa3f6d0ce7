/**
 * The demo's past incidents on the Anomalies page: the seeded history is replayed, in time order,
 * through a fresh detector with the default options (as the gateway would have run it, evaluated
 * every few simulated minutes), and each episode it finds is stored as an anomaly: opened when the
 * detector opened it, with its latest evidence, and resolved when the detector resolved it (actor
 * `demo-replay`). What is still open when the history ends stays open: the detector thinks it is
 * still going. Nothing is notified and no kill switch is tripped: only the store is written.
 *
 * Idempotent: an episode already stored (same scope, signal and opening time) and resolved is
 * skipped; one still open is refreshed in place by the store's one-open-row-per-scope-and-signal rule.
 */
import { Detector } from '../analytics/anomalies/detector.ts';
import type { Finding, HourlySeed, Observation, Signal, WatchedTier } from '../analytics/anomalies/contract.ts';
import { totalInputTokens } from '../domain/usage.ts';
import type { LedgerEvent, Store } from '../ledger/contract.ts';
import type { AnomalyAlert } from '../ledger/anomalies-contract.ts';

/** Who resolved the replayed anomalies, in the store and its audit log. */
export const DEMO_REPLAY_ACTOR = 'demo-replay';
/** Simulated minutes between evaluations (the gateway evaluates every minute; five keeps the replay within a second or two). */
export const DEMO_REPLAY_EVALUATE_MS = 5 * 60_000;
/** Days replayed call by call, today included: the staged incidents are all within them. */
export const DEMO_REPLAY_DAYS = 21;
/** Days before those that seed the baselines from hourly sums: the detector's two weeks. */
export const DEMO_REPLAY_SEED_DAYS = 14;
/** Fewer seeded days than this and nothing is replayed call by call (see `detectEpisodes`). */
const MIN_SEED_DAYS = 8;
const PAGE = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** One episode of a signal on a scope, as the replay saw it. */
interface Episode {
  first: Finding;
  /** The evaluation with the most money at risk (the store keeps the peak of what it is given). */
  peak: Finding;
  last: Finding;
  resolvedAt: number | null;
}

export interface ReplayResult {
  /** Episodes the detector found in the history (`signal`, `path`, times), oldest first. */
  found: { signal: Signal; path: string; since: number; openedAt: number; resolvedAt: number | null }[];
  /** Episodes written by this run: opened, or refreshed while still open (those an earlier run stored and resolved are skipped). */
  stored: number;
  /** Calls replayed one by one (after the seeded days) and evaluations run. */
  calls: number;
  evaluations: number;
}

/** The detector's view of a ledger row; null for a failed call that cost nothing (as the gateway skips it). */
export function observationOf(e: LedgerEvent): Observation | null {
  if (e.status >= 400 && e.effectiveCostNano === 0n) return null;
  return {
    at: e.endedAt,
    chain: e.chain,
    model: e.servedModel,
    costNano: Number(e.effectiveCostNano),
    tokens: totalInputTokens(e.usage) + e.usage.outputTokens,
    traceId: e.traceId,
  };
}

/** Hourly sums per agent, project and team: what the gateway reads from the ledger's rollups to seed baselines. */
function hourlySeeds(observations: readonly Observation[]): HourlySeed[] {
  const out = new Map<string, HourlySeed>();
  for (const o of observations) {
    const hour = Math.floor(o.at / HOUR_MS) * HOUR_MS;
    const c = o.chain;
    const scopes: [WatchedTier, string, string][] = [
      ['agent', c.agentId, `${c.orgName}/${c.teamName}/${c.projectName}/${c.agentName}`],
      ['project', c.projectId, `${c.orgName}/${c.teamName}/${c.projectName}`],
      ['team', c.teamId, `${c.orgName}/${c.teamName}`],
    ];
    for (const [tier, scopeId, path] of scopes) {
      const key = `${scopeId}|${hour}`;
      let row = out.get(key);
      if (!row) out.set(key, (row = { hour, tier, scopeId, path, costNano: 0, tokens: 0, calls: 0 }));
      row.costNano += o.costNano;
      row.tokens += o.tokens;
      row.calls += 1;
    }
  }
  return [...out.values()];
}

/**
 * Runs the detector over `observations` (any order: they are sorted by time here) up to `now` and
 * returns the episodes it found, without touching any store.
 */
export function detectEpisodes(observations: Observation[], opts: { now: number; evaluateEveryMs?: number; replayDays?: number; seedDays?: number }): { episodes: Episode[]; evaluations: number; calls: number } {
  const step = opts.evaluateEveryMs ?? DEMO_REPLAY_EVALUATE_MS;
  // Replayed call by call: the last `replayDays` days (today included). The `seedDays` before seed the
  // baselines from hourly sums, as the gateway seeds them from the rollups at start-up; older calls
  // are not looked at (replaying a quarter call by call costs seconds the demo's start-up should not).
  const today = Math.floor(opts.now / DAY_MS) * DAY_MS;
  const oldest = observations.reduce((min, o) => Math.min(min, o.at), Number.POSITIVE_INFINITY);
  // More than a week of seeded baseline however short the history: a detector whose data reaches its
  // first full week while replaying has a NaN spend expectation for a moment, and evaluate() throws.
  const replayFrom = Math.max(today - ((opts.replayDays ?? DEMO_REPLAY_DAYS) - 1) * DAY_MS, Math.floor(oldest / DAY_MS) * DAY_MS + MIN_SEED_DAYS * DAY_MS);
  const seedFrom = replayFrom - (opts.seedDays ?? DEMO_REPLAY_SEED_DAYS) * DAY_MS;
  const calls = observations.filter((o) => o.at >= seedFrom && o.at <= opts.now).sort((a, b) => a.at - b.at);
  const detector = new Detector();
  const open = new Map<string, Episode>();
  const episodes: Episode[] = [];
  let evaluations = 0;
  let next = calls.findIndex((o) => o.at >= replayFrom);
  if (next < 0) next = calls.length;
  detector.seed(hourlySeeds(calls.slice(0, next)));
  if (next === calls.length) return { episodes, evaluations, calls: 0 };
  // Evaluations on the step's grid, as a timer would fire them, and one last at `now`.
  const replayed = calls.length - next;
  for (let t = Math.min(Math.ceil(calls[next]!.at / step) * step, opts.now); ; t = Math.min(t + step, opts.now)) {
    while (next < calls.length && calls[next]!.at <= t) detector.observe(calls[next++]!);
    const ev = detector.evaluate(t);
    evaluations++;
    for (const f of ev.opened) {
      const e: Episode = { first: f, peak: f, last: f, resolvedAt: null };
      open.set(`${f.scopeId}|${f.signal}`, e);
      episodes.push(e);
    }
    for (const f of ev.ongoing) {
      const e = open.get(`${f.scopeId}|${f.signal}`);
      if (!e) continue;
      e.last = f;
      if (f.atRiskNanoPerHour > e.peak.atRiskNanoPerHour) e.peak = f;
    }
    for (const r of ev.resolved) {
      const key = `${r.scopeId}|${r.signal}`;
      const e = open.get(key);
      if (e) e.resolvedAt = r.at;
      open.delete(key);
    }
    if (t >= opts.now) break;
  }
  return { episodes, evaluations, calls: replayed };
}

/** Replays the history and stores what the detector found in `store.anomalies` (see the file's comment). */
export async function replayDemoAnomalies(store: Store, observations: Observation[], opts: { now: number; evaluateEveryMs?: number; replayDays?: number; seedDays?: number }): Promise<ReplayResult> {
  const { episodes, evaluations, calls } = detectEpisodes(observations, opts);
  const known = await storedEpisodes(store, episodes);
  let stored = 0;
  // Oldest first, each resolved before the next opens: two episodes of one scope and signal stay two rows.
  for (const e of episodes) {
    const before = known.get(episodeKey(e.first));
    if (before?.state === 'resolved') continue;
    let alert: AnomalyAlert | null = null;
    for (const f of new Set([e.first, e.peak, e.last])) alert = (await store.anomalies.open(f)).alert;
    stored++;
    // Resolved only when the open row is ours (the store keeps a newer finding, e.g. a live one, as it is).
    if (e.resolvedAt !== null && alert !== null && alert.state === 'open' && alert.lastSeenAt === e.last.at) {
      await store.anomalies.resolveById(alert.id, DEMO_REPLAY_ACTOR, e.resolvedAt);
    }
  }
  return {
    found: episodes.map((e) => ({ signal: e.first.signal, path: e.first.path, since: e.first.since, openedAt: e.first.at, resolvedAt: e.resolvedAt })),
    stored,
    calls,
    evaluations,
  };
}

function episodeKey(f: Pick<Finding, 'scopeId' | 'signal' | 'at'>): string {
  return `${f.scopeId}|${f.signal}|${f.at}`;
}

/** Stored anomalies open at any time since the replay's first episode opened, by scope, signal and opening time. */
async function storedEpisodes(store: Store, episodes: readonly Episode[]): Promise<Map<string, AnomalyAlert>> {
  const out = new Map<string, AnomalyAlert>();
  if (episodes.length === 0) return out;
  const from = Math.min(...episodes.map((e) => e.first.at));
  for (let offset = 0; ; offset += PAGE) {
    // Every earlier replay's episodes of this history are among them.
    const page = await store.anomalies.list({ from, limit: PAGE, offset });
    for (const a of page) out.set(episodeKey({ scopeId: a.scopeId, signal: a.signal, at: a.openedAt }), a);
    if (page.length < PAGE) return out;
  }
}
