import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { TestDatabase } from '../../support/database.js';
import { ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';
import { DESKTOP, launchBrowser, PHONE, horizontalOverflow, RESULTS, withPage } from './browser.js';
import { API_KEY, apiKey, bearer, dashboardSignIn, JWT_SECRET, TENANT_A, token } from './support.js';

/**
 * `npm start`'s demo as a newcomer meets it: all four services in one process
 * with DEMO=true and no SMTP_URL. The scheduler's built-in mail catcher
 * receives the demo's own email (document expiry alerts, briefing reminders)
 * from the notifier, and the system admin reads it on the Mailbox tab.
 */
const nats = new TestNatsServer();
const database = new TestDatabase();
let demo: ServiceProcess;
let browser: Browser;
let launching: Promise<Browser> | undefined;
let base = '';
/** Where DEMO=true writes the newcomer's system-admin token. */
const tokenDir = mkdtempSync(join(tmpdir(), 'metronome-demo-'));
const tokenFile = join(tokenDir, 'demo-token');

interface CaughtMail {
  id: string;
  receivedAt: string;
  to: string[];
  from: string;
  subject: string;
  text: string;
}

beforeAll(async () => {
  // The browser starts while the services do.
  launching = launchBrowser();
  launching.catch(() => undefined);
  await Promise.all([nats.start(), database.create()]);
  const [scheduler, notifier, documents, recurrence, mailbox] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  base = `http://127.0.0.1:${scheduler}`;
  demo = new ServiceProcess('apps/main.js', {
    NATS_URLS: nats.url,
    DATABASE_URL: database.url,
    SCHEDULER_PORT: String(scheduler),
    NOTIFIER_PORT: String(notifier),
    DOCUMENTS_PORT: String(documents),
    RECURRENCE_PORT: String(recurrence),
    DEMO: 'true',
    DEMO_MAILBOX_PORT: String(mailbox),
    DEMO_TOKEN_FILE: tokenFile,
    JWT_SECRET,
    API_KEYS: `ci=${API_KEY}`,
    API_RATE_LIMIT_BURST: '10000',
    TICK_INTERVAL_MS: '3600000',
    LOG_LEVEL: 'info',
  }).start();
  await demo.waitForLog('scheduler started', 90_000);
  browser = await launching;
}, 150_000);

afterAll(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await demo?.stop();
  await nats.destroy();
  await database.drop();
  rmSync(tokenDir, { recursive: true, force: true });
});

async function get(path: string, auth: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers: auth });
  return { status: res.status, type: res.headers.get('content-type') ?? '', json: (await res.json()) as any };
}

const signIn = dashboardSignIn(() => base, 'newcomer@example.com');

it('catches the demo\'s email in process, and only platform administrators read it', async () => {
  expect(demo.text).toContain('demo mailbox: catching the notifier\'s email');
  const admin = bearer(await token('system-admin'));
  // The notifier's own alerts reach the mailbox: the demo's expiry scan runs each minute.
  const mails: CaughtMail[] = await waitFor(async () => {
    const r = await get('/api/v1/mailbox', admin);
    return r.status === 200 && r.json.items.length > 0 ? (r.json.items as CaughtMail[]) : false;
  }, { timeoutMs: 150_000, intervalMs: 2_000, what: 'the demo\'s first email in the mailbox' }) as CaughtMail[];
  expect(mails[0]).toEqual({
    id: expect.any(String),
    receivedAt: expect.any(String),
    envelopeFrom: 'notifications@metronome.local',
    to: [expect.stringMatching(/@example\.test$/)],
    from: 'Metronome <notifications@metronome.local>',
    subject: expect.any(String),
    text: expect.any(String),
    messageId: expect.stringMatching(/^<.+@metronome>$/),
  });
  expect(mails[0].subject.length).toBeGreaterThan(0);
  // Delivered, not waiting: every email the notifier recorded as sent is in the mailbox.
  const sent = await database.query<{ target: string }>(`SELECT target FROM notification_deliveries WHERE channel = 'email' AND outcome = 'sent'`);
  expect(sent.length).toBeGreaterThan(0);
  const all = (await get('/api/v1/mailbox?limit=500', admin)).json as { items: CaughtMail[]; total: number };
  const recipients = new Set(all.items.flatMap((m) => m.to));
  for (const s of sent) expect(recipients).toContain(s.target);

  // Mail of every tenant: platform administrators only.
  for (const [who, auth, status] of [
    ['viewer', bearer(await token('viewer', TENANT_A)), 403],
    ['tenant-admin', bearer(await token('tenant-admin', TENANT_A)), 403],
    ['service key', apiKey(), 403],
    ['anonymous', {}, 401],
  ] as const) {
    const r = await get('/api/v1/mailbox', auth);
    expect({ who, status: r.status, problem: r.type.startsWith('application/problem+json') }).toEqual({ who, status, problem: true });
  }
  const tooMany = await get('/api/v1/mailbox?limit=501', admin);
  expect(tooMany.status).toBe(400);
}, 180_000);

