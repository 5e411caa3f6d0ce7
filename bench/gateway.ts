/**
 * Gateway overhead under load: requests per second and latency of OpenAI chat completions (JSON and
 * streaming, 32 and 256 connections) sent (a) straight to the simulator, (b) through a bare
 * pass-through proxy, (c) through Tollgate with full accounting on SQLite, and through Tollgate with
 * budgets active on the key's chain (agent hard daily ceiling, team chargeback monthly, org plan
 * yearly; far too large to refuse, so what is measured is admission, not refusals) with the budget
 * counters (d) in-process and (e) in Redis (redis://127.0.0.1:6379 or $TOLLGATE_BENCH_REDIS; a key
 * prefix unique to the run, whose keys are deleted afterwards), and (f) with anomaly detection on
 * (what `tollgate serve` runs by default; its cost is read against (c)). The simulator, the proxy and each
 * Tollgate run in their own process; the load generator runs in this one. Every figure is the median
 * of `--runs` runs, each after a warm-up; ratios and added latency are against (b). Every run of a
 * Tollgate target is checked: no non-2xx response, one ledger row per 2xx response and, with budgets,
 * counters equal to the ledger with nothing left reserved. Traffic stays on 127.0.0.1.
 *
 *   npm run bench:gateway                                # 3 runs × 6 s per configuration, 6 targets: about 11 minutes
 *   npm run bench:gateway -- --duration 5 --runs 1       # a quicker look
 *   npm run bench:gateway -- --targets b,c,d             # some targets only ((b), the baseline, is always added); no Redis needed
 *   npm run bench:gateway -- --targets c,f               # what anomaly detection costs
 *   npm run bench:gateway -- --profile [--targets f]     # CPU profile of Tollgate (c, or the one of d, e, f named) under 32-connection JSON load
 *
 * The default duration was 8 s with three targets (about 6 minutes); with five it is 6 s.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BudgetCheck } from './gateway/budgets.ts';
import { describeBudgets } from './gateway/budgets.ts';
import type { Child } from './gateway/children.ts';
import { startChild, stopAll } from './gateway/children.ts';
import type { LoadResult } from './gateway/load.ts';
import { load } from './gateway/load.ts';
import { summarise } from './gateway/profile.ts';
import { BENCH_REDIS_URL, deleteRunKeys, redisError, runPrefix } from './gateway/redis.ts';
import { formatTable } from './gateway/table.ts';

const TARGET_IDS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
type TargetId = (typeof TARGET_IDS)[number];
type TollgateId = Exclude<TargetId, 'a' | 'b'>;
const LABELS: Record<TargetId, string> = {
  a: '(a) simulator direct',
  b: '(b) bare proxy',
  c: '(c) Tollgate + SQLite',
  d: '(d) Tollgate + budgets, memory',
  e: '(e) Tollgate + budgets, Redis',
  f: '(f) Tollgate + anomaly detection',
};

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    targets: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const DURATION_S = positive('duration', opts.duration);
const RUNS = Math.round(positive('runs', opts.runs));
const WARMUP_S = positive('warmup', opts.warmup);
const CONNECTIONS = [32, 256] as const;
const MODES = ['json', 'stream'] as const;
type Mode = (typeof MODES)[number];
/** The brief's aim at 32 connections: Tollgate keeps 60% of the bare proxy's RPS and adds at most 2 ms at p99. */
const AIM = { connections: 32, minRatio: 0.6, maxAddedP99Ms: 2 };
/** The spec's aim with budgets on Redis counters: at least half the bare proxy's RPS (every mode and connection count). */
const REDIS_AIM = { minRatio: 0.5 };
/** The spec's aim for anomaly detection: no more than 5% of (c)'s RPS lost. */
const DETECTION_AIM = { maxLoss: 0.05 };

interface Target {
  id: TargetId;
  label: string;
  url: string;
  authorization: string;
  /** The Tollgate process (c, d, e): ledger rows and budget checks. */
  tollgate?: Child;
  /** Budgets are active (d, e). */
  budgets: boolean;
}

/** Done after every child has stopped (Redis keys of the run), on success, error and Ctrl-C alike. */
const cleanups: (() => Promise<void>)[] = [];

