/**
 * PostgreSQL unreachable under load. `tollgate serve` reaches PostgreSQL through a loopback TCP
 * proxy the test cuts and restores (the shared server itself is never stopped). While it is cut the
 * gateway keeps serving within its policy: a showback scope fails open, a hard ceiling keeps working
 * from the counters (it refuses once spent, never with 503); ledger rows go to the local spool before
 * their responses end, and are replayed exactly once when the database is back. The second outage
 * ends with a SIGKILL: the restarted gateway replays the spool the dead one left.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/admin/create-key.ts';
import { seededRandom } from '../../src/domain/seeded-random.ts';
import type { Ledger } from '../../src/ledger/contract.ts';
import { openStore } from '../../src/ledger/open-store.ts';
import { LedgerSpool } from '../../src/ledger/spool/ledger-spool.ts';
import { createPricer } from '../../src/pricing/index.ts';
import { startSimulator } from '../../src/providers/simulator/index.ts';
import type { CallKind, CallOutcome } from '../support/call-load.ts';
import { audit, figures, runCall, sdkClient } from '../support/call-load.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';
import { startGatewayProcess, writeServeConfig } from '../support/gateway-process.ts';
import type { Harness } from '../support/gateway.ts';
import { startHarness } from '../support/gateway.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const SHOWBACK = 'outage/support/helpdesk/showback-bot';
const HARD = 'outage/support/helpdesk/capped-bot';
/** The capped agent's hard budget: room for about eight of its calls. */
const HARD_BUDGET_NANO = 5_000_000n;
const WORKERS = 8;

