/**
 * How fast the dashboard is on the demo data: the latency of each `/api/` read the pages make on
 * first load, and the overview's first paint in Chromium, cold.
 *
 *   npm run bench:dashboard                                # 20 requests per route, 7 cold loads: about a minute
 *   npm run bench:dashboard -- --requests 50 --runs 11
 *   npm run bench:dashboard -- --json                      # one JSON document on stdout instead of the tables
 *
 * Starts `tollgate serve --port 0 --no-traffic` exactly as a new user would (demo mode: 90 days of
 * seeded history in a temporary SQLite ledger, the built dashboard at `/`; web/dist is rebuilt when
 * stale). Then:
 *
 * 1. each route, after 3 warm-ups, `--requests` times in a row with the admin key (GET /api/session
 *    with the session cookie, as the page asks it): median, p90 and max of the time to the whole body;
 * 2. Debian's Chromium (playwright-core) signs in once through the page; each of `--runs` cold loads
 *    of `/#/overview` (after one that is not counted) is a new browser context holding only that
 *    session (no HTTP cache): the browser's first-contentful-paint, when the page asked for and got
 *    /api/overview, the frame in which the month-to-date figure is visible, and the frame in which
 *    every chart on the page is drawn, all from the start of navigation. A second page in the same
 *    context repeats the load with the assets in the HTTP cache. The bytes of the first cold load
 *    are summed by type from the responses.
 *
 * Traffic stays on 127.0.0.1. The run stops by itself after DEADLINE_MS, cleaning up what it made.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser, BrowserContext } from 'playwright-core';
import { chromiumAvailable, launchChromium, newPage, VIEWPORTS } from '../test/e2e/browser.ts';
import { ensureDashboardBuilt } from '../test/e2e/dashboard-build.ts';
import { formatTable } from './gateway/table.ts';
import { stopAfter } from './run-deadline.ts';

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '20' },
    runs: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
  },
});
const REQUESTS = whole('requests', opts.requests, 1, 1000);
const RUNS = whole('runs', opts.runs, 1, 50);
const WARMUPS = 3;
/** The aim: the overview's first paint on the demo data well under a second. */
const AIM_MS = 1000;
const DEADLINE_MS = 10 * 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const ADMIN_KEY = `tga-bench-${randomBytes(18).toString('base64url')}`;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function whole(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} is a whole number from ${min} to ${max}; got "${text}"`);
  return n;
}

const log = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

interface Route {
  path: string;
  /** The path as the table shows it, when it carries a figure of the moment. */
  label?: string;
  what: string;
  /** The session route answers by cookie, as the page asks it; every other route gets the admin key. */
  byCookie?: boolean;
}

/** What the pages ask for on first load, with the query each page sends by default. */
function routes(now: number): Route[] {
  const weekAgo = Math.floor((now - 7 * DAY_MS) / HOUR_MS) * HOUR_MS;
  return [
    { path: '/api/session', what: 'who is signed in (every load)', byCookie: true },
    { path: '/api/overview', what: 'overview: month to date, forecast, movers, trend' },
    { path: '/api/scopes', what: 'scope tree (every scope picker)' },
    { path: '/api/rollout', what: 'rollout status (the landing page)' },
    { path: '/api/spend?scope=acme', what: 'explore table: this month by team' },
    { path: '/api/spend/series?scope=acme&bucket=day&groupBy=team', what: 'explore series: day buckets, this month, by team' },
    { path: `/api/spend/series?scope=acme&bucket=hour&groupBy=agent&from=${weekAgo}`, label: '/api/spend/series?scope=acme&bucket=hour&groupBy=agent&from=<7 days ago>', what: 'explore series: hour buckets, 7 days, by agent' },
    { path: '/api/calls?limit=50', what: 'calls: first 50 rows of this month and their total' },
    { path: '/api/budgets', what: 'budget use per policy' },
    { path: '/api/anomalies?open=1&limit=200', what: 'open anomalies' },
    { path: '/api/reports/routing?days=30', what: 'routing report, 30 days' },
    { path: '/api/forecast?months=3', what: 'forecast, 3 months (API trials; ledger reads reused)' },
  ];
}

interface ApiResult {
  route: string;
  what: string;
  firstMs: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
  bytes: number;
}

interface LoadTimes {
  fcpMs: number | null;
  /** When the page asked for the overview's data (/api/overview): its script has loaded and run. */
  askedMs: number | null;
  /** When the last byte of that data arrived. */
  dataMs: number | null;
  /** Of which, from sending the request to the first byte of the answer: the gateway's work. */
  dataWaitMs: number | null;
  mtdMs: number;
  chartsMs: number;
  charts: number;
}

interface Transfer {
  type: string;
  file: string;
  bytes: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const ms = (x: number | null) => (x === null ? '–' : x.toFixed(x < 10 ? 2 : 0));
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

/** `tollgate serve` in demo mode without live traffic, on a port of its own, in a temporary ledger. */
async function startGateway(dir: string): Promise<{ child: ChildProcess; url: string; calls: number; seconds: number }> {
  const env: NodeJS.ProcessEnv = {};
  // Nothing of the caller's Tollgate settings (a config file, Redis, a port) leaks into the measured server.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TOLLGATE_')) env[k] = v;
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'bin/tollgate.js'), 'serve', '--port', '0', '--no-traffic'], {
    cwd: dir,
    env: { ...env, TOLLGATE_DB: join(dir, 'demo.db'), TOLLGATE_CONFIG: '', TOLLGATE_ADMIN_KEY: ADMIN_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // Keep reading (a full pipe would stall the server), but keep only the start for diagnostics.
  const keep = (d: Buffer) => {
    if (out.length < 20_000) out += d.toString();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  for (const until = Date.now() + 180_000; !out.includes('Dashboard:') && child.exitCode === null && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
  const url = /Dashboard: (http:\/\/\S+?)\/ /.exec(out)?.[1];
  if (url === undefined) throw new Error(`tollgate serve did not print its dashboard address within 3 minutes (exit code ${child.exitCode}):\n${out}`);
  const calls = Number(/Seeded ([\d,]+) calls/.exec(out)?.[1]?.replace(/,/g, '') ?? 0);
  return { child, url, calls, seconds: (performance.now() - t0) / 1000 };
}

async function stopGateway(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function sessionCookie(url: string): Promise<string> {
  const res = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: ADMIN_KEY }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (res.status !== 200 || cookie === undefined) throw new Error(`POST /api/session answered ${res.status} without a session cookie: ${await res.text()}`);
  return cookie;
}

/** One GET, timed to the end of its body; any status but 200 stops the run (a fast error is no figure). */
async function timedGet(url: string, route: Route, cookie: string): Promise<{ ms: number; bytes: number }> {
  const headers: Record<string, string> = route.byCookie ? { cookie } : { authorization: `Bearer ${ADMIN_KEY}` };
  const t0 = performance.now();
  const res = await fetch(`${url}${route.path}`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = await res.arrayBuffer();
  const took = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${route.path} answered ${res.status}: ${Buffer.from(body).toString().slice(0, 300)}`);
  return { ms: took, bytes: body.byteLength };
}