// The same request bytes to every target: a short prompt and a fixed 20-token answer, no added latency.
function request(target: Target, mode: Mode): { headers: Record<string, string>; body: string } {
  const body = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say hello to the team.' }], ...(mode === 'stream' ? { stream: true } : {}) };
  return {
    headers: { 'content-type': 'application/json', authorization: target.authorization, 'x-sim-output-tokens': '20' },
    body: JSON.stringify(body),
  };
}

/** `--targets b,c,e` → ['b', 'c', 'e'], in table order. */
function parseTargets(value: string): TargetId[] {
  const ids = value
    .split(',')
    .map((s) => s.trim().toLowerCase().replace(/^\((.)\)$/, '$1'))
    .filter((s) => s !== '');
  for (const id of ids) if (!(TARGET_IDS as readonly string[]).includes(id)) throw new Error(`--targets: unknown target "${id}"; choose from ${TARGET_IDS.join(',')}`);
  if (ids.length === 0) throw new Error(`--targets: name at least one of ${TARGET_IDS.join(',')}`);
  return TARGET_IDS.filter((id) => ids.includes(id));
}

/** Fails early, before any process starts, when (e) is wanted and Redis does not answer. */
async function checkRedis(ids: readonly TargetId[]): Promise<void> {
  if (!ids.includes('e')) return;
  const err = await redisError(BENCH_REDIS_URL);
  if (err) {
    throw new Error(
      `target (e) needs Redis at ${BENCH_REDIS_URL} (${err.message}): start one (e.g. redis-server --save '' --port 6379), set TOLLGATE_BENCH_REDIS, or leave (e) out with --targets a,b,c,d`,
    );
  }
}

/** Starts a Tollgate process: (c) plain, (d) with budgets on in-process counters, (e) on Redis counters, (f) with anomaly detection. */
async function startTollgate(id: TollgateId, simUrl: string, nodeFlags: string[] = []): Promise<Target> {
  const args = [simUrl];
  if (id === 'd' || id === 'e') args.push('--budgets');
  if (id === 'f') args.push('--anomalies');
  if (id === 'e') {
    const prefix = runPrefix();
    args.push('--redis', BENCH_REDIS_URL, '--prefix', prefix);
    // Registered before the process starts, so that keys it may have written go even if it fails.
    cleanups.push(async () => {
      const n = await deleteRunKeys(BENCH_REDIS_URL, prefix);
      console.error(`Redis: deleted the run's ${n} key${n === 1 ? '' : 's'} ({${prefix}}:*) at ${BENCH_REDIS_URL}`);
    });
  }
  const child = await startChild('./tollgate-process.ts', args, nodeFlags);
  return { id, label: LABELS[id], url: child.url, authorization: `Bearer ${String(child.info['key'])}`, tollgate: child, budgets: id === 'd' || id === 'e' };
}

interface Checks {
  rows: number;
  ok: number;
  failed: number;
  /** Runs whose ledger rows differed from their 2xx responses. */
  rowMismatches: number;
  /** The budgets as of the last run (d, e). */
  budgets: BudgetCheck[];
  /** Runs after which some budget's counters differed from the ledger or held a reservation. */
  budgetMismatches: number;
}

