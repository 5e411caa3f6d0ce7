/**
 * Labelled synthetic gateway traffic for the detector's evaluation, seeded and replayable.
 *
 * An org of teams, projects and agents whose sizes are heavy-tailed (Pareto task rates, a handful
 * of agents carry most calls). Each agent has a working pattern (office hours in its own time
 * zone, round the clock, or nightly batches; some with a Monday-morning peak), a weekly growth
 * (flat, 5%, 20% or −5% a week), an hour-to-hour drift (lognormal, σ 0.15), tasks of several calls
 * sharing a trace id, heavy-tailed call sizes (lognormal tokens) and a mix of two models.
 *
 * Incidents of every signal are injected at varied sizes: spend spikes (more or longer tasks,
 * ×3–8), runaway loops (one task calling every 1–10 s, by trace id and/or repeated prompt),
 * prompt bloat (tokens per call ×3.5–8), price or mix shifts (cost per token ×1.4–3 at the same
 * volume) and silent stops (no calls for 1–8 h, starting while the agent is busy). History before
 * the replay comes as hourly rollup rows, as the gateway would seed the detector at start-up.
 */
import { seededRandom } from '../../domain/seeded-random.ts';
import type { ScopeChain } from '../../domain/scope.ts';
import { HOUR_MS, WEEK_HOURS } from './measures.ts';
import type { HourlySeed, Observation, Signal } from './contract.ts';

export interface SyntheticOptions {
  seed: number;
  agents: number;
  /** Weeks replayed call by call. */
  weeks: number;
  /** Weeks of history before the replay, as hourly rows. */
  historyWeeks: number;
  /** Incidents of each signal to inject (0: clean traffic). */
  incidentsPerSignal: number;
  /** Start of the replay, epoch ms (a Monday 00:00 UTC reads best). */
  start: number;
}

export interface Incident {
  signal: Signal;
  agent: number;
  path: string;
  start: number;
  end: number;
  /** How large: the factor applied (rate, tokens, price), or calls per hour of a loop; 0 for a stop. */
  size: number;
  /** How it shows, e.g. `surge`, `trace+prompt`, `model switch`. */
  variant: string;
}

type Pattern = 'office' | 'always' | 'batch';

export interface AgentProfile {
  chain: ScopeChain;
  path: string;
  /** Tasks per hour at the start, before seasonality. */
  tasksPerHour: number;
  callsPerTask: number;
  pattern: Pattern;
  /** Offset of the agent's local time from UTC, hours. */
  utcOffset: number;
  mondayPeak: boolean;
  /** Growth per week (0.2 = 20%). */
  growth: number;
  medianTokens: number;
  models: [Model, Model];
  /** Share of calls on the second model. */
  mix: number;
  sendsTraceIds: boolean;
}

interface Model {
  name: string;
  /** nano-USD per input and per output token. */
  input: number;
  output: number;
}

const MODELS: Model[] = [
  { name: 'gpt-4.1-mini', input: 400, output: 1600 },
  { name: 'claude-haiku-4-5', input: 1000, output: 5000 },
  { name: 'gpt-4.1', input: 2000, output: 8000 },
  { name: 'claude-sonnet-4-5', input: 3000, output: 15000 },
  { name: 'claude-opus-4-1', input: 15000, output: 75000 },
];
const MINUTE_MS = 60_000;
const OUTPUT_SHARE = 0.15;
/** Incidents are injected only where the agent is this busy when they start (calls per hour). */
export const MIN_INCIDENT_CALLS_PER_HOUR = 40;
/** Minutes ahead a task's calls may be queued. */
const QUEUE_MINUTES = 64;

export class SyntheticTraffic {
  readonly agents: AgentProfile[] = [];
  readonly incidents: Incident[] = [];
  readonly streamStart: number;
  readonly streamEnd: number;
  private readonly rand: () => number;
  /** Per agent and absolute hour: the hour's random drift factor (drawn lazily, the same for history and replay). */
  private readonly drift = new Map<number, number>();
  private uid = 0;

  constructor(readonly options: SyntheticOptions) {
    this.rand = seededRandom(options.seed);
    this.streamStart = options.start;
    this.streamEnd = options.start + options.weeks * WEEK_HOURS * HOUR_MS;
    this.makeAgents();
    this.makeIncidents();
  }

