/**
 * Demo data: a small organisation with heavy-tailed agents, weekly seasonality and two incidents,
 * days of calls priced by the real pricer at each call's timestamp. Deterministic ids per (agent, day, n), so seeding twice adds
 * nothing and seeding a day later adds only the new day.
 *
 * So that every report has something to show: outcome types with human baselines, outcomes tied to
 * the seeded traces (idempotency keys derived from the trace ids), two team budgets (one showback,
 * one chargeback) and the org's annual plan. Types and budgets are only created when absent, so a
 * change made by hand survives the next `npm start`.
 *
 * The incidents are on the Anomalies page too: the last three weeks of the generated calls are
 * replayed through the anomaly detector and what it found is stored (replay-anomalies.ts).
 */
import { normCdf } from '../analytics/forecast/normal.ts';
import { usdToNano } from '../domain/money.ts';
import type { Observation } from '../analytics/anomalies/contract.ts';
import type { ScopeChain } from '../domain/scope.ts';
import { seededRandom } from '../domain/seeded-random.ts';
import { usage } from '../domain/usage.ts';
import type { BudgetInput, LedgerEvent, Store } from '../ledger/contract.ts';
import type { OutcomeInput } from '../ledger/outcomes-contract.ts';
import type { Pricer } from '../pricing/index.ts';
import { DEMO_ESCALATION_RATE, DEMO_FRONTIER_WEIGHT, demoFrontierModel, routeDemoCall } from './demo-routing.ts';
import type { ReplayResult } from './replay-anomalies.ts';
import { observationOf, replayDemoAnomalies } from './replay-anomalies.ts';

export interface DemoAgent {
  path: string;
  provider: string;
  /** Models with their share of calls. */
  models: [string, number][];
  callsPerDay: number;
  /** Median input tokens and the spread (log-normal sigma) that makes the tail. */
  medianInput: number;
  sigma: number;
  outputRatio: number;
  cacheShare: number;
  reasoningShare: number;
  /** Calls ask for this routed model (DEMO_ROUTING): its budget tier is the first model, its frontier the last. */
  routed?: string;
}

export const DEMO_AGENTS: readonly DemoAgent[] = [
  { path: 'acme/support/helpdesk/triage-bot', provider: 'anthropic', models: [['claude-haiku-4-5', 0.85], ['claude-sonnet-4-5', 0.15]], callsPerDay: 420, medianInput: 1800, sigma: 0.6, outputRatio: 0.15, cacheShare: 0.6, reasoningShare: 0, routed: 'auto-claude' },
  { path: 'acme/support/helpdesk/summariser', provider: 'openai', models: [['gpt-4.1-mini', 1]], callsPerDay: 260, medianInput: 3500, sigma: 0.5, outputRatio: 0.08, cacheShare: 0.3, reasoningShare: 0 },
  { path: 'acme/eng/code-review/review-bot', provider: 'anthropic', models: [['claude-sonnet-4-5', 1]], callsPerDay: 140, medianInput: 12_000, sigma: 0.9, outputRatio: 0.1, cacheShare: 0.5, reasoningShare: 0 },
  { path: 'acme/eng/ci/test-fixer', provider: 'anthropic', models: [['claude-sonnet-4-5', 0.7], ['claude-opus-4-5', 0.3]], callsPerDay: 90, medianInput: 30_000, sigma: 1.2, outputRatio: 0.06, cacheShare: 0.7, reasoningShare: 0 },
  { path: 'acme/sales/leads/qualifier', provider: 'openai', models: [['gpt-4.1-mini', 0.8], ['gpt-4o', 0.2]], callsPerDay: 180, medianInput: 900, sigma: 0.4, outputRatio: 0.2, cacheShare: 0, reasoningShare: 0 },
  { path: 'acme/research/deep/analyst', provider: 'openai', models: [['o3', 1]], callsPerDay: 25, medianInput: 20_000, sigma: 1.4, outputRatio: 0.25, cacheShare: 0.2, reasoningShare: 0.7 },
];

