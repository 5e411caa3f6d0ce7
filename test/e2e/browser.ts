/**
 * Headless Chromium for the dashboard's end-to-end tests: Debian's `chromium` driven by
 * playwright-core (no downloaded browser). Mandatory when CI=true; elsewhere the suite skips with a
 * printed notice when the binary is missing. Every page's console errors and failed requests are
 * collected so a test can assert there were none.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env['TOLLGATE_CHROMIUM'] ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI'] === 'true') throw new Error(`Chromium is required when CI=true but ${CHROMIUM} is missing: .ci/run installs it with apt-get install -y chromium`);
  console.warn(`[skip] dashboard end-to-end tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set TOLLGATE_CHROMIUM)`);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  // playwright-core gives each launch a fresh, empty profile directory of its own (it refuses --user-data-dir).
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** Problems a page reported: console errors, uncaught exceptions, failed or 5xx requests. */
export interface PageProblems {
  errors: string[];
}

export async function newPage(browser: Browser, viewport: { width: number; height: number }, opts: { colorScheme?: 'light' | 'dark' } = {}): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({ viewport, colorScheme: opts.colorScheme ?? 'light', reducedMotion: 'reduce', acceptDownloads: true });
  const page = await context.newPage();
  const problems: PageProblems = { errors: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') problems.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.errors.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Navigations away abort in-flight fetches; those are not failures of the page.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.errors.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500) problems.errors.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return { context, page, problems };
}

/** The folder this run's screenshots go to (printed once, never committed). */
export function screenshotDir(): string {
  const dir = process.env['TOLLGATE_SCREENSHOTS'] ?? join(tmpdir(), `tollgate-screenshots-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