async function measureApi(url: string): Promise<ApiResult[]> {
  const cookie = await sessionCookie(url);
  const results: ApiResult[] = [];
  for (const route of routes(Date.now())) {
    let first = 0;
    for (let i = 0; i < WARMUPS; i++) {
      const t = await timedGet(url, route, cookie);
      if (i === 0) first = t.ms;
    }
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const t = await timedGet(url, route, cookie);
      times.push(t.ms);
      bytes = t.bytes;
    }
    times.sort((a, b) => a - b);
    results.push({ route: route.label ?? route.path, what: route.what, firstMs: first, medianMs: percentile(times, 50), p90Ms: percentile(times, 90), maxMs: times[times.length - 1]!, bytes });
    log(`${route.label ?? route.path}: median ${ms(percentile(times, 50))} ms`);
  }
  return results;
}

/**
 * Runs in the page before its own scripts: every animation frame, until both are true, notes when
 * the month-to-date figure is laid out and visible, then when the page has charts and every one is
 * drawn. Times are ms since the start of navigation, like the paint entries.
 */
const MARKS_SCRIPT = `(() => {
  const marks = {};
  globalThis.__dashboardBench = marks;
  const visible = (el) => el !== null && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const frame = () => {
    const now = performance.now();
    if (marks.mtd === undefined && visible(document.querySelector('[data-testid="kpi-month-to-date"]'))) marks.mtd = now;
    if (marks.mtd !== undefined && marks.charts === undefined) {
      const charts = document.querySelectorAll('main .chart');
      if (charts.length > 0 && document.querySelectorAll('main .chart:not([data-drawn])').length === 0) {
        marks.charts = now;
        marks.chartCount = charts.length;
      }
    }
    if (marks.charts === undefined) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();`;

