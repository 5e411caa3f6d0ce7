/**
 * Gateway overhead under load: requests per second and latency of OpenAI chat completions (JSON and
 * streaming, 32 and 256 connections) sent (a) straight to the simulator, (b) through a bare
 * pass-through proxy and (c) through Tollgate with full accounting on SQLite. The simulator, the
 * proxy and Tollgate each run in their own process; the load generator runs in this one. Every
 * figure is the median of `--runs` runs, each after a warm-up. Traffic stays on 127.0.0.1.
 *
 *   npm run bench:gateway                          # 3 runs × 8 s per configuration, about 6 minutes
 *   npm run bench:gateway -- --duration 5 --runs 1 # a quicker look
 *   npm run bench:gateway -- --profile             # CPU profile of Tollgate under 32-connection JSON load
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Child } from './gateway/children.ts';
import { startChild, stopAll } from './gateway/children.ts';
import type { LoadResult } from './gateway/load.ts';
import { load } from './gateway/load.ts';
import { summarise } from './gateway/profile.ts';
import { formatTable } from './gateway/table.ts';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
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

interface Target {
  id: 'a' | 'b' | 'c';
  label: string;
  url: string;
  authorization: string;
  /** Ledger row count (Tollgate only). */
  rows?: () => Promise<number>;
}

// The same request bytes to every target: a short prompt and a fixed 20-token answer, no added latency.
function request(target: Target, mode: Mode): { headers: Record<string, string>; body: string } {
  const body = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Say hello to the team.' }], ...(mode === 'stream' ? { stream: true } : {}) };
  return {
    headers: { 'content-type': 'application/json', authorization: target.authorization, 'x-sim-output-tokens': '20' },
    body: JSON.stringify(body),
  };
}