  /** Calls per hour the agent would make at `at` on clean traffic (its expectation, before drift). */
  expectedCallsPerHour(a: AgentProfile, at: number): number {
    return a.tasksPerHour * a.callsPerTask * this.season(a, at) * Math.pow(1 + a.growth, (at - this.options.start) / (WEEK_HOURS * HOUR_MS));
  }

  /** Hourly rollup rows for agents, projects and teams over the history weeks (incident-free). */
  history(): HourlySeed[] {
    const sums = new Map<string, HourlySeed>();
    const from = this.streamStart - this.options.historyWeeks * WEEK_HOURS * HOUR_MS;
    const add = (tier: HourlySeed['tier'], scopeId: string, path: string, hour: number, o: Observation) => {
      const key = `${tier}|${scopeId}|${hour}`;
      let row = sums.get(key);
      if (!row) {
        row = { hour, tier, scopeId, path, costNano: 0, tokens: 0, calls: 0 };
        sums.set(key, row);
      }
      row.costNano += o.costNano;
      row.tokens += o.tokens;
      row.calls += 1;
    };
    this.run(from, this.streamStart, false, (o) => {
      const hour = Math.floor(o.at / HOUR_MS) * HOUR_MS;
      const c = o.chain;
      add('agent', c.agentId, `${c.orgName}/${c.teamName}/${c.projectName}/${c.agentName}`, hour, o);
      add('project', c.projectId, `${c.orgName}/${c.teamName}/${c.projectName}`, hour, o);
      add('team', c.teamId, `${c.orgName}/${c.teamName}`, hour, o);
    });
    return [...sums.values()];
  }

  /**
   * Replays the stream in time order: every call of each minute goes to `onCall`, then `onTick`
   * is called with the minute's end (where a gateway's timer would evaluate).
   */
  replay(onCall: (o: Observation) => void, onTick: (now: number) => void): void {
    this.run(this.streamStart, this.streamEnd, true, onCall, onTick);
  }

  private run(from: number, to: number, withIncidents: boolean, onCall: (o: Observation) => void, onTick?: (now: number) => void): void {
    const queue: Observation[][] = Array.from({ length: QUEUE_MINUTES }, () => []);
    const rand = seededRandom(this.options.seed * 7919 + Math.floor(from / MINUTE_MS));
    const pending = withIncidents ? [...this.incidents] : [];
    let live: Incident[] = [];
    const rates = new Float64Array(this.agents.length);
    let ratesHour = Number.NaN;
    for (let minute = Math.floor(from / MINUTE_MS); minute * MINUTE_MS < to; minute++) {
      const t0 = minute * MINUTE_MS;
      const hour = Math.floor(t0 / HOUR_MS);
      if (hour !== ratesHour) {
        ratesHour = hour;
        for (let ai = 0; ai < this.agents.length; ai++) {
          const a = this.agents[ai]!;
          rates[ai] = (a.tasksPerHour * this.season(a, t0) * this.growthAt(a, t0) * this.driftOf(ai, hour)) / 60;
        }
      }
      if (live.length > 0) live = live.filter((i) => i.end > t0);
      while (pending.length > 0 && pending[0]!.start < t0 + MINUTE_MS) live.push(pending.shift()!);
      for (let ai = 0; ai < this.agents.length; ai++) {
        const a = this.agents[ai]!;
        const incident = live.length > 0 ? live.find((i) => i.agent === ai && t0 >= i.start && t0 < i.end) : undefined;
        let rate = rates[ai]!;
        let callsPerTask = a.callsPerTask;
        if (incident?.signal === 'spend_spike') {
          if (incident.variant === 'surge') rate *= incident.size;
          else callsPerTask *= incident.size;
        }
        const tasks = poisson(rand, rate);
        for (let k = 0; k < tasks; k++) {
          const traceId = a.sendsTraceIds ? `t${(this.uid++).toString(36)}` : null;
          const calls = Math.min(1 + geometric(rand, callsPerTask - 1), 80);
          let at = t0 + rand() * MINUTE_MS;
          for (let c = 0; c < calls; c++) {
            const slot = Math.floor(at / MINUTE_MS) - minute;
            if (slot >= QUEUE_MINUTES) break;
            queue[Math.floor(at / MINUTE_MS) % QUEUE_MINUTES]!.push(this.call(rand, ai, at, traceId, null));
            at += 3000 + rand() * 17_000;
          }
        }
        if (incident?.signal === 'runaway_loop') {
          const perMinute = incident.size / 60;
          const n = Math.floor(perMinute) + (rand() < perMinute % 1 ? 1 : 0);
          const trace = incident.variant.includes('trace') ? `loop-${incident.start.toString(36)}` : null;
          const prompt = incident.variant.includes('prompt') ? `fp-${incident.start.toString(36)}` : null;
          for (let k = 0; k < n; k++) queue[minute % QUEUE_MINUTES]!.push(this.call(rand, ai, t0 + rand() * MINUTE_MS, trace, prompt));
        }
      }
      const due = queue[minute % QUEUE_MINUTES]!;
      queue[minute % QUEUE_MINUTES] = [];
      for (const o of due) {
        if (o.at >= to) continue;
        if (live.length > 0 && !this.distort(o, live)) continue;
        onCall(o);
      }
      onTick?.(t0 + MINUTE_MS);
    }
  }