const pgUp = await postgresAvailable();
const dir = mkdtempSync(join(tmpdir(), 'tollgate-db-outage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Phase = 'up' | 'outage-1' | 'recovered' | 'outage-2';
interface Tagged extends CallOutcome {
  agent: 'showback' | 'hard';
  phase: Phase;
}

/** Ids of the rows waiting in the spool directory right now. */
function spooledIds(spool: string): string[] {
  const ids: string[] = [];
  for (const f of readdirSync(spool).filter((n) => n.startsWith('ledger-'))) {
    for (const line of readFileSync(join(spool, f), 'utf8').split('\n')) if (line.startsWith('{')) ids.push((JSON.parse(line) as { id: string }).id);
  }
  return ids;
}

describe('PostgreSQL outage under load', () => {
  it.runIf(pgUp)('keeps serving within policy, spools every row and replays it exactly once, also after a crash mid-outage', async () => {
    const schema = testSchemaName();
    const direct = `${PG_URL}?schema=${schema}`;
    const store = await openStore(direct);
    const target = new URL(PG_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(direct);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const sim = await startSimulator({ recordCalls: false });
    const spool = join(dir, 'spool');
    const gateways: GatewayProcess[] = [];
    try {
      const show = await createKey(store, { scope: SHOWBACK, name: 'show', actor: 'test' });
      const hard = await createKey(store, { scope: HARD, name: 'hard', actor: 'test' });
      await store.controls.setBudget({ scopePath: SHOWBACK, amountNano: 1_000_000n, period: 'month', action: 'showback', thresholds: [], timeZone: 'UTC', degradeTo: null }, 'test');
      await store.controls.setBudget({ scopePath: HARD, amountNano: HARD_BUDGET_NANO, period: 'month', action: 'hard', thresholds: [], timeZone: 'UTC', degradeTo: null }, 'test');
      const config = writeServeConfig(dir, { simUrl: sim.url, spool: { dir: spool, retryMs: 250, writeTimeoutMs: 2000 } });
      const env = { TOLLGATE_DB: viaProxy.toString(), TOLLGATE_CONFIG: config, TOLLGATE_ADMIN_KEY: 'tga-outage-test-admin' };
      let gw = await startGatewayProcess(env);
      gateways.push(gw);

      const random = seededRandom(7);
      const outcomes: Tagged[] = [];
      let phase: Phase = 'up';
      let hardOn = false;
      const kinds: CallKind[] = ['sdk-json', 'sdk-stream', 'raw-stream'];
      let stopped = false;
      const worker = async (n: number) => {
        while (!stopped) {
          const agent = hardOn && n % 4 === 1 ? ('hard' as const) : ('showback' as const);
          const secret = agent === 'hard' ? hard.secret : show.secret;
          const kind = kinds[Math.floor(random() * kinds.length)]!;
          // The capped agent's calls are big (about 0.64 m$ each) with a tight bound, so its budget runs out during the outage.
          const shape = agent === 'hard' ? { outputTokens: 400, maxTokens: 500, chunkDelayMs: 0, latencyMs: 0 } : { outputTokens: 5 + Math.floor(random() * 30), chunkDelayMs: Math.floor(random() * 6), latencyMs: Math.floor(random() * 20) };
          const at = phase;
          const o = await runCall(kind, sdkClient(gw.url, secret), gw.url, secret, shape);
          outcomes.push({ ...o, agent, phase: at });
          // A refused or failed call comes back at once: pause so refusals do not crowd out the calls that flow.
          if (o.status !== 200) await sleep(25);
        }
      };
      // One call seeds the capped agent's counter from the ledger while it is reachable; the showback agent's is never seeded before the cut.
      outcomes.push({ ...(await runCall('sdk-json', sdkClient(gw.url, hard.secret), gw.url, hard.secret, { outputTokens: 400, maxTokens: 500, chunkDelayMs: 0, latencyMs: 0 })), agent: 'hard', phase });
      let running = Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));
      await sleep(800);

      proxy.set('reset');
      phase = 'outage-1';
      hardOn = true;
      await sleep(2500);
      const spooled1 = spooledIds(spool);
      proxy.set('up');
      phase = 'recovered';
      await expect.poll(() => spooledIds(spool).length, { timeout: 15_000, interval: 100 }).toBe(0);
      await sleep(500);

      proxy.set('reset');
      phase = 'outage-2';
      await sleep(1500);
      stopped = true;
      const killed = gw.kill('SIGKILL');
      await killed;
      await running;
      const spooled2 = spooledIds(spool);
      proxy.set('up');
      // The next process finds the dead one's spool at start-up and replays it.
      gw = await startGatewayProcess(env);
      gateways.push(gw);
      await expect.poll(() => spooledIds(spool).length, { timeout: 15_000, interval: 100 }).toBe(0);
      stopped = false;
      phase = 'up';
      hardOn = false;
      running = Promise.all(Array.from({ length: 2 }, (_, i) => worker(i)));
      await sleep(300);
      stopped = true;
      await running;
      expect(await gw.kill('SIGTERM')).toEqual({ code: 0, signal: null });

      const pricer = createPricer();
      const agentId = async (path: string) => (await store.directory.getScope(path))!.id;
      const showAudit = await audit(store, pricer, outcomes.filter((o) => o.agent === 'showback'), await agentId(SHOWBACK));
      const hardAudit = await audit(store, pricer, outcomes.filter((o) => o.agent === 'hard'), await agentId(HARD));
      type ReplayLine = { replayed?: number; duplicates?: number; stats?: { spooled: number } };
      const logs = gateways.flatMap((g) => g.logs());
      const replayLines = logs.filter((l) => typeof (l as ReplayLine).replayed === 'number') as ReplayLine[];
      const replayed = replayLines.reduce((n, l) => n + l.replayed!, 0);
      const replayedDuplicates = replayLines.reduce((n, l) => n + (l.duplicates ?? 0), 0);
      // Exact counts of rows that went through the spool: the first process's own count after outage 1 was
      // replayed (it replayed nothing after), and what the dead process left on disk.
      const spooledOutage1 = Math.max(0, ...(gateways[0]!.logs() as ReplayLine[]).filter((l) => typeof l.replayed === 'number').map((l) => l.stats!.spooled));
      const inOutage = (p: Phase) => outcomes.filter((o) => o.phase === p);
      const hardOutage = inOutage('outage-1').filter((o) => o.agent === 'hard');
      const hardCost = (await store.ledger.totals({ within: { tier: 'agent', id: await agentId(HARD) } })).effectiveCostNano;
      // Every row spooled is in the ledger exactly once now (one primary key per id; rollups checked by the audit).
      const missingSpooled = [];
      for (const id of [...spooled1, ...spooled2]) if (!(await store.ledger.get(id))) missingSpooled.push(id);

      const extra = {
        'rows spooled (outage 1)': spooledOutage1,
        'rows spooled (outage 2, then SIGKILL)': spooled2.length,
        'rows replayed': replayed,
        'replayed already in ledger': replayedDuplicates,
        'spooled rows missing now': missingSpooled.length,
      };
      const all = [...outcomes];
      console.log(
        `[db outage] requests: ${all.length}, responses received: ${showAudit.received + hardAudit.received}, refused: ${showAudit.refused + hardAudit.refused}, cut by the kill: ${showAudit.cut + hardAudit.cut}, ` +
          `rows spooled: ${spooledOutage1 + spooled2.length}, rows replayed: ${replayed} (+${replayedDuplicates} already in), ledger rows at the end: ${showAudit.rows + hardAudit.rows}, ` +
          `lost: ${showAudit.lost + hardAudit.lost}, duplicated: ${showAudit.duplicated + hardAudit.duplicated}`,
      );
      console.log(figures('db outage, showback agent', showAudit, extra));
      console.log(
        figures('db outage, capped agent', hardAudit, {
          'outage-1 calls': hardOutage.length,
          'outage-1 200': hardOutage.filter((o) => o.status === 200).length,
          'outage-1 budget_exceeded': hardOutage.filter((o) => o.error === 'budget_exceeded').length,
          'outage-1 503': hardOutage.filter((o) => o.status === 503).length,
          'spent (nano-USD)': hardCost.toString(),
          'budget (nano-USD)': HARD_BUDGET_NANO.toString(),
        }),
      );

      for (const a of [showAudit, hardAudit]) {
        expect(a.problems).toEqual([]);
        expect(a.lost).toBe(0);
        expect(a.duplicated).toBe(0);
        expect(a.wrongCost).toBe(0);
      }
      // Both outages really happened under load, and their rows went through the spool.
      expect(spooled1.length).toBeGreaterThan(5);
      expect(spooledOutage1).toBeGreaterThanOrEqual(spooled1.length);
      expect(spooled2.length).toBeGreaterThan(0);
      expect(missingSpooled).toEqual([]);
      expect(replayed + replayedDuplicates).toBe(spooledOutage1 + spooled2.length);
      expect(inOutage('outage-1').filter((o) => o.agent === 'showback' && o.status === 200).length).toBeGreaterThan(5);
      // Showback fails open: no call of that agent was refused, outage or not.
      expect(showAudit.refused).toBe(0);
      // The hard ceiling worked from the counters: calls went through, then the spent budget refused them; never a 503.
      expect(hardOutage.some((o) => o.status === 200)).toBe(true);
      expect(hardOutage.some((o) => o.error === 'budget_exceeded')).toBe(true);
      expect(hardOutage.filter((o) => o.status === 503)).toEqual([]);
      expect(hardCost).toBeLessThanOrEqual(HARD_BUDGET_NANO);
      // The alert: an error line naming the spool, and the start-up replay of the dead process's spool.
      expect(logs.some((l) => l.level === 50 && l.msg.includes(`spooling rows to ${spool}`))).toBe(true);
      expect(gateways[1]!.logs().some((l) => l.msg.includes('left in the spool by an earlier run'))).toBe(true);
    } finally {
      for (const g of gateways) await g.kill('SIGKILL');
      await sim.close();
      await proxy.close();
      await store.close();
      await dropSchema(schema);
    }
  }, 120_000);
});

describe('a full spool', () => {
  it('pauses model calls with a clear 503 in each API\'s shape, keeps health up, and resumes once replayed', async () => {
    let down = false;
    const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const spool = LedgerSpool.open({ dir: join(dir, 'full-spool'), database: 'full-spool-test', maxBytes: 4096, replayEveryMs: 100 });
    const g: Harness = await startHarness({ gateway: { spool } });
    // The harness's SQLite ledger (the instance the writer holds) fails writes as an unreachable PostgreSQL does.
    const ledger: Ledger = g.store.ledger;
    const real = { record: ledger.record.bind(ledger), get: ledger.get.bind(ledger) };
    ledger.record = (events) => (down ? Promise.reject(refused()) : real.record(events));
    ledger.get = (id) => (down ? Promise.reject(refused()) : real.get(id));
    try {
      const chat = () =>
        request(`${g.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${g.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }),
        });
      down = true;
      const ids: string[] = [];
      let refusal: { status: number; body: { error: { code: string; message: string } } } | null = null;
      for (let i = 0; i < 20 && !refusal; i++) {
        const res = await chat();
        if (res.statusCode === 200) {
          ids.push(res.headers['x-tollgate-request-id'] as string);
          await res.body.dump();
        } else refusal = { status: res.statusCode, body: (await res.body.json()) as { error: { code: string; message: string } } };
      }
      expect(ids.length).toBeGreaterThan(2);
      expect(refusal?.status).toBe(503);
      expect(refusal?.body.error.code).toBe('unavailable');
      expect(refusal?.body.error.message).toMatch(/model calls are paused so that none goes unrecorded: .*fill the local spool .*ledger\.spool\.max_bytes/);
      const anthropic = await request(`${g.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': g.secret, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(anthropic.statusCode).toBe(503);
      expect(await anthropic.body.json()).toMatchObject({ type: 'error', error: { type: expect.any(String) as string } });
      expect((await request(`${g.url}/healthz`)).statusCode).toBe(200);
      expect(g.gateway.writer.spoolBytes).toBeGreaterThanOrEqual(4096);

      down = false;
      await expect.poll(() => g.gateway.writer.spoolBytes, { timeout: 5000, interval: 50 }).toBe(0);
      expect((await chat()).statusCode).toBe(200);
      for (const id of ids) expect(await real.get(id)).toMatchObject({ id, status: 200 });
      console.log(`[full spool] ${ids.length} calls answered and spooled with the database down, then 503 unavailable; all ${ids.length} replayed, calls resumed`);
    } finally {
      await g.close();
    }
  });
});