const DAY_MS = 86_400_000;

interface DemoOutcomeType {
  project: string;
  type: string;
  name: string;
  unit: string;
  baseline: string;
  target: string;
  /** The agent whose traces produce it, and the share of its traces that do. */
  agent: string;
  share: number;
  /** Business value of one outcome, if any. */
  value?: string;
}

/** What the demo projects produce, and what a person doing it would cost. Research has none: its spend shows as unmeasured. */
export const DEMO_OUTCOME_TYPES: readonly DemoOutcomeType[] = [
  { project: 'acme/support/helpdesk', type: 'resolved_ticket', name: 'Resolved ticket', unit: 'ticket', baseline: '6.00', target: '1.50', agent: 'acme/support/helpdesk/triage-bot', share: 0.8 },
  { project: 'acme/eng/code-review', type: 'merged_pr', name: 'Merged PR', unit: 'PR', baseline: '45.00', target: '10.00', agent: 'acme/eng/code-review/review-bot', share: 0.5 },
  { project: 'acme/eng/ci', type: 'fixed_test', name: 'Fixed failing test', unit: 'test', baseline: '30.00', target: '8.00', agent: 'acme/eng/ci/test-fixer', share: 0.6 },
  { project: 'acme/sales/leads', type: 'qualified_lead', name: 'Qualified lead', unit: 'lead', baseline: '12.00', target: '0.50', agent: 'acme/sales/leads/qualifier', share: 0.3, value: '150.00' },
];

/** Team budgets (one of each mode) and the org's annual plan. */
export const DEMO_BUDGETS: readonly Omit<BudgetInput, 'thresholds' | 'timeZone' | 'degradeTo'>[] = [
  { scopePath: 'acme', amountNano: usdToNano('12000'), period: 'year', action: 'plan' },
  { scopePath: 'acme/support', amountNano: usdToNano('100'), period: 'month', action: 'showback' },
  { scopePath: 'acme/eng', amountNano: usdToNano('1500'), period: 'month', action: 'chargeback' },
];

/**
 * Incidents the history should show, in days before today: a runaway retry loop (one trace id,
 * hundreds of calls in the small hours) and a prompt-bloat week (3× input per call).
 */
const INCIDENTS = {
  runawayLoop: { agent: 'acme/eng/ci/test-fixer', daysAgo: 20, startHour: 2, hours: 3, extraCalls: 900 },
  promptBloat: { agent: 'acme/support/helpdesk/summariser', fromDaysAgo: 12, toDaysAgo: 6, factor: 3 },
} as const;

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export interface SeedResult {
  chains: Map<string, ScopeChain>;
  created: string[];
  inserted: number;
  total: number;
  /** Outcomes recorded by this run, and seen in all (the rest were there already). */
  outcomes: { inserted: number; total: number };
  /** What the anomaly detector found replaying the history, and how many episodes this run stored; null when not replayed. */
  anomalies: ReplayResult | null;
}

/** Outcome types and budgets the demo needs, each only when absent. */
async function seedControls(store: Store, actor: string): Promise<void> {
  const types = new Set((await store.outcomes.listTypes({ under: 'acme' })).map((t) => `${t.projectPath}:${t.type}`));
  for (const t of DEMO_OUTCOME_TYPES) {
    if (types.has(`${t.project}:${t.type}`)) continue;
    await store.outcomes.setType({ projectPath: t.project, type: t.type, displayName: t.name, unit: t.unit, baselineNano: usdToNano(t.baseline), targetNano: usdToNano(t.target) }, actor);
  }
  const budgets = new Set((await store.controls.listBudgets({ under: 'acme' })).map((b) => `${b.scopePath}:${b.period}`));
  for (const b of DEMO_BUDGETS) {
    if (budgets.has(`${b.scopePath}:${b.period}`)) continue;
    await store.controls.setBudget({ ...b, thresholds: [50, 80, 100], timeZone: 'UTC', degradeTo: null }, actor);
  }
}

