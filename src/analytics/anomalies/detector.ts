/**
 * The anomaly detector: pure and streaming. `observe` takes each settled call (a few map lookups and
 * float additions per watched tier: agent, project, team); `evaluate(now)`, run by a timer, tests
 * every scope against its baseline and reports what opened, is ongoing and resolved; `seed` primes
 * baselines from the ledger's hourly rollups so a restart keeps its 14 days. Time comes only from
 * the arguments, so weeks of traffic replay in seconds.
 *
 * One alert per cause: a spend spike is not opened on a scope where a loop, a prompt bloat or a
 * price shift (which explain it) holds, and a project or team does not open a signal that one of
 * its agents (or projects) already has open. Memory is bounded: a scope idle longer than its
 * baseline window is dropped (its open anomalies resolve), and its tables are of fixed size.
 */
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd } from '../../domain/money.ts';
import { HOUR_MS } from './measures.ts';
import { hashKey } from './heavy-hitters.ts';
import type { Evaluation, Finding, HourlySeed, Observation, Signal, WatchedTier } from './contract.ts';
import { SIGNALS, WATCHED_TIERS } from './contract.ts';
import type { DetectorOptions, DetectorOptionsInput, TierBands } from './options.ts';
import { resolveDetectorOptions } from './options.ts';
import type { OpenAnomaly } from './scope-state.ts';
import { ScopeState } from './scope-state.ts';
import type { Candidate, Strength, Windows } from './signals.ts';
import { priceMixShift, promptBloat, runawayLoop, shareTolerance, silentStop, spendSpike } from './signals.ts';

const BOTTOM_UP: readonly WatchedTier[] = ['agent', 'project', 'team'];
/** How long a spend spike must hold before it opens. */
const SPIKE_CONFIRM_MS = 10 * 60_000;
/** How often an ongoing anomaly's evidence is rebuilt (sooner when its money at risk moves by a fifth). */
const EVIDENCE_REFRESH_MS = 5 * 60_000;
/** How many models and traces a finding lists. */
const TOP = 3;
/** Signals that explain a rise in spend, so a spend spike is not raised beside them. */
const SPECIFIC: readonly Signal[] = ['runaway_loop', 'prompt_bloat', 'price_mix_shift'];
/**
 * Signals on per-call figures (tokens per request, cost per token) are watched per agent only: a
 * project's or team's move with the mix of its agents through the day, and the agent is the cause.
 */
const AGENT_ONLY: readonly Signal[] = ['prompt_bloat', 'price_mix_shift'];
const SIGNAL_TEXT: Record<Signal, string> = {
  spend_spike: 'Spend spike',
  price_mix_shift: 'Price/mix shift',
  prompt_bloat: 'Prompt bloat',
  runaway_loop: 'Runaway loop',
  silent_stop: 'Silent stop',
};

export class Detector {
  readonly options: DetectorOptions;
  private readonly scopes: Record<WatchedTier, Map<string, ScopeState>> = { agent: new Map(), project: new Map(), team: new Map() };

  constructor(options?: DetectorOptionsInput) {
    this.options = resolveDetectorOptions(options);
  }

  /** Records one settled call. Throws `invalid_request` on a malformed observation (nothing is recorded then). */
  observe(o: Observation): void {
    const { at, costNano, tokens, chain } = o;
    if (!Number.isFinite(at) || !(costNano >= 0) || !Number.isFinite(costNano) || !(tokens >= 0) || !Number.isFinite(tokens)) {
      throw new TollgateError('invalid_request', `anomaly observation needs a finite time and non-negative finite cost and tokens (got at=${at}, costNano=${costNano}, tokens=${tokens})`);
    }
    const { traceId, fingerprint } = o;
    const traceHash = traceId ? hashKey(traceId) : 0;
    const fingerprintHash = fingerprint ? hashKey(fingerprint) : 0;
    const agent = this.scope('agent', chain.agentId, chain);
    const project = this.scope('project', chain.projectId, chain);
    const team = this.scope('team', chain.teamId, chain);
    if (agent.parents[0] !== project || agent.parents[1] !== team) agent.parents.splice(0, 2, project, team);
    agent.add(at, costNano, tokens, o.model, traceId, traceHash, fingerprint, fingerprintHash);
    project.add(at, costNano, tokens, o.model, traceId, traceHash, fingerprint, fingerprintHash);
    team.add(at, costNano, tokens, o.model, traceId, traceHash, fingerprint, fingerprintHash);
  }