interface Marks {
  mtd: number;
  charts: number;
  chartCount: number;
  fcp: number | null;
  asked: number | null;
  data: number | null;
  dataWait: number | null;
}

/**
 * What the in-page functions read. This file compiles against Node's types (no DOM lib), and the
 * page's CSP forbids evaluating strings, so functions cast globalThis to these few members.
 */
interface BenchGlobals {
  __dashboardBench?: Omit<Marks, 'fcp' | 'asked' | 'data' | 'dataWait'>;
  performance: {
    getEntriesByName(name: string): { startTime: number }[];
    getEntriesByType(type: 'resource'): { name: string; startTime: number; requestStart: number; responseStart: number; responseEnd: number }[];
  };
}

/** One load of the overview in a new page of `context`; the bytes of every response when `transfers` is given. */
async function loadOverview(context: BrowserContext, url: string, transfers?: Transfer[]): Promise<LoadTimes> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const sizes: Promise<void>[] = [];
  if (transfers !== undefined) {
    page.on('requestfinished', (r) => {
      sizes.push(
        r.sizes().then((s) => {
          const path = new URL(r.url()).pathname;
          transfers.push({ type: r.resourceType(), file: path.replace(/^\/assets\//, ''), bytes: s.responseBodySize + s.responseHeadersSize });
        }),
      );
    });
  }
  try {
    await page.addInitScript({ content: MARKS_SCRIPT });
    await page.goto(`${url}/#/overview`, { waitUntil: 'commit' });
    try {
      await page.waitForFunction(() => (globalThis as unknown as BenchGlobals).__dashboardBench?.charts !== undefined, undefined, { timeout: REQUEST_TIMEOUT_MS });
    } catch (err) {
      const text = await page.locator('body').textContent().catch(() => '');
      throw new Error(`the overview did not finish drawing in ${REQUEST_TIMEOUT_MS / 1000} s; page says: ${(text ?? '').slice(0, 300)}; errors: ${errors.join(' | ')}`, { cause: err });
    }
    const marks = await page.evaluate((): Marks => {
      const g = globalThis as unknown as BenchGlobals;
      const data = g.performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === '/api/overview');
      return { ...g.__dashboardBench!, fcp: g.performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null, asked: data?.startTime ?? null, data: data?.responseEnd ?? null, dataWait: data === undefined ? null : data.responseStart - data.requestStart };
    });
    // The bytes are counted once every response the load made has finished.
    await page.waitForLoadState('networkidle');
    await Promise.all(sizes);
    if (errors.length > 0) throw new Error(`the overview logged errors: ${errors.join(' | ')}`);
    return { fcpMs: marks.fcp, askedMs: marks.asked, dataMs: marks.data, dataWaitMs: marks.dataWait, mtdMs: marks.mtd, chartsMs: marks.charts, charts: marks.chartCount };
  } finally {
    await page.close();
  }
}

interface BrowserResult {
  cold: LoadTimes[];
  repeat: LoadTimes[];
  transfers: Transfer[];
}

async function measureBrowser(browser: Browser, url: string): Promise<BrowserResult> {
  // Sign in once, through the page, as a person would.
  const signIn = await newPage(browser, VIEWPORTS.desktop);
  await signIn.page.goto(`${url}/`);
  await signIn.page.getByTestId('signin-key').fill(ADMIN_KEY);
  await signIn.page.getByTestId('signin-submit').click();
  await signIn.page.getByTestId('signed-in-as').waitFor();
  // The session cookie and the page's "signed in" flag: each cold load starts from them alone.
  const storageState = await signIn.context.storageState();
  if (signIn.problems.errors.length > 0) throw new Error(`signing in logged errors: ${signIn.problems.errors.join(' | ')}`);
  await signIn.context.close();

  const result: BrowserResult = { cold: [], repeat: [], transfers: [] };
  // One load first that nobody counts: the gateway's and the browser's own first-time costs.
  for (let run = -1; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop, colorScheme: 'light', reducedMotion: 'reduce', storageState });
    try {
      const cold = await loadOverview(context, url, run === 0 ? result.transfers : undefined);
      const repeat = await loadOverview(context, url);
      if (run < 0) continue;
      result.cold.push(cold);
      result.repeat.push(repeat);
      log(`load ${run + 1}/${RUNS}: month to date at ${ms(cold.mtdMs)} ms, charts at ${ms(cold.chartsMs)} ms (repeat visit ${ms(repeat.mtdMs)} ms)`);
    } finally {
      await context.close();
    }
  }
  return result;
}

