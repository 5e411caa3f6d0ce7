/**
 * The dashboard end to end, as people use it: `tollgate serve` in demo mode (a real process, the
 * built web app, 90 days of ledger), Debian's Chromium driven by playwright-core.
 *
 * - the admin signs in, drills org → agent, opens the calls behind a figure and checks it against the API;
 * - trips a kill switch by keyboard, sees the gateway refuse, revives, sees it admit;
 * - a viewer of one team cannot see another team, in the UI or through the API;
 * - a FOCUS export downloads;
 * - every page is screenshotted at desktop and phone width with no console errors, and its
 *   controls have accessible names.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAV } from '../../web/src/nav.ts';
import { chromiumAvailable, launchChromium, newPage, screenshotDir, VIEWPORTS } from './browser.ts';
import { ensureDashboardBuilt } from './dashboard-build.ts';

/**
 * The few DOM members the in-page checks use. The test compiles against Node's types (a DOM lib
 * reference would retype fetch for every file); playwright runs these functions in the page.
 */
interface DomElement {
  type?: string;
  labels?: ArrayLike<unknown> | null;
  textContent: string | null;
  outerHTML: string;
  getAttribute(name: string): string | null;
}
interface PageGlobals {
  document: {
    cookie: string;
    querySelector(selector: string): DomElement | null;
    querySelectorAll(selector: string): ArrayLike<DomElement>;
    documentElement: { scrollWidth: number };
  };
  innerWidth: number;
}

const ADMIN_KEY = 'tga-e2e-admin-key-0123456789';
const AGENT = 'acme/support/helpdesk/triage-bot';

const run = chromiumAvailable();
let child: ChildProcess;
let url = '';
let agentKey = '';
let viewerKey = '';
let browser: Browser;
let shots = '';
const dir = mkdtempSync(join(tmpdir(), 'tollgate-e2e-'));

async function api(path: string, init: RequestInit & { key?: string } = {}): Promise<Response> {
  return fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${init.key ?? ADMIN_KEY}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
}

async function modelCall(): Promise<Response> {
  return fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': agentKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello from the e2e test' }] }),
  });
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByTestId('signin-key').fill(key);
  await page.getByTestId('signin-submit').click();
  // On a phone the menu (and who is signed in) is folded away: attached is enough.
  await page.getByTestId('signed-in-as').waitFor({ state: 'attached' });
}

async function go(page: Page, hash: string): Promise<void> {
  await page.goto(`${url}/#/${hash}`);
  await page.locator('main').waitFor();
}

