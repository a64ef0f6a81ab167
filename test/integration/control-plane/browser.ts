import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { ROOT } from '../../support/service-process.js';

/** Debian's Chromium (apt-get install -y chromium), driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';
export const RESULTS = join(ROOT, 'test', 'results');

export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 860 }, timezoneId: 'UTC', locale: 'en-GB' };
export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, timezoneId: 'UTC', locale: 'en-GB' };

/** One headless browser per test file. */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(RESULTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Runs `work` on a fresh page; when it throws, a full-page screenshot goes to
 * test/results/<name>-failure.png before the error is rethrown. Page errors
 * (uncaught exceptions in the dashboard) and Content-Security-Policy
 * violations fail the test too.
 */
export async function withPage(browser: Browser, name: string, options: BrowserContextOptions, work: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The dashboard's Content-Security-Policy allows no inline script or style: a violation is a bug.
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  try {
    await work(page);
    if (errors.length) throw new Error(`uncaught errors in the page:\n${errors.join('\n')}`);
  } catch (e) {
    await page.screenshot({ path: join(RESULTS, `${name}-failure.png`), fullPage: true }).catch(() => undefined);
    throw e;
  } finally {
    await context.close();
  }
}

/** Document width beyond the viewport (0 when nothing scrolls sideways). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}
