/**
 * Child process (c): a real Tollgate gateway with full accounting on a temporary SQLite ledger, in
 * front of the simulator, with one agent key. Command `rows` answers the ledger's row count once
 * every queued row is committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKey } from '../../src/admin/create-key.ts';
import { buildGateway } from '../../src/gateway/server.ts';
import { createUpstreams } from '../../src/gateway/upstreams.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../../src/pricing/index.ts';
import { serve } from './child-io.ts';

const simUrl = process.argv[2];
if (!simUrl) throw new Error('usage: tollgate-process.ts <simulator url>');
const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-gw-'));
const store = await openSqliteStore(join(dir, 'ledger.db'));
// Group-commit defaults and no logger: what `tollgate serve` runs with in production.
const gateway = await buildGateway({
  store,
  pricer: createPricer(),
  upstreams: createUpstreams({ openai: { base_url: `${simUrl}/v1`, api_key: 'sk-bench-upstream' } }),
  adminKey: null,
  logger: false,
});
const { secret } = await createKey(store, { scope: 'bench/load/gateway/agent', name: 'bench', actor: 'bench' });
await gateway.keys.reload();
const url = await gateway.app.listen({ port: 0, host: '127.0.0.1' });

serve(
  { url, key: secret },
  async () => {
    await gateway.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  },
  {
    rows: async () => {
      await gateway.writer.flush();
      return { rows: (await store.ledger.totals({})).calls };
    },
  },
);
