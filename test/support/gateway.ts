/**
 * A real gateway on 127.0.0.1 port 0 in front of a real simulator on port 0, over a real SQLite
 * file, with an agent key issued the normal way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKey } from '../../src/admin/create-key.ts';
import type { Gateway, GatewayOptions } from '../../src/gateway/server.ts';
import { buildGateway } from '../../src/gateway/server.ts';
import { createUpstreams } from '../../src/gateway/upstreams.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import type { PricingConfig } from '../../src/pricing/index.ts';
import { createPricer, pricingConfigSchema } from '../../src/pricing/index.ts';
import type { Simulator, SimulatorOptions } from '../../src/providers/simulator/index.ts';
import { startSimulator } from '../../src/providers/simulator/index.ts';

export const UPSTREAM_OPENAI_KEY = 'sk-upstream-openai-secret';
export const UPSTREAM_ANTHROPIC_KEY = 'sk-ant-upstream-secret';
export const ADMIN_KEY = 'tga-test-admin-key';
export const AGENT = 'acme/support/helpdesk/triage-bot';

export interface Harness {
  url: string;
  sim: Simulator;
  store: Store;
  gateway: Gateway;
  secret: string;
  keyId: string;
  close(): Promise<void>;
}

export async function startHarness(opts: { sim?: SimulatorOptions; gateway?: Partial<GatewayOptions>; pricing?: unknown; upstreamTimeoutMs?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-gw-'));
  const sim = await startSimulator({ latencyMs: 0, chunkDelayMs: 0, ...opts.sim });
  const store = await openSqliteStore(join(dir, 'ledger.db'));
  const pricing: PricingConfig | undefined = opts.pricing === undefined ? undefined : pricingConfigSchema.parse(opts.pricing);
  const gateway = await buildGateway({
    store,
    pricer: createPricer(pricing),
    upstreams: createUpstreams({
      openai: { base_url: `${sim.url}/v1`, api_key: UPSTREAM_OPENAI_KEY },
      anthropic: { base_url: sim.url, api_key: UPSTREAM_ANTHROPIC_KEY, api: 'anthropic' },
    }, opts.upstreamTimeoutMs === undefined ? {} : { headersTimeoutMs: opts.upstreamTimeoutMs }),
    adminKey: ADMIN_KEY,
    groupCommit: { maxDelayMs: 1 },
    ...opts.gateway,
  });
  const url = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  const { secret, key } = await createKey(store, { scope: AGENT, name: 'test', actor: 'test' });
  await gateway.keys.reload();
  return {
    url,
    sim,
    store,
    gateway,
    secret,
    keyId: key.id,
    async close() {
      await gateway.close();
      await sim.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