/**
 * Calls an hour the seeded history expects of a demo agent at `at`: its calls a day (a third on
 * weekends) spread over the day as the history spreads them, a bump around 14:00 UTC. Live demo
 * traffic follows it, so the anomaly detector sees live calls as normal against the history.
 */
export function demoCallsPerHour(agent: DemoAgent, at: number): number {
  const weekday = new Date(at).getUTCDay();
  const hour = new Date(at).getUTCHours();
  // The history draws hour = round(14 + 4·N(0,1)), clamped to 0..23.
  const below = (h: number) => normCdf((h - 14) / 4);
  const share = hour === 0 ? below(0.5) : hour === 23 ? 1 - below(22.5) : below(hour + 0.5) - below(hour - 0.5);
  return agent.callsPerDay * (weekday === 0 || weekday === 6 ? 0.35 : 1) * share;
}

/** The outcomes a day's traces produced: a deterministic share of each producing agent's traces, reported when the trace's last call ended. */
function outcomesOf(events: readonly LedgerEvent[]): OutcomeInput[] {
  const ends = new Map<string, { end: number; chain: ScopeChain; kind: DemoOutcomeType }>();
  for (const e of events) {
    const kind = DEMO_OUTCOME_TYPES.find((t) => t.agent === `${e.chain.orgName}/${e.chain.teamName}/${e.chain.projectName}/${e.chain.agentName}`);
    if (!kind || e.traceId === null) continue;
    const at = ends.get(e.traceId);
    if (!at) ends.set(e.traceId, { end: e.endedAt, chain: e.chain, kind });
    else at.end = Math.max(at.end, e.endedAt);
  }
  const out: OutcomeInput[] = [];
  for (const [trace, { end, chain, kind }] of ends) {
    // An even share of traces (the k-th produces one when k × share crosses a whole number), so weekly
    // $/outcome moves with the ledger's incidents rather than with dice. The runaway loop did fix its
    // test in the end: the most expensive outcome of the quarter.
    const k = Number(/^demo-trace-\d+-(\d+)-/.exec(trace)?.[1] ?? NaN);
    if (!trace.includes('-runaway-') && !(Math.floor((k + 1) * kind.share) > Math.floor(k * kind.share))) continue;
    out.push({
      type: kind.type,
      count: 1,
      occurredAt: end + 1000,
      traceId: trace,
      valueNano: kind.value === undefined ? null : usdToNano(kind.value),
      idempotencyKey: `demo-${trace}-${kind.type}`,
      chain,
      keyId: null,
    });
  }
  return out;
}