function stats(xs: number[]): { median: number; max: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: percentile(s, 50), max: s[s.length - 1]!, min: s[0]! };
}

interface BrowserRow {
  measure: string;
  load: string;
  median: number;
  min: number;
  max: number;
}

function browserRows(r: BrowserResult): BrowserRow[] {
  const rows: BrowserRow[] = [];
  for (const [load, times] of [
    ['cold', r.cold],
    ['repeat visit', r.repeat],
  ] as const) {
    const known = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
    const fcp = known(times.map((t) => t.fcpMs));
    if (fcp.length > 0) rows.push({ measure: 'first-contentful-paint', load, ...stats(fcp) });
    const asked = known(times.map((t) => t.askedMs));
    if (asked.length > 0) rows.push({ measure: 'overview data asked for (/api/overview)', load, ...stats(asked) });
    const data = known(times.map((t) => t.dataMs));
    if (data.length > 0) rows.push({ measure: 'overview data received', load, ...stats(data) });
    const wait = known(times.map((t) => t.dataWaitMs));
    if (wait.length > 0) rows.push({ measure: '  of which the gateway answering (request to first byte)', load, ...stats(wait) });
    rows.push({ measure: 'month-to-date figure visible', load, ...stats(times.map((t) => t.mtdMs)) });
    rows.push({ measure: `all charts drawn (${times[0]?.charts ?? 0})`, load, ...stats(times.map((t) => t.chartsMs)) });
  }
  return rows;
}