  private call(rand: () => number, ai: number, at: number, traceId: string | null, fingerprint: string | null): Observation {
    const a = this.agents[ai]!;
    const model = rand() < a.mix ? a.models[1] : a.models[0];
    const tokens = Math.max(1, Math.round(a.medianTokens * Math.exp(0.8 * gaussian(rand))));
    const output = Math.round(tokens * OUTPUT_SHARE);
    const costNano = (tokens - output) * model.input + output * model.output;
    // Most prompts are unique; a few are the agent's stock questions.
    const fp = fingerprint ?? (rand() < 0.03 ? `stock-${ai}-${Math.floor(rand() * 5)}` : `p${(this.uid++).toString(36)}`);
    return { at, chain: a.chain, model: model.name, costNano, tokens, traceId, fingerprint: fp };
  }

  /** Applies the incidents holding when the call is made; false when a silent stop swallows it. */
  private distort(o: Observation, live: readonly Incident[]): boolean {
    for (const i of live) {
      if (o.at < i.start || o.at >= i.end || this.agents[i.agent]!.chain !== o.chain) continue;
      if (i.signal === 'silent_stop') return false;
      if (i.signal === 'prompt_bloat') {
        // The context grows: the extra tokens are input, priced at the call's input rate.
        const extra = Math.round(o.tokens * (i.size - 1));
        o.costNano += extra * MODELS.find((m) => m.name === o.model)!.input;
        o.tokens += extra;
      } else if (i.signal === 'price_mix_shift') {
        o.costNano = Math.round(o.costNano * i.size);
        if (i.variant === 'model switch') o.model = `${o.model}-pro`;
      }
    }
    return true;
  }

  /** Seasonal factor at `at` in the agent's local time (mean over a week about 1). */
  private season(a: AgentProfile, at: number): number {
    const local = new Date(at + a.utcOffset * HOUR_MS);
    const hour = local.getUTCHours();
    const day = local.getUTCDay();
    const weekend = day === 0 || day === 6;
    let f: number;
    if (a.pattern === 'office') {
      const working = hour >= 8 && hour < 19;
      f = working ? (weekend ? 0.35 : 2.6) : weekend ? 0.08 : 0.2;
      if (working && !weekend && (hour === 11 || hour === 15)) f *= 1.2;
    } else if (a.pattern === 'always') {
      f = 1 + 0.35 * Math.sin(((hour - 9) / 24) * 2 * Math.PI);
      if (weekend) f *= 0.8;
    } else {
      f = hour >= 1 && hour < 5 ? 4.2 : 0.45;
    }
    if (a.mondayPeak && day === 1 && hour === 9) f *= 3;
    return f;
  }

  private growthAt(a: AgentProfile, at: number): number {
    return Math.pow(1 + a.growth, (at - this.options.start) / (WEEK_HOURS * HOUR_MS));
  }

  private driftOf(agent: number, hour: number): number {
    const key = agent * 1e7 + (hour % 1e7);
    let d = this.drift.get(key);
    if (d === undefined) {
      const r = seededRandom(this.options.seed * 1_000_003 + key);
      d = Math.exp(0.15 * gaussian(r) - 0.15 ** 2 / 2);
      this.drift.set(key, d);
    }
    return d;
  }