export async function seedDemo(store: Store, pricer: Pricer, opts: { now: number; days?: number; actor: string; replayAnomalies?: boolean }): Promise<SeedResult> {
  const chains = new Map<string, ScopeChain>();
  const created: string[] = [];
  for (const a of DEMO_AGENTS) {
    const res = await store.directory.ensureScope(a.path, { create: true, actor: opts.actor });
    created.push(...res.created);
    const [org, team, project, agent] = res.nodes;
    chains.set(a.path, {
      orgId: org!.id, orgName: org!.slug, teamId: team!.id, teamName: team!.slug,
      projectId: project!.id, projectName: project!.slug, agentId: agent!.id, agentName: agent!.slug,
    });
  }
  await seedControls(store, opts.actor);
  const days = opts.days ?? 30;
  const today = Math.floor(opts.now / DAY_MS);
  let inserted = 0;
  let total = 0;
  const produced: OutcomeInput[] = [];
  const observed: Observation[] = [];
  for (let day = today - days + 1; day <= today; day++) {
    const events: LedgerEvent[] = [];
    for (const a of DEMO_AGENTS) {
      const chain = chains.get(a.path)!;
      const r = seededRandom(hash(`${a.path}:${day}`));
      const weekday = new Date(day * DAY_MS).getUTCDay();
      const calls = Math.round(a.callsPerDay * (weekday === 0 || weekday === 6 ? 0.35 : 1) * (0.8 + 0.4 * r()));
      const loop = INCIDENTS.runawayLoop;
      const inLoop = a.path === loop.agent && day === today - loop.daysAgo;
      const bloat = INCIDENTS.promptBloat;
      const bloated = a.path === bloat.agent && day >= today - bloat.fromDaysAgo && day <= today - bloat.toDaysAgo;
      for (let n = 0; n < calls + (inLoop ? loop.extraCalls : 0); n++) {
        const looping = n >= calls;
        // Office hours are busier: draw the hour from a bump around 14:00 UTC; the loop runs at night.
        const hour = looping ? loop.startHour + Math.floor(((n - calls) / loop.extraCalls) * loop.hours) : Math.min(23, Math.max(0, Math.round(14 + 4 * normal(r))));
        const startedAt = day * DAY_MS + hour * 3_600_000 + Math.floor(r() * 3_600_000);
        if (startedAt > opts.now) continue;
        let pick = r();
        const model = a.models.find(([, share]) => (pick -= share) <= 0)?.[0] ?? a.models[0]![0];
        const weight = a.routed !== undefined && model === demoFrontierModel(a.routed) ? DEMO_FRONTIER_WEIGHT : 1;
        const inputAll = Math.max(50, Math.round(a.medianInput * weight * (bloated ? bloat.factor : 1) * Math.exp(a.sigma * normal(r))));
        const cached = a.provider === 'anthropic' || a.cacheShare > 0 ? Math.floor(inputAll * a.cacheShare * r()) : 0;
        const cacheWrite = a.provider === 'anthropic' && r() < 0.1 ? Math.floor((inputAll - cached) * 0.5) : 0;
        const output = Math.max(1, Math.round(inputAll * a.outputRatio * (0.5 + r())));
        const u = usage({
          inputTokens: inputAll - cached - cacheWrite,
          cacheReadTokens: cached,
          cacheWrite5mTokens: cacheWrite,
          outputTokens: output,
          reasoningTokens: Math.floor(output * a.reasoningShare),
        });
        const q = pricer.price(a.provider, model, u, startedAt);
        const failed = r() < 0.01;
        const latencyMs = Math.round(400 + output * 12 * (0.5 + r()));
        const event: LedgerEvent = {
          id: `demo-${chain.agentId.slice(0, 8)}-${day}-${n}`,
          startedAt,
          endedAt: startedAt + latencyMs,
          chain,
          keyId: null,
          provider: a.provider,
          requestedModel: model,
          servedModel: model,
          route: a.provider === 'anthropic' ? 'anthropic.messages' : 'openai.chat',
          status: failed ? 529 : 200,
          errorCode: failed ? 'upstream_error' : null,
          usage: failed ? usage({}) : u,
          listCostNano: failed ? 0n : q.listNano,
          effectiveCostNano: failed ? 0n : q.effectiveNano,
          priceSource: q.source,
          latencyMs,
          stream: r() < 0.5,
          estimated: false,
          traceId: looping ? `demo-trace-${day}-runaway-${chain.agentName}` : `demo-trace-${day}-${Math.floor(n / 4)}-${chain.agentName}`,
          tags: { customer: `customer-${1 + Math.floor(Math.pow(r(), 3) * 40)}`, demo: 'true' },
        };
        events.push(...(a.routed === undefined ? [event] : routeDemoCall(event, a.routed, pricer, r() < DEMO_ESCALATION_RATE, n)));
      }
    }
    total += events.length;
    inserted += (await store.ledger.record(events)).inserted;
    produced.push(...outcomesOf(events));
    for (const e of events) {
      const o = observationOf(e);
      if (o) observed.push(o);
    }
  }
  // One transaction for all of them: on a restart every key is already there and this is one quick pass.
  const outcomes = { inserted: (await store.outcomes.record(produced)).inserted, total: produced.length };
  // The incidents, as the detector would have seen them live: the Anomalies page has them from the start.
  const anomalies = opts.replayAnomalies === false ? null : await replayDemoAnomalies(store, observed, { now: opts.now });
  return { chains, created, inserted, total, outcomes, anomalies };
}