async function benchmark(ids: TargetId[]): Promise<void> {
  await checkRedis(ids);
  const sim = await startChild('./sim-process.ts');
  const targets = await Promise.all(
    ids.map(async (id): Promise<Target> => {
      if (id === 'a') return { id, label: LABELS.a, url: sim.url, authorization: 'Bearer sk-bench-direct', budgets: false };
      if (id === 'b') {
        const proxy = await startChild('./proxy-process.ts', [sim.url]);
        return { id, label: LABELS.b, url: proxy.url, authorization: 'Bearer sk-bench-direct', budgets: false };
      }
      return startTollgate(id, sim.url);
    }),
  );
  const results = new Map<string, LoadResult[]>();
  const checks = new Map<TargetId, Checks>(targets.map((t) => [t.id, { rows: 0, ok: 0, failed: 0, rowMismatches: 0, budgets: [], budgetMismatches: 0 }]));
  const total = RUNS * CONNECTIONS.length * MODES.length * targets.length;
  let done = 0;
  console.error(`targets ${ids.join(',')}: ${total} measurements of ${DURATION_S} s, each after ${WARMUP_S} s of warm-up: about ${Math.ceil((total * (DURATION_S + WARMUP_S + 0.5)) / 60)} minutes`);
  const redisTarget = targets.find((t) => t.id === 'e');
  if (redisTarget) console.error(`(e) budget counters: ${String(redisTarget.tollgate?.info['counters'])}`);

  // Runs are interleaved (every configuration once, then again) so slow drift of the machine spreads evenly.
  for (let run = 1; run <= RUNS; run++) {
    for (const connections of CONNECTIONS) {
      for (const mode of MODES) {
        for (const t of targets) {
          const spec = { url: `${t.url}/v1/chat/completions`, connections, ...request(t, mode) };
          await load({ ...spec, seconds: WARMUP_S });
          const before = t.tollgate ? await rowCount(t.tollgate) : 0;
          const r = await load({ ...spec, seconds: DURATION_S });
          const key = `${t.id}|${mode}|${connections}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          const c = checks.get(t.id)!;
          c.ok += r.ok;
          c.failed += r.failed;
          const problems: string[] = [];
          if (r.failed > 0) problems.push(`${r.failed} non-2xx or failed responses${t.budgets ? ' (refused?)' : ''}`);
          if (t.tollgate) {
            const rows = (await rowCount(t.tollgate)) - before;
            c.rows += rows;
            if (rows !== r.ok) {
              c.rowMismatches++;
              problems.push(`${rows} ledger rows for ${r.ok} 2xx responses`);
            }
            if (t.budgets) {
              c.budgets = await budgetChecks(t.tollgate);
              if (!c.budgets.every((b) => b.ok)) {
                c.budgetMismatches++;
                problems.push(`budgets: ${c.budgets.filter((b) => !b.ok).map(describeCheck).join('; ')}`);
              }
            }
          }
          const flag = problems.length > 0 ? `  CHECK FAILED: ${problems.join(', ')}` : '';
          console.error(`[${++done}/${total}] run ${run} ${t.label} ${mode} ×${connections}: ${fmtInt(r.rps)} rps, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)} ms${flag}`);
        }
      }
    }
  }
  if (!report(targets, results, checks)) process.exitCode = 1;
}

/** Prints the table and the checks; false when a check failed. */
function report(targets: Target[], results: Map<string, LoadResult[]>, checks: Map<TargetId, Checks>): boolean {
  const med = (id: TargetId, mode: Mode, connections: number) => {
    const runs = results.get(`${id}|${mode}|${connections}`) ?? [];
    return { rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)) };
  };
  const has = (id: TargetId) => targets.some((t) => t.id === id);
  const rows: (string[] | 'rule')[] = [];
  for (const mode of MODES)
    for (const connections of CONNECTIONS) {
      if (rows.length > 0) rows.push('rule');
      const b = med('b', mode, connections);
      for (const t of targets) {
        const m = med(t.id, mode, connections);
        rows.push([t.label, mode, String(connections), fmtInt(m.rps), `×${(m.rps / b.rps).toFixed(2)}`, fmtMs(m.p50), signed(m.p50 - b.p50), fmtMs(m.p99), signed(m.p99 - b.p99)]);
      }
    }

  // What each feature costs on its own: (d), (e) and (f) against plain Tollgate (c).
  const budgetRows: (string[] | 'rule')[] = [];
  if (has('c'))
    for (const id of ['d', 'e', 'f'] as const) {
      if (!has(id)) continue;
      if (budgetRows.length > 0) budgetRows.push('rule');
      for (const mode of MODES)
        for (const connections of CONNECTIONS) {
          const c = med('c', mode, connections);
          const x = med(id, mode, connections);
          budgetRows.push([`${LABELS[id].slice(0, 3)} vs (c)`, mode, String(connections), `×${(x.rps / c.rps).toFixed(2)}`, signed(x.p50 - c.p50), signed(x.p99 - c.p99)]);
        }
    }

  const aims: string[] = [];
  if (has('c')) {
    const parts = MODES.map((mode) => {
      const b = med('b', mode, AIM.connections);
      const c = med('c', mode, AIM.connections);
      const ratio = c.rps / b.rps;
      const added = c.p99 - b.p99;
      return `${mode} ${ratio >= AIM.minRatio && added <= AIM.maxAddedP99Ms ? 'met' : 'MISSED'} (×${ratio.toFixed(2)}, p99 ${signed(added)} ms)`;
    });
    aims.push(`(c) aim at ${AIM.connections} connections (RPS ≥ ${AIM.minRatio} × (b), added p99 ≤ ${AIM.maxAddedP99Ms} ms): ${parts.join('; ')}`);
  }
  if (has('e'))
    for (const mode of MODES)
      for (const connections of CONNECTIONS) {
        const ratio = med('e', mode, connections).rps / med('b', mode, connections).rps;
        const added = med('e', mode, connections).p99 - med('b', mode, connections).p99;
        aims.push(`(e) aim, ${mode} ×${connections} (RPS ≥ ${REDIS_AIM.minRatio} × (b)): ${ratio >= REDIS_AIM.minRatio ? 'met' : 'MISSED'} (×${ratio.toFixed(2)}; p99 ${signed(added)} ms)`);
      }

  if (has('f') && has('c'))
    for (const mode of MODES)
      for (const connections of CONNECTIONS) {
        const loss = 1 - med('f', mode, connections).rps / med('c', mode, connections).rps;
        aims.push(`(f) aim, ${mode} ×${connections} (RPS lost to detection ≤ ${DETECTION_AIM.maxLoss * 100}% of (c)): ${loss <= DETECTION_AIM.maxLoss ? 'met' : 'MISSED'} (${(loss * 100).toFixed(1)}% lost)`);
      }

  let allOk = true;
  const checkLines: string[] = [];
  for (const t of targets) {
    const c = checks.get(t.id)!;
    const parts: string[] = [];
    const noneFailed = c.failed === 0;
    parts.push(noneFailed ? `no non-2xx${t.budgets ? ' (nothing refused)' : ''}` : `${fmtInt(c.failed)} NON-2XX OR FAILED${t.budgets ? ' (refused?)' : ''}`);
    let ok = noneFailed;
    if (t.tollgate) {
      const rowsOk = c.rowMismatches === 0 && c.rows === c.ok;
      ok &&= rowsOk;
      parts.push(`ledger rows = 2xx responses: ${rowsOk ? 'yes' : `NO in ${c.rowMismatches} runs`} (${fmtInt(c.rows)} rows, ${fmtInt(c.ok)} 2xx)`);
    }
    if (t.budgets) {
      const budgetsOk = c.budgetMismatches === 0 && c.budgets.length > 0 && c.budgets.every((b) => b.ok);
      ok &&= budgetsOk;
      parts.push(`budgets charged, counters = ledger, nothing left reserved: ${budgetsOk ? 'yes' : `NO after ${c.budgetMismatches} runs`} (${c.budgets.map(describeCheck).join('; ')})`);
    }
    allOk &&= ok;
    checkLines.push(`${t.label}: ${parts.join('; ')}`);
  }

  console.log(`\nGateway overhead: OpenAI chat completions, gpt-4.1-mini, 20 output tokens; median of ${RUNS} runs × ${DURATION_S} s (after ${WARMUP_S} s of warm-up)`);
  if (has('d') || has('e')) console.log(`Budgets of (d) and (e), on the key's chain, never reached: ${describeBudgets()}`);
  if (has('e')) console.log(`(e) counters: ${String(targets.find((t) => t.id === 'e')?.tollgate?.info['counters'])}`);
  console.log();
  console.log(formatTable(['target', 'mode', 'connections', 'RPS', '×(b)', 'p50 ms', 'p50 +ms', 'p99 ms', 'p99 +ms'], rows));
  console.log('×(b): RPS ratio to the bare proxy; +ms: latency added over the bare proxy (negative: less).\n');
  if (budgetRows.length > 0) {
    console.log(formatTable(['feature alone', 'mode', 'connections', 'RPS ×(c)', 'p50 +ms', 'p99 +ms'], budgetRows));
    console.log('Feature alone: Tollgate with budgets (d, e) or anomaly detection (f) against plain Tollgate (c): RPS ratio, latency added.\n');
  }
  for (const a of aims) console.log(a);
  console.log(`\nChecks after every measured run${allOk ? ' (all passed)' : ' (SOME FAILED)'}:`);
  for (const l of checkLines) console.log(`  ${l}`);
  return allOk;
}

/** Profiles a Tollgate process under the aim's load (32 connections, JSON) and prints where its CPU time went. */
async function profile(id: TollgateId): Promise<void> {
  await checkRedis([id]);
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-prof-'));
  try {
    const sim = await startChild('./sim-process.ts');
    const t = await startTollgate(id, sim.url, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const spec = { url: `${t.url}/v1/chat/completions`, connections: AIM.connections, ...request(t, 'json') };
    await load({ ...spec, seconds: WARMUP_S });
    const r = await load({ ...spec, seconds: DURATION_S });
    await t.tollgate!.stop(); // the profile is written as the process exits
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the Tollgate process wrote no CPU profile');
    const s = summarise(join(dir, file), resolve(import.meta.dirname, '..'));
    console.log(`\n${t.label} CPU profile: ${AIM.connections} connections, JSON, ${WARMUP_S} s warm-up + ${DURATION_S} s at ${fmtInt(r.rps)} rps (p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)} ms)`);
    console.log(`busy (non-idle) CPU time: ${fmtInt(s.busyMs)} ms, startup included; shares are of that\n`);
    const asRows = (xs: typeof s.ours) => xs.map((x) => [x.name, '', fmtInt(x.ms), `${(100 * x.share).toFixed(1)}%`]);
    console.log(formatTable(['where (self time)', '', 'ms', 'share'], asRows(s.areas)));
    console.log();
    console.log(formatTable(['our code, top functions by self time', '', 'ms', 'share'], asRows(s.ours)));
    console.log();
    console.log(formatTable(['any code, top functions by self time', '', 'ms', 'share'], asRows(s.all)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rowCount(child: Child): Promise<number> {
  const answer = await child.ask('rows');
  if (typeof answer['rows'] !== 'number') throw new Error(`bad answer to "rows": ${JSON.stringify(answer)}`);
  return answer['rows'];
}

async function budgetChecks(child: Child): Promise<BudgetCheck[]> {
  const answer = await child.ask('budgets');
  if (!Array.isArray(answer['budgets'])) throw new Error(`bad answer to "budgets": ${JSON.stringify(answer)}`);
  return answer['budgets'] as BudgetCheck[];
}

function describeCheck(b: BudgetCheck): string {
  const usd = (s: string) => `$${Number(s).toFixed(4)}`;
  const spent = b.counterUsd === b.ledgerUsd ? `${usd(b.counterUsd)} spent` : `counters ${b.counterUsd} ≠ ledger ${b.ledgerUsd}`;
  const reserved = Number(b.reservedUsd) === 0 ? '' : `, ${b.reservedUsd} STILL RESERVED`;
  return `${b.scope} ${b.action}/${b.period} ${spent}${reserved}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, not "${value}"`);
  return n;
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en');
const fmtMs = (n: number) => n.toFixed(2);
const signed = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(2)}`;

async function stopEverything(): Promise<void> {
  await stopAll();
  for (const cleanup of cleanups.splice(0)) {
    await cleanup().catch((err: unknown) => console.error(`warning: cleanup failed: ${String(err)}`));
  }
}

/** The targets to run: all by default; (b) added when missing, since every ratio is to it. */
function benchTargets(): TargetId[] {
  const ids = parseTargets(opts.targets ?? TARGET_IDS.join(','));
  if (ids.includes('b')) return ids;
  console.error('--targets: adding (b), the bare proxy every ratio is measured against');
  return parseTargets(['b', ...ids].join(','));
}

/** `--profile` profiles (c), or the one Tollgate target `--targets` names. */
function profileTarget(): TollgateId {
  const ids = parseTargets(opts.targets ?? 'c');
  const [id] = ids;
  if (ids.length !== 1 || id === undefined || id === 'a' || id === 'b') throw new Error('--profile takes one Tollgate target: --targets c, d, e or f');
  return id;
}

// Children are stopped (and the run's Redis keys deleted) on every way out: success, error, and Ctrl-C.
process.once('SIGINT', () => {
  console.error('\ninterrupted: stopping the benchmark processes');
  void stopEverything().finally(() => process.exit(130));
});
try {
  await (opts.profile ? profile(profileTarget()) : benchmark(benchTargets()));
} finally {
  await stopEverything();
}