  /**
   * Primes baselines from past hourly rollups (any order, any mix of scopes). Hours already counted
   * live are not counted again: a row adds only to hours this detector has not yet seen calls in.
   */
  seed(rows: readonly HourlySeed[]): void {
    const sorted = [...rows].sort((a, b) => a.hour - b.hour);
    const loaded = new Set<ScopeState>();
    for (const r of sorted) {
      if (!(WATCHED_TIERS as readonly string[]).includes(r.tier)) throw new TollgateError('invalid_request', `anomaly seed row for "${r.path}" has tier "${r.tier}"; watched tiers are ${WATCHED_TIERS.join(', ')}`);
      if (!Number.isFinite(r.hour) || !(r.costNano >= 0) || !(r.tokens >= 0) || !(r.calls >= 0) || !Number.isFinite(r.costNano + r.tokens + r.calls)) {
        throw new TollgateError('invalid_request', `anomaly seed row for "${r.path}" at ${r.hour} needs a finite hour and non-negative finite cost, tokens and calls`);
      }
      const map = this.scopes[r.tier];
      let s = map.get(r.scopeId);
      if (!s) {
        s = new ScopeState(r.tier, r.scopeId, r.path, this.options);
        map.set(r.scopeId, s);
      }
      const hour = Math.floor(r.hour / HOUR_MS);
      // From the first live call's hour on, calls are counted live: the rollup would count them twice.
      if (hour >= Math.floor(s.liveSince / HOUR_MS)) continue;
      s.baseline.load(hour, r.costNano, r.tokens, r.calls);
      loaded.add(s);
      if (r.calls > 0) s.lastSeen = Math.max(s.lastSeen, (hour + 1) * HOUR_MS - 1);
    }
    for (const s of loaded) s.baseline.finishLoad();
  }

  /** Tests every scope at `now` and returns what opened, what is ongoing and what resolved. */
  evaluate(now: number): Evaluation {
    if (!Number.isFinite(now)) throw new TollgateError('invalid_request', `anomaly evaluation time must be finite (got ${now})`);
    const out: Evaluation = { opened: [], ongoing: [], resolved: [] };
    /** `signal|path` of every open anomaly below: those scopes' ancestors do not open the same signal. */
    const explained = new Set<string>();
    const horizon = this.options.baselineWeeks * 168 * HOUR_MS;
    // Agents first, then projects, then teams: what an agent explains, its project and team need not raise.
    for (const tier of BOTTOM_UP) {
      const map = this.scopes[tier];
      for (const [id, s] of map) {
        if (now - s.lastSeen > horizon) {
          for (const signal of s.open.keys()) out.resolved.push({ tier, scopeId: id, path: s.path, signal, at: now });
          map.delete(id);
          continue;
        }
        s.rollTo(now);
        this.evaluateScope(s, now, explained, out);
        // An agent's loop explains its project's and its team's.
        for (const signal of s.open.keys()) for (const p of s.ancestors) explained.add(`${signal}|${p}`);
      }
    }
    return out;
  }

  /** Scopes held, per tier (for metrics and tests of eviction). */
  size(): Record<WatchedTier, number> {
    return { agent: this.scopes.agent.size, project: this.scopes.project.size, team: this.scopes.team.size };
  }

  private scope(tier: WatchedTier, id: string, chain: Observation['chain']): ScopeState {
    const map = this.scopes[tier];
    const s = map.get(id);
    if (s) return s;
    const parts = [chain.orgName, chain.teamName, chain.projectName, chain.agentName];
    const path = parts.slice(0, tier === 'team' ? 2 : tier === 'project' ? 3 : 4).join('/');
    const fresh = new ScopeState(tier, id, path, this.options);
    map.set(id, fresh);
    return fresh;
  }