it('shows the demo\'s email on the Mailbox tab, whole bodies on demand, also on a phone', async () => {
  const admin = bearer(await token('system-admin'));
  const { items } = (await get('/api/v1/mailbox?limit=1', admin)).json as { items: CaughtMail[] };
  expect(items.length).toBe(1);
  await withPage(browser, 'mailbox-desktop', DESKTOP, async (page) => {
    await signIn(page);
    await page.locator('button[data-tab="mailbox"]').click();
    const row = page.locator(`#mailbox-table tr[data-mail="${items[0].id}"]`);
    await row.waitFor();
    await expect(row.locator('td[data-label="To"]').textContent()).resolves.toBe(items[0].to.join(', '));
    await expect(row.locator('td[data-label="Subject"]').textContent()).resolves.toBe(items[0].subject);
    const body = row.locator('td[data-label="Body"]');
    const firstLine = items[0].text.split('\n').find((l) => l.trim())!;
    await expect(body.textContent()).resolves.toContain(firstLine);
    if (await body.locator('details').count()) {
      await body.locator('summary').click();
      await expect(body.locator('pre').textContent()).resolves.toBe(items[0].text);
    }
    await page.screenshot({ path: join(RESULTS, 'dashboard-mailbox-desktop.png'), fullPage: true });
  });
  await withPage(browser, 'mailbox-phone', PHONE, async (page) => {
    await signIn(page);
    await page.locator('button[data-tab="mailbox"]').click();
    await page.locator('#mailbox-table tr[data-mail]').first().waitFor();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(RESULTS, 'dashboard-mailbox-phone.png'), fullPage: true });
  });
}, 60_000);

it('walks the newcomer path: signs in with the demo token, sees charts with data, opens the demo\'s failed run and reads why, finds the email', async () => {
  const demoToken = readFileSync(tokenFile, 'utf8').trim();
  await withPage(browser, 'newcomer-path', DESKTOP, async (page) => {
    await page.goto(`${base}/`);
    await page.getByTestId('token').fill(demoToken);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('who').filter({ hasText: 'demo-admin · system-admin' }).waitFor();

    // Charts: the demo's scans ran (the first test waited for their email), so the last hour has finished runs.
    const totals = page.locator('#chart-runs .chart-sum[data-totals]');
    await totals.waitFor();
    await waitFor(async () => {
      const t = JSON.parse((await totals.getAttribute('data-totals')) ?? '{}') as Record<string, number>;
      return (t.succeeded ?? 0) > 0;
    }, { timeoutMs: 20_000, what: 'succeeded runs on the runs chart' });

    // The demo's failed run: listed among dead runs, opened from the list, its reason readable.
    await page.locator('button[data-tab="runs"]').click();
    await page.locator('#runs-filter [name="state"]').selectOption('dead');
    await page.locator('#runs-filter button[type="submit"]').click();
    const failed = page.locator('#runs-table tr[data-state="dead"]').filter({ hasText: 'documents.expiry-scan' }).first();
    await failed.waitFor({ timeout: 20_000 });
    await failed.locator('a[data-run-link]').click();
    await page.waitForURL(/\?tab=run&id=/);
    await expect(page.getByTestId('run-error-text').textContent()).resolves.toMatch(/payload field "asOf" would override the clock; time overrides are refused outside tests/);
    await expect(page.getByTestId('run-attempts').locator('li[data-outcome="dead"]').count()).resolves.toBe(1);
    await page.screenshot({ path: join(RESULTS, 'newcomer-failed-run.png'), fullPage: true });

    // The mailbox holds the demo's email.
    await page.locator('button[data-tab="mailbox"]').click();
    await page.locator('#mailbox-table tr[data-mail]').first().waitFor();
  });
}, 60_000);
