/**
 * Live demo traffic: a gentle stream of real calls through the gateway itself (one every ~1.5 s on
 * average, to 127.0.0.1 only), from the demo agents' own keys, so the ledger grows as you watch.
 */
import { request } from 'undici';
import { reissueKey } from '../admin/create-key.ts';
import type { Store } from '../ledger/contract.ts';
import { DEMO_AGENTS } from './seed-demo.ts';

export interface DemoTraffic {
  stop(): Promise<void>;
}

export async function startDemoTraffic(store: Store, gatewayUrl: string, opts: { actor: string; meanIntervalMs?: number }): Promise<DemoTraffic> {
  const agents: { secret: string; provider: string; model: string; medianInput: number; sigma: number }[] = [];
  for (const a of DEMO_AGENTS) {
    const { secret } = await reissueKey(store, { scope: a.path, name: 'demo-traffic', actor: opts.actor });
    agents.push({ secret, provider: a.provider, model: a.models[0]![0], medianInput: a.medianInput, sigma: a.sigma });
  }
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
    const res = await request(`${gatewayUrl}${anthropic ? '/v1/messages' : '/v1/chat/completions'}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(anthropic ? { 'x-api-key': a.secret, 'anthropic-version': '2023-06-01' } : { authorization: `Bearer ${a.secret}` }),
        'x-sim-input-tokens': String(input),
        'x-sim-output-tokens': String(output),
        'x-tollgate-customer': `customer-${1 + Math.floor(Math.random() ** 3 * 40)}`,
      },
      body: JSON.stringify({ model: a.model, max_tokens: 1024, stream, messages: [{ role: 'user', content: 'demo traffic' }] }),
    });
    await res.body.dump();
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
