/**
 * Child process (c, d, e): a real Tollgate gateway with full accounting on a temporary SQLite ledger,
 * in front of the simulator, with one agent key (scope bench/load/gateway/agent).
 *
 *   tollgate-process.ts <simulator url> [--budgets] [--anomalies] [--redis <url> --prefix <key prefix>]
 *
 * --budgets sets three budgets on the key's chain, each far too large to refuse during a benchmark,
 * so every call pays admission (one reservation over all three counters, one settle) and nothing is
 * refused: agent hard daily ceiling, team chargeback monthly, org plan yearly. --redis puts the
 * counters in Redis under the hash tag `{<prefix>}` (the parent deletes those keys afterwards);
 * otherwise they are in-process.
 *
 * Commands: `rows` answers the ledger's row count once every queued row is committed; `budgets`
 * answers each budget's spend as the counters hold it and as the ledger holds it, and what is still
 * reserved (after waiting up to a second for settles in flight).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKey } from '../../src/admin/create-key.ts';
import { budgetStatus } from '../../src/analytics/budget-status.ts';
import type { Counters } from '../../src/counters/contract.ts';
import { MemoryCounters } from '../../src/counters/memory/memory-counters.ts';
import { RedisCounters } from '../../src/counters/redis/redis-counters.ts';
import { parsePeriod, periodWindow } from '../../src/domain/budget-period.ts';
import { nanoToDecimalString, usdToNano } from '../../src/domain/money.ts';
import { Detector } from '../../src/analytics/anomalies/detector.ts';
import { buildGateway } from '../../src/gateway/server.ts';
import { createUpstreams } from '../../src/gateway/upstreams.ts';
import type { BudgetInput } from '../../src/ledger/contract.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../../src/pricing/index.ts';
import type { BudgetCheck } from './budgets.ts';
import { BENCH_BUDGETS, BENCH_KEY_SCOPE } from './budgets.ts';
import { serve } from './child-io.ts';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { budgets: { type: 'boolean', default: false }, anomalies: { type: 'boolean', default: false }, redis: { type: 'string' }, prefix: { type: 'string' } },
});
const simUrl = positionals[0];
if (!simUrl) throw new Error('usage: tollgate-process.ts <simulator url> [--budgets] [--redis <url> --prefix <key prefix>]');
if (o.redis !== undefined && o.prefix === undefined) throw new Error('--redis needs --prefix (a key prefix unique to this run)');

let counters: Counters & { location: string };
if (o.redis !== undefined) {
  const redis = await RedisCounters.open({ url: o.redis, prefix: o.prefix! });
  if (!(await redis.ready())) {
    await redis.close();
    throw new Error(`Redis at ${redis.location} is not reachable`);
  }
  counters = redis;
} else {
  counters = Object.assign(new MemoryCounters(), { location: 'in-process' });
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-gw-'));
const store = await openSqliteStore(join(dir, 'ledger.db'));
// Group-commit defaults and no logger: what `tollgate serve` runs with in production.
const gateway = await buildGateway({
  store,
  pricer: createPricer(),
  upstreams: createUpstreams({ openai: { base_url: `${simUrl}/v1`, api_key: 'sk-bench-upstream' } }),
  adminKey: null,
  logger: false,
  counters,
  // Detection as `tollgate serve` runs it (default options), without sinks: evaluation on its timer, every 60 s.
  anomalies: o.anomalies ? { detector: new Detector(), dispatcher: null } : null,
});
const { secret } = await createKey(store, { scope: BENCH_KEY_SCOPE, name: 'bench', actor: 'bench' });
await gateway.keys.reload();
if (o.budgets) {
  for (const b of BENCH_BUDGETS) {
    const input: BudgetInput = { scopePath: b.scope, amountNano: usdToNano(b.usd), period: b.period, action: b.action, thresholds: [50, 80, 100], timeZone: 'UTC', degradeTo: null };
    await store.controls.setBudget(input, 'bench');
  }
  await gateway.controls.reload();
}
const url = await gateway.app.listen({ port: 0, host: '127.0.0.1' });

async function budgets(): Promise<{ budgets: BudgetCheck[] }> {
  await gateway.writer.flush();
  const policies = await store.controls.listBudgets();
  for (let attempt = 1; ; attempt++) {
    const now = Date.now();
    const keys = policies.map((p) => `b:${p.id}:${periodWindow(parsePeriod(p.period), p.timeZone, now).start}`);
    const [states, status] = await Promise.all([counters.read(keys, now), budgetStatus(policies, { ledger: store.ledger, counters: null, now })]);
    const checks = policies.map((p, i): BudgetCheck => {
      const counter = states[i]?.spent ?? 0n;
      const ledger = status[i]!.spentNano;
      const reserved = states[i]?.reserved ?? 0n;
      return {
        scope: p.scopePath,
        action: p.action,
        period: p.period,
        counterUsd: nanoToDecimalString(counter),
        ledgerUsd: nanoToDecimalString(ledger),
        reservedUsd: nanoToDecimalString(reserved),
        ok: counter === ledger && reserved === 0n && counter > 0n,
      };
    });
    // Settles run as responses end: give the last ones a moment.
    if (attempt >= 10 || checks.every((c) => c.ok)) return { budgets: checks };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

serve(
  { url, key: secret, counters: counters.location, budgets: o.budgets },
  async () => {
    await gateway.close();
    await counters.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  },
  {
    rows: async () => {
      await gateway.writer.flush();
      return { rows: (await store.ledger.totals({})).calls };
    },
    budgets,
  },
);