  private evaluateScope(s: ScopeState, now: number, explained: Set<string>, out: Evaluation): void {
    const bands = this.options.tiers[s.tier];
    const resolveAfter = this.options.resolveAfterMinutes * 60_000;
    const candidates = new Map<Signal, Candidate>();
    const ws = s.measure(now);
    for (const signal of SIGNALS) {
      if (s.tier !== 'agent' && AGENT_ONLY.includes(signal)) continue;
      const open = s.open.get(signal);
      const c = this.check(signal, s, ws, now, bands, open ? 'hold' : 'open');
      // An expectation the baseline cannot give yet (NaN: e.g. the hour a week ago is before its history)
      // compares false both ways and would pass every test: no evidence, no candidate.
      if (c && Number.isFinite(c.atRiskNanoPerHour) && Number.isFinite(c.excess)) candidates.set(signal, c);
    }
    for (const signal of SIGNALS) {
      const c = candidates.get(signal);
      const open = s.open.get(signal);
      if (open) {
        if (c) {
          open.heldAt = now;
          // Evidence (sorted tables, the summary) is rebuilt every few minutes, or at once when the money at risk moves.
          const moved = Math.abs(c.atRiskNanoPerHour - open.finding.atRiskNanoPerHour) > 0.2 * open.finding.atRiskNanoPerHour;
          if (moved || now - open.builtAt >= EVIDENCE_REFRESH_MS) {
            open.finding = this.finding(s, c, open.since, now);
            open.builtAt = now;
          } else {
            open.finding = { ...open.finding, at: now };
          }
        } else if (now - open.heldAt >= resolveAfter) {
          s.open.delete(signal);
          out.resolved.push({ tier: s.tier, scopeId: s.id, path: s.path, signal, at: now });
          continue;
        } else {
          open.finding = { ...open.finding, at: now };
        }
        out.ongoing.push(open.finding);
        continue;
      }
      if (signal === 'spend_spike') {
        // A spike waits a few minutes before it opens: a loop, bloat or price shift that explains it
        // gets the time to show (their windows fill more slowly), and a passing burst dies away.
        if (!c) {
          s.spikeSeenAt = Number.NaN;
          continue;
        }
        if (Number.isNaN(s.spikeSeenAt)) s.spikeSeenAt = now;
        if (now - s.spikeSeenAt < SPIKE_CONFIRM_MS || SPECIFIC.some((x) => s.open.has(x) || candidates.has(x))) continue;
      }
      if (!c || explained.has(`${signal}|${s.path}`)) continue;
      const anomaly: OpenAnomaly = { since: c.since, openedAt: now, heldAt: now, builtAt: now, finding: this.finding(s, c, c.since, now) };
      s.open.set(signal, anomaly);
      out.opened.push(anomaly.finding);
    }
    if (s.tier === 'agent') shareTolerance(s, ws, bands);
    s.tolerated.fill(0);
    this.markHold(s, now);
  }

  /** Keeps the open hour out of the baseline while an anomaly holds (up to `adaptAfterHours`). */
  private markHold(s: ScopeState, now: number): void {
    const adaptAfter = this.options.adaptAfterHours * HOUR_MS;
    for (const [signal, a] of s.open) {
      if (now - a.openedAt > adaptAfter) continue;
      s.baseline.hold = signal === 'silent_stop' ? 'down' : 'up';
      return;
    }
  }

  private check(signal: Signal, s: ScopeState, ws: Windows, now: number, bands: TierBands, strength: Strength): Candidate | null {
    switch (signal) {
      case 'spend_spike':
        return spendSpike(s, ws, now, bands, strength);
      case 'runaway_loop':
        return runawayLoop(s, ws, now, bands, this.options, strength);
      case 'prompt_bloat':
        return promptBloat(s, ws, now, bands, strength);
      case 'price_mix_shift':
        return priceMixShift(s, ws, now, bands, strength);
      case 'silent_stop':
        return silentStop(s, now, bands, strength);
    }
  }

  private finding(s: ScopeState, c: Candidate, since: number, now: number): Finding {
    const topModels = s.models
      .ranked(now)
      .slice(0, TOP)
      .map((m) => ({ model: m.key, costNano: Math.round(m.costNano), calls: m.calls }));
    const traces = s.traces.ranked(now, c.traceOrder);
    if (c.loopTrace && !traces.slice(0, TOP).some((t) => t.key === c.loopTrace!.key)) traces.unshift(c.loopTrace);
    const topTraces = traces.slice(0, TOP).map((t) => ({ traceId: t.key, costNano: Math.round(t.costNano), calls: t.calls }));
    const atRisk = Math.max(0, Math.round(c.atRiskNanoPerHour));
    const money = c.signal === 'silent_stop' ? '' : ` ${formatUsd(BigInt(atRisk))}/h above normal.`;
    const model = topModels[0] && c.signal !== 'silent_stop' ? ` Top model ${topModels[0].model}.` : '';
    return {
      tier: s.tier,
      scopeId: s.id,
      path: s.path,
      signal: c.signal,
      since,
      at: now,
      comparisons: c.comparisons,
      atRiskNanoPerHour: atRisk,
      topModels,
      topTraces,
      summary: `${SIGNAL_TEXT[c.signal]} on ${s.tier} ${s.path}: ${c.detail}.${money}${model}`,
    };
  }
}