beforeAll(async () => {
  if (!run) return;
  ensureDashboardBuilt();
  child = spawn(process.execPath, ['bin/tollgate.js', 'serve', '--port', '0', '--no-traffic'], {
    env: { ...process.env, TOLLGATE_DB: join(dir, 'e2e.db'), TOLLGATE_CONFIG: '', TOLLGATE_ADMIN_KEY: ADMIN_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  for (const until = Date.now() + 120_000; !out.includes('Dashboard:') && child.exitCode === null && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
  url = /Dashboard: (http:\/\/\S+?)\/ /.exec(out)?.[1] ?? '';
  agentKey = /shown once:\s+(tg-[A-Za-z0-9_-]{43})/.exec(out)?.[1] ?? '';
  expect(url, out).not.toBe('');
  const viewer = await api('/api/keys', { method: 'POST', body: JSON.stringify({ scope: 'acme/support', name: 'e2e-viewer', kind: 'viewer' }) });
  expect(viewer.status).toBe(201);
  viewerKey = ((await viewer.json()) as { key: string }).key;
  browser = await launchChromium();
  shots = screenshotDir();
  console.log(`[e2e] dashboard screenshots: ${shots}`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(run)('dashboard in Chromium', () => {
  it('shows the overview to the admin within a second of sign-in, and signs in only with a right key', async () => {
    const { context, page } = await newPage(browser, VIEWPORTS.desktop);
    try {
      await page.goto(`${url}/`);
      await page.getByTestId('signin-key').fill('not-a-key');
      await page.getByTestId('signin-submit').click();
      await expect.poll(() => page.getByTestId('signin-error').textContent()).toMatch(/wrong admin key/);
      await page.getByTestId('signin-key').fill(ADMIN_KEY);
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('signed-in-as').waitFor();
      const start = Date.now();
      await go(page, 'overview');
      await page.getByTestId('kpi-month-to-date').waitFor();
      console.log(`[e2e] overview figures painted ${Date.now() - start} ms after navigation (demo data)`);
      expect(await page.getByTestId('kpi-month-to-date').textContent()).toMatch(/\$[\d,]+\.\d\d/);
      // The session is an HttpOnly cookie: the page's script cannot read it.
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie)).not.toContain('tollgate_session');
    } finally {
      await context.close();
    }
  }, 60_000);

  it('drills from the org to an agent and opens the calls behind a figure, which match the API to the nano-dollar', async () => {
    const { context, page, problems } = await newPage(browser, VIEWPORTS.desktop);
    try {
      await signIn(page, ADMIN_KEY);
      await go(page, 'explore?scope=acme');
      for (const path of ['acme/support', 'acme/support/helpdesk']) {
        await page.getByTestId(`drill-${path}`).click();
        await page.getByTestId(`crumb-${path}`).waitFor();
      }
      const link = page.getByTestId(`calls-link-${AGENT}`);
      await link.waitFor();
      const figure = await link.getAttribute('data-spend-usd');
      const callsResponse = page.waitForResponse((r) => r.url().includes('/api/calls?') && r.request().method() === 'GET');
      await link.click();
      const res = await callsResponse;
      const total = page.getByTestId('calls-total');
      await total.waitFor();
      const shownNano = await total.getAttribute('data-spend-nano');
      const shownUsd = await total.getAttribute('data-spend-usd');
      expect(shownUsd).toBe(figure);
      // The same query straight to the API (with the admin key, not the page's session) gives the same exact sum…
      const query = new URL(res.url()).search;
      const direct = (await (await api(`/api/calls${query}`)).json()) as { totals: { spendNano: string; calls: number }; rows: { scope: string }[] };
      expect(direct.totals.spendNano).toBe(shownNano);
      expect(direct.rows.length).toBeGreaterThan(0);
      for (const r of direct.rows) expect(r.scope).toBe(AGENT);
      // …and the rows on the page are the API's rows.
      expect(await page.locator('[data-testid^="call-row-"]').count()).toBe(direct.rows.length);
      expect(problems.errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('trips a kill switch from the keyboard, the gateway refuses, then revives and it admits', async () => {
    expect((await modelCall()).status).toBe(200);
    const { context, page, problems } = await newPage(browser, VIEWPORTS.desktop);
    try {
      await signIn(page, ADMIN_KEY);
      await go(page, 'budgets');
      const kill = page.getByTestId(`kill-${AGENT}`);
      await kill.waitFor();
      // Keyboard only: focus the switch, open the dialog, give a reason, confirm.
      await kill.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByTestId('confirm-dialog');
      await dialog.waitFor();
      // Escape cancels and nothing is killed.
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect((await modelCall()).status).toBe(200);
      await kill.focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('kill-reason').focus();
      await page.keyboard.type('e2e: runaway loop drill');
      await page.getByTestId('confirm-ok').focus();
      await page.keyboard.press('Enter');
      await page.getByTestId(`revive-${AGENT}`).waitFor();
      await expect.poll(async () => (await modelCall()).status, { timeout: 5_000 }).toBe(403);
      const refused = (await (await modelCall()).json()) as { error: { message: string } };
      expect(refused.error.message).toContain('e2e: runaway loop drill');

      await page.getByTestId(`revive-${AGENT}`).click();
      await page.getByTestId('confirm-ok').click();
      await page.getByTestId(`kill-${AGENT}`).waitFor();
      await expect.poll(async () => (await modelCall()).status, { timeout: 5_000 }).toBe(200);
      const audit = (await (await api(`/api/audit?target=${encodeURIComponent(AGENT)}&limit=5`)).json()) as { data: { action: string; actor: string }[] };
      expect(audit.data.slice(0, 2).map((a) => [a.action, a.actor])).toEqual([
        ['scope.revive', 'dashboard:admin'],
        ['scope.kill', 'dashboard:admin'],
      ]);
      expect(problems.errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows a viewer of one team nothing of another team, in the UI and through the API', async () => {
    const { context, page } = await newPage(browser, VIEWPORTS.desktop);
    try {
      await signIn(page, viewerKey);
      expect(await page.getByTestId('signed-in-as').textContent()).toContain('acme/support');
      await go(page, 'explore');
      await page.getByTestId('explore-table').waitFor();
      const paths = await page.locator('[data-testid^="explore-row-"]').evaluateAll((rows) => (rows as unknown as DomElement[]).map((r) => r.getAttribute('data-path') ?? ''));
      expect(paths.length).toBeGreaterThan(0);
      for (const p of paths) expect(p.startsWith('acme/support')).toBe(true);
      expect(await page.locator('main').textContent()).not.toContain('acme/eng');
      // Admin-only pages are not offered.
      expect(await page.getByTestId('nav-reconciliation').count()).toBe(0);
      // Asking the UI for another team shows the server's refusal, not its data.
      await go(page, 'explore?scope=acme/eng');
      await expect.poll(() => page.locator('main').textContent()).toMatch(/outside/);
      const shown = await page.locator('[data-testid^="explore-row-"]').evaluateAll((rows) => (rows as unknown as DomElement[]).map((r) => r.getAttribute('data-testid')));
      expect(shown, (await page.locator('main').textContent()) ?? '').toEqual([]);
      // The page's own session cookie, used directly against the API, is refused too.
      const fromPage = await page.evaluate(async () => {
        const spend = await fetch('/api/spend?scope=acme/eng');
        const calls = await fetch('/api/calls?scope=acme');
        const kill = await fetch('/api/kill', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'acme/eng' }) });
        return [spend.status, calls.status, kill.status];
      });
      expect(fromPage).toEqual([403, 403, 403]);
      expect((await api('/api/spend?scope=acme/eng', { key: viewerKey })).status).toBe(403);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('downloads a FOCUS export', async () => {
    const { context, page, problems } = await newPage(browser, VIEWPORTS.desktop);
    try {
      await signIn(page, ADMIN_KEY);
      await go(page, 'showback');
      const link = page.getByTestId('focus-download');
      await link.waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const file = join(dir, download.suggestedFilename() || 'focus.csv');
      await download.saveAs(file);
      const text = readFileSync(file, 'utf8');
      const [header, ...rows] = text.trim().split('\n');
      expect(header).toContain('BilledCost');
      expect(header).toContain('ChargePeriodStart');
      expect(rows.length).toBeGreaterThan(0);
      expect(problems.errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('renders every page at desktop and phone width, light and dark, without console errors, with labelled controls', async () => {
    const report: string[] = [];
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      for (const scheme of ['light', 'dark'] as const) {
        if (name === 'phone' && scheme === 'dark') continue;
        const { context, page, problems } = await newPage(browser, viewport, { colorScheme: scheme });
        try {
          await signIn(page, ADMIN_KEY);
          for (const item of NAV) {
            await go(page, item.path);
            // Let the page's data arrive (no "Loading…" or "Loading spend…" left, charts drawn), then shoot.
            await page.waitForFunction(
              () => {
                const d = (globalThis as unknown as PageGlobals).document;
                return !/Loading[^…]{0,40}…/.test(d.querySelector('main')?.textContent ?? '') && d.querySelectorAll('main .chart:not([data-drawn])').length === 0;
              },
              undefined,
              { timeout: 30_000 },
            );
            await page.waitForLoadState('networkidle');
            await page.screenshot({ path: join(shots, `${item.path}-${name}-${scheme}.png`), fullPage: true });
            const unnamed = await page.evaluate(() =>
              Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('main input, main select, main textarea, main button, header button, nav a'))
                .filter((el) => {
                  const e = el;
                  if (e.type === 'hidden') return false;
                  const named = (e.labels?.length ?? 0) > 0 || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.getAttribute('title') || (e.textContent ?? '').trim() !== '';
                  return !named;
                })
                .map((el) => el.outerHTML.slice(0, 120)),
            );
            expect(unnamed, `${item.path} (${name}): controls without an accessible name`).toEqual([]);
            const overflow = await page.evaluate(() => {
              const g = globalThis as unknown as PageGlobals;
              return g.document.documentElement.scrollWidth - g.innerWidth;
            });
            expect(overflow, `${item.path} (${name}): page wider than the screen`).toBeLessThanOrEqual(1);
          }
          expect(problems.errors, `${name} ${scheme}`).toEqual([]);
          report.push(`${name} ${scheme}: ${NAV.length} pages`);
        } finally {
          await context.close();
        }
      }
    }
    console.log(`[e2e] screenshots in ${shots}: ${report.join('; ')}`);
  }, 240_000);
});