async function benchmark(): Promise<void> {
  const sim = await startChild('./sim-process.ts');
  const [proxy, tollgate] = await Promise.all([startChild('./proxy-process.ts', [sim.url]), startChild('./tollgate-process.ts', [sim.url])]);
  const targets: Target[] = [
    { id: 'a', label: '(a) simulator direct', url: sim.url, authorization: 'Bearer sk-bench-direct' },
    { id: 'b', label: '(b) bare proxy', url: proxy.url, authorization: 'Bearer sk-bench-direct' },
    { id: 'c', label: '(c) Tollgate + SQLite', url: tollgate.url, authorization: `Bearer ${String(tollgate.info['key'])}`, rows: () => rowCount(tollgate) },
  ];
  const results = new Map<string, LoadResult[]>();
  const ledger = { rows: 0, ok: 0 };
  const total = RUNS * CONNECTIONS.length * MODES.length * targets.length;
  let done = 0;
  console.error(`${total} measurements of ${DURATION_S} s, each after ${WARMUP_S} s of warm-up: about ${Math.ceil((total * (DURATION_S + WARMUP_S + 0.5)) / 60)} minutes`);

  // Runs are interleaved (every configuration once, then again) so slow drift of the machine spreads evenly.
  for (let run = 1; run <= RUNS; run++) {
    for (const connections of CONNECTIONS) {
      for (const mode of MODES) {
        for (const t of targets) {
          const spec = { url: `${t.url}/v1/chat/completions`, connections, ...request(t, mode) };
          await load({ ...spec, seconds: WARMUP_S });
          const before = t.rows ? await t.rows() : 0;
          const r = await load({ ...spec, seconds: DURATION_S });
          if (t.rows) {
            ledger.rows += (await t.rows()) - before;
            ledger.ok += r.ok;
          }
          const key = `${t.id}|${mode}|${connections}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          const failed = r.failed > 0 ? `, ${r.failed} FAILED` : '';
          console.error(`[${++done}/${total}] run ${run} ${t.label} ${mode} ×${connections}: ${fmtInt(r.rps)} rps, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)} ms${failed}`);
        }
      }
    }
  }
  report(targets, results, ledger);
}

function report(targets: Target[], results: Map<string, LoadResult[]>, ledger: { rows: number; ok: number }): void {
  const med = (id: string, mode: Mode, connections: number) => {
    const runs = results.get(`${id}|${mode}|${connections}`) ?? [];
    return { rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), failed: runs.reduce((s, r) => s + r.failed, 0) };
  };
  const rows: (string[] | 'rule')[] = [];
  for (const mode of MODES)
    for (const connections of CONNECTIONS)
      for (const t of targets) {
        const m = med(t.id, mode, connections);
        rows.push([t.label, mode, String(connections), fmtInt(m.rps), fmtMs(m.p50), fmtMs(m.p99)]);
      }
  rows.push('rule');
  const aim: string[] = [];
  for (const mode of MODES)
    for (const connections of CONNECTIONS) {
      const b = med('b', mode, connections);
      const c = med('c', mode, connections);
      const ratio = c.rps / b.rps;
      const addedP99 = c.p99 - b.p99;
      rows.push(['(c) vs (b)', mode, String(connections), `×${ratio.toFixed(2)}`, signed(c.p50 - b.p50), signed(addedP99)]);
      if (connections === AIM.connections) {
        const met = ratio >= AIM.minRatio && addedP99 <= AIM.maxAddedP99Ms;
        aim.push(`${mode} ${met ? 'met' : 'MISSED'} (×${ratio.toFixed(2)}, p99 ${signed(addedP99)} ms)`);
      }
    }
  const failed = targets.flatMap((t) => MODES.flatMap((mode) => CONNECTIONS.map((n) => ({ what: `${t.label} ${mode} ×${n}`, failed: med(t.id, mode, n).failed }))));

  console.log(`\nGateway overhead: OpenAI chat completions, gpt-4.1-mini, 20 output tokens; median of ${RUNS} runs × ${DURATION_S} s\n`);
  console.log(formatTable(['target', 'mode', 'connections', 'RPS', 'p50 ms', 'p99 ms'], rows));
  console.log('(c) vs (b): RPS ratio, then the p50 and p99 latency Tollgate adds over the bare proxy.\n');
  console.log(`ledger rows = responses: ${ledger.rows === ledger.ok ? 'yes' : 'NO'} (${fmtInt(ledger.rows)} ledger rows, ${fmtInt(ledger.ok)} 2xx responses over the measured (c) runs)`);
  console.log(`aim at ${AIM.connections} connections (RPS ratio ≥ ${AIM.minRatio}, added p99 ≤ ${AIM.maxAddedP99Ms} ms): ${aim.join('; ')}`);
  for (const f of failed) if (f.failed > 0) console.log(`warning: ${f.what}: ${f.failed} non-2xx or failed responses`);
}

/** Profiles the Tollgate process under the aim's load (32 connections, JSON) and prints where its CPU time went. */
async function profile(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-prof-'));
  try {
    const sim = await startChild('./sim-process.ts');
    const tollgate = await startChild('./tollgate-process.ts', [sim.url], ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const t: Target = { id: 'c', label: 'Tollgate', url: tollgate.url, authorization: `Bearer ${String(tollgate.info['key'])}` };
    const spec = { url: `${t.url}/v1/chat/completions`, connections: AIM.connections, ...request(t, 'json') };
    await load({ ...spec, seconds: WARMUP_S });
    const r = await load({ ...spec, seconds: DURATION_S });
    await tollgate.stop(); // the profile is written as the process exits
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the Tollgate process wrote no CPU profile');
    const s = summarise(join(dir, file), resolve(import.meta.dirname, '..'));
    console.log(`\nTollgate CPU profile: ${AIM.connections} connections, JSON, ${WARMUP_S} s warm-up + ${DURATION_S} s at ${fmtInt(r.rps)} rps (p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)} ms)`);
    console.log(`busy (non-idle) CPU time: ${fmtInt(s.busyMs)} ms, startup included; shares are of that\n`);
    const asRows = (xs: typeof s.ours) => xs.map((x) => [x.name, '', fmtInt(x.ms), `${(100 * x.share).toFixed(1)}%`]);
    console.log(formatTable(['where (self time)', '', 'ms', 'share'], asRows(s.areas)));
    console.log();
    console.log(formatTable(['our code, top functions by self time', '', 'ms', 'share'], asRows(s.ours)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rowCount(child: Child): Promise<number> {
  const answer = await child.ask('rows');
  if (typeof answer['rows'] !== 'number') throw new Error(`bad answer to "rows": ${JSON.stringify(answer)}`);
  return answer['rows'];
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

// Children are stopped on every way out: success, error, and Ctrl-C.
process.once('SIGINT', () => {
  console.error('\ninterrupted: stopping the benchmark processes');
  void stopAll().finally(() => process.exit(130));
});
try {
  await (opts.profile ? profile() : benchmark());
} finally {
  await stopAll();
}
