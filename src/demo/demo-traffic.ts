/**
 * Live demo traffic: a gentle stream of real calls through the gateway itself (one every ~1.5 s on
 * average, to 127.0.0.1 only), from the demo agents' own keys, so the ledger grows as you watch.
 * Agents that produce outcomes tie every four calls together with a trace id and, like a real
 * agent, report the outcome with `POST /v1/outcomes` when the trace produced one.
 */
import { request } from 'undici';
import { reissueKey } from '../admin/create-key.ts';
import type { Store } from '../ledger/contract.ts';
import { DEMO_AGENTS, DEMO_OUTCOME_TYPES } from './seed-demo.ts';

/** Calls per live trace. */
const CALLS_PER_TRACE = 4;

export interface DemoTraffic {
  stop(): Promise<void>;
}

export async function startDemoTraffic(store: Store, gatewayUrl: string, opts: { actor: string; meanIntervalMs?: number }): Promise<DemoTraffic> {
  const agents: { secret: string; name: string; provider: string; model: string; medianInput: number; sigma: number; outcome: { type: string; share: number } | null; calls: number }[] = [];
  for (const a of DEMO_AGENTS) {
    const { secret } = await reissueKey(store, { scope: a.path, name: 'demo-traffic', actor: opts.actor });
    const kind = DEMO_OUTCOME_TYPES.find((t) => t.agent === a.path);
    agents.push({ secret, name: a.path.split('/').at(-1)!, provider: a.provider, model: a.routed ?? a.models[0]![0], medianInput: a.medianInput, sigma: a.sigma, outcome: kind ? { type: kind.type, share: kind.share } : null, calls: 0 });
  }
  // Trace ids of this run: a restart starts new traces rather than adding to old ones.
  const run = Date.now().toString(36);
  const mean = opts.meanIntervalMs ?? 1500;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const inFlight = new Set<Promise<void>>();

  const once = async () => {
    const a = agents[Math.floor(Math.random() * agents.length)]!;
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
    // Exponential gaps: arrivals look like real, bursty traffic rather than a metronome.
    timer = setTimeout(() => {
      const p = once()
        .catch(() => undefined)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      schedule();
    }, -Math.log(1 - Math.random()) * mean);
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