function transferRows(transfers: Transfer[]): string[][] {
  const order = ['document', 'script', 'stylesheet', 'fetch'];
  const rank = (t: Transfer) => (order.includes(t.type) ? order.indexOf(t.type) : order.length);
  const sorted = [...transfers].sort((a, b) => rank(a) - rank(b) || b.bytes - a.bytes);
  const rows = sorted.map((t) => [t.type, t.file, kb(t.bytes)]);
  const sum = (f: (t: Transfer) => boolean) => transfers.filter(f).reduce((s, t) => s + t.bytes, 0);
  rows.push(['total', 'JS', kb(sum((t) => t.type === 'script'))], ['total', 'CSS', kb(sum((t) => t.type === 'stylesheet'))], ['total', 'everything', kb(sum(() => true))]);
  return rows;
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-dashboard-'));
  let child: ChildProcess | undefined;
  let browser: Browser | undefined;
  const cleanup = async () => {
    await browser?.close().catch(() => undefined);
    if (child) await stopGateway(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const disarm = stopAfter(DEADLINE_MS, cleanup, log);
  try {
    log('building the dashboard if web/dist is stale');
    ensureDashboardBuilt();
    log('starting tollgate serve in demo mode (seeding 90 days of history)');
    const gw = await startGateway(dir);
    child = gw.child;
    log(`${gw.url}: ${gw.calls.toLocaleString('en')} calls seeded, up in ${gw.seconds.toFixed(1)} s`);
    const api = await measureApi(gw.url);
    const loadAfterApi = loadavg();
    let b: BrowserResult | null = null;
    if (chromiumAvailable()) {
      browser = await launchChromium();
      b = await measureBrowser(browser, gw.url);
    }
    const loadEnd = loadavg();
    const load = { start: loadStart.map((x) => Number(x.toFixed(2))), afterApi: loadAfterApi.map((x) => Number(x.toFixed(2))), end: loadEnd.map((x) => Number(x.toFixed(2))) };
    const mtdMedian = b === null ? null : stats(b.cold.map((t) => t.mtdMs)).median;

    if (opts.json) {
      console.log(
        JSON.stringify(
          {
            machine: { cpus: cpus().length, loadAverage: load },
            demo: { calls: gw.calls, startSeconds: Number(gw.seconds.toFixed(1)) },
            requests: REQUESTS,
            warmups: WARMUPS,
            api,
            browser: b === null ? null : { runs: RUNS, rows: browserRows(b), cold: b.cold, repeat: b.repeat, transfers: b.transfers },
            aim: { overviewFirstPaintMs: AIM_MS, met: mtdMedian === null ? null : mtdMedian < AIM_MS },
          },
          // Figures to a tenth of a millisecond: the rest is noise.
          (_key, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 10) / 10 : value),
          2,
        ),
      );
      return;
    }
    console.log(`Demo ledger: ${gw.calls.toLocaleString('en')} calls over 90 days (SQLite); tollgate serve up in ${gw.seconds.toFixed(1)} s. ${cpus().length} CPUs.`);
    console.log(`Load average (1, 5, 15 min): ${load.start.join(', ')} at start; ${load.afterApi.join(', ')} after the API; ${load.end.join(', ')} at the end.\n`);
    console.log(`API: ${REQUESTS} sequential requests per route after ${WARMUPS} warm-ups (first = the first warm-up), admin key, ms to the whole body`);
    console.log(
      formatTable(
        ['route', 'what the page shows', 'first', 'median', 'p90', 'max', 'KB'],
        api.map((r) => [r.route, r.what, ms(r.firstMs), ms(r.medianMs), ms(r.p90Ms), ms(r.maxMs), kb(r.bytes)]),
      ),
    );
    if (b === null) {
      console.log('\nChromium: not available, no first-paint figures (set TOLLGATE_CHROMIUM or apt-get install -y chromium).');
      return;
    }
    console.log(`\nOverview (/#/overview) in Chromium at 1280×800: ${RUNS} loads in a new context each (cold: no HTTP cache), then the same in a second page (repeat visit), ms from navigation start`);
    console.log(formatTable(['measure', 'load', 'median', 'min', 'max'], browserRows(b).map((r) => [r.measure, r.load, ms(r.median), ms(r.min), ms(r.max)])));
    console.log('\nBytes of the first cold load (body + headers, as transferred)');
    console.log(formatTable(['type', 'file', 'KB'], transferRows(b.transfers)));
    console.log(`\nAim (issue 8): the overview's first paint on the demo data well under a second. Month-to-date figure visible, cold, median ${ms(mtdMedian)} ms: ${mtdMedian !== null && mtdMedian < AIM_MS ? 'under' : 'NOT under'} ${AIM_MS} ms.`);
  } finally {
    disarm();
    await cleanup();
  }
}

await main();