  private makeAgents(): void {
    const r = this.rand;
    const teams = Math.max(1, Math.round(this.options.agents / 20));
    for (let i = 0; i < this.options.agents; i++) {
      const team = i % teams;
      const project = Math.floor(i / teams) % 4;
      const patterns: Pattern[] = ['office', 'office', 'always', 'batch'];
      const first = MODELS[Math.floor(r() * 4)]!;
      const second = MODELS[Math.min(MODELS.length - 1, MODELS.indexOf(first) + 1 + Math.floor(r() * 2))]!;
      const g = r();
      const chain: ScopeChain = {
        orgId: 'org-acme',
        orgName: 'acme',
        teamId: `team-${team}`,
        teamName: `team-${team}`,
        projectId: `project-${team}-${project}`,
        projectName: `project-${project}`,
        agentId: `agent-${i}`,
        agentName: `agent-${i}`,
      };
      this.agents.push({
        chain,
        path: `acme/team-${team}/project-${project}/agent-${i}`,
        // Pareto, α 1.2: most agents make a few tasks an hour, a few make hundreds.
        tasksPerHour: Math.min(300, 2.5 * Math.pow(1 - r(), -1 / 1.2)),
        callsPerTask: 2 + r() * 8,
        pattern: patterns[Math.floor(r() * patterns.length)]!,
        utcOffset: [0, 0, 1, -5, -8, 8][Math.floor(r() * 6)]!,
        mondayPeak: r() < 0.2,
        growth: g < 0.4 ? 0.2 : g < 0.6 ? 0.05 : g < 0.7 ? -0.05 : 0,
        medianTokens: Math.round(400 * Math.exp(r() * 3.5)),
        models: [first, second],
        mix: r() < 0.5 ? 0 : r() * 0.4,
        sendsTraceIds: r() < 0.8,
      });
    }
  }

  private makeIncidents(): void {
    const r = this.rand;
    const day = 24 * HOUR_MS;
    const plans: { signal: Signal; hours: [number, number]; size: () => number; variant: () => string }[] = [
      { signal: 'spend_spike', hours: [1, 4], size: () => 3 + r() * 5, variant: () => (r() < 0.5 ? 'surge' : 'longer tasks') },
      { signal: 'runaway_loop', hours: [0.5, 3], size: () => 3600 / (1 + r() * 9), variant: () => ['trace+prompt', 'trace+prompt', 'prompt', 'trace'][Math.floor(r() * 4)]! },
      { signal: 'prompt_bloat', hours: [1, 6], size: () => 3.5 + r() * 4.5, variant: () => 'context' },
      { signal: 'price_mix_shift', hours: [2, 12], size: () => 1.4 + r() * 1.6, variant: () => (r() < 0.5 ? 'price change' : 'model switch') },
      { signal: 'silent_stop', hours: [1, 8], size: () => 0, variant: () => 'stop' },
    ];
    for (const plan of plans) {
      let placed = 0;
      for (let attempt = 0; placed < this.options.incidentsPerSignal && attempt < 10_000; attempt++) {
        const agent = Math.floor(r() * this.agents.length);
        const a = this.agents[agent]!;
        const start = this.streamStart + day + Math.floor((r() * (this.streamEnd - this.streamStart - 3 * day)) / 300_000) * 300_000;
        const end = start + (plan.hours[0] + r() * (plan.hours[1] - plan.hours[0])) * HOUR_MS;
        // An incident is injected where it can show: the agent is busy enough at that moment.
        if (this.expectedCallsPerHour(a, start) < MIN_INCIDENT_CALLS_PER_HOUR) continue;
        if (this.incidents.some((i) => i.agent === agent && i.start < end + day && i.end + day > start)) continue;
        const variant = plan.signal === 'runaway_loop' && !a.sendsTraceIds ? 'prompt' : plan.variant();
        this.incidents.push({ signal: plan.signal, agent, path: a.path, start, end, size: plan.size(), variant });
        placed += 1;
      }
    }
    this.incidents.sort((a, b) => a.start - b.start);
  }
}

function poisson(rand: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rand)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k += 1;
    p *= rand();
  }
  return k;
}

/** Failures before a success, with the given mean. */
function geometric(rand: () => number, mean: number): number {
  if (mean <= 0) return 0;
  const p = 1 / (1 + mean);
  return Math.floor(Math.log(1 - rand()) / Math.log(1 - p));
}

function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
