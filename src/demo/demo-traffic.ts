/**
 * Live demo traffic: a gentle stream of real calls through the gateway itself (to 127.0.0.1 only),
 * from the demo agents' own keys, so the ledger grows as you watch. Each agent calls at the rate its
 * seeded history had at this hour of the week (about one call every 30 s across the demo at 14:00
 * UTC on a weekday, a few an hour at night), so the anomaly detector sees the live calls as normal.
 * Agents that produce outcomes tie every four calls together with a trace id and, like a real
 * agent, report the outcome with `POST /v1/outcomes` when the trace produced one.
 */
import { request } from 'undici';
import { reissueKey } from '../admin/create-key.ts';
import type { Store } from '../ledger/contract.ts';
import type { DemoAgent } from './seed-demo.ts';
import { DEMO_AGENTS, DEMO_OUTCOME_TYPES, demoCallsPerHour } from './seed-demo.ts';

/** Calls per live trace. */
const CALLS_PER_TRACE = 4;
/** The longest wait before the rate is read again (the hour of the week moves on). */
const RECHECK_MS = 10 * 60_000;

export interface DemoTraffic {
  stop(): Promise<void>;
}

export async function startDemoTraffic(store: Store, gatewayUrl: string, opts: { actor: string }): Promise<DemoTraffic> {
  const agents: { spec: DemoAgent; secret: string; name: string; provider: string; model: string; medianInput: number; sigma: number; outcome: { type: string; share: number } | null; calls: number }[] = [];
  for (const a of DEMO_AGENTS) {
    const { secret } = await reissueKey(store, { scope: a.path, name: 'demo-traffic', actor: opts.actor });
    const kind = DEMO_OUTCOME_TYPES.find((t) => t.agent === a.path);
    agents.push({ spec: a, secret, name: a.path.split('/').at(-1)!, provider: a.provider, model: a.routed ?? a.models[0]![0], medianInput: a.medianInput, sigma: a.sigma, outcome: kind ? { type: kind.type, share: kind.share } : null, calls: 0 });
  }
  // Trace ids of this run: a restart starts new traces rather than adding to old ones.
  const run = Date.now().toString(36);
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const inFlight = new Set<Promise<void>>();

  const once = async () => {
    // Which agent calls: in proportion to what each usually does at this hour.
    const now = Date.now();
    let pick = Math.random() * agents.reduce((sum, x) => sum + demoCallsPerHour(x.spec, now), 0);
    const a = agents.find((x) => (pick -= demoCallsPerHour(x.spec, now)) <= 0) ?? agents[0]!;
    const input = Math.max(20, Math.round(a.medianInput * Math.exp(a.sigma * (Math.random() * 2 - 1))));
    const output = Math.max(5, Math.round(input * 0.1 * Math.random()) + 5);
    const stream = Math.random() < 0.5;
    const anthropic = a.provider === 'anthropic';
    const n = a.calls++;
    const trace = a.outcome ? `live-${run}-${a.name}-${Math.floor(n / CALLS_PER_TRACE)}` : null;
    const res = await request(`${gatewayUrl}${anthropic ? '/v1/messages' : '/v1/chat/completions'}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(anthropic ? { 'x-api-key': a.secret, 'anthropic-version': '2023-06-01' } : { authorization: `Bearer ${a.secret}` }),
        ...(trace ? { 'x-tollgate-trace-id': trace } : {}),
        'x-sim-input-tokens': String(input),
        'x-sim-output-tokens': String(output),
        'x-tollgate-customer': `customer-${1 + Math.floor(Math.random() ** 3 * 40)}`,
      },
      body: JSON.stringify({ model: a.model, max_tokens: 1024, stream, messages: [{ role: 'user', content: 'demo traffic' }] }),
    });
    await res.body.dump();
    if (a.outcome && trace && n % CALLS_PER_TRACE === CALLS_PER_TRACE - 1 && Math.random() < a.outcome.share) {
      const out = await request(`${gatewayUrl}/v1/outcomes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${a.secret}` },
        body: JSON.stringify({ type: a.outcome.type, count: 1, occurred_at: new Date().toISOString(), trace_id: trace, idempotency_key: `${trace}-${a.outcome.type}` }),
      });
      await out.body.dump();
    }
  };

  const schedule = () => {
    if (stopped) return;
    // Poisson arrivals at the history's rate for this hour: exponential gaps, bursty like real traffic.
    // Past RECHECK_MS nothing is sent and the rate is read again (exact, arrivals being memoryless).
    const perHour = agents.reduce((sum, x) => sum + demoCallsPerHour(x.spec, Date.now()), 0);
    const gap = (-Math.log(1 - Math.random()) * 3_600_000) / Math.max(perHour, 1e-6);
    timer = setTimeout(() => {
      if (gap <= RECHECK_MS) {
        const p = once()
          .catch(() => undefined)
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      schedule();
    }, Math.min(gap, RECHECK_MS));
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all(inFlight);
    },
  };
}
