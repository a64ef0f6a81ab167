import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { Injectable, type INestApplication } from '@nestjs/common';
import type { Browser } from 'playwright-core';
import {
  JobHandler,
  type JobContext,
  type RunResult,
} from '../../../libs/common/src/index.js';
import { runState } from '../../support/runs.js';
import { waitFor } from '../../support/wait.js';
import { DESKTOP, horizontalOverflow, launchBrowser, PHONE, RESULTS, withPage } from './browser.js';
import { bearer, ControlPlaneEnv, dashboardSignIn, startJobWorker, seed, TENANT_A, TENANT_B, token } from './support.js';

/**
 * The dashboard in headless Debian Chromium (apt-get install -y chromium)
 * driven by playwright-core: sign in, see a job, trigger it, watch the run
 * succeed, retry a dead letter, pause a queue, preview a schedule across a DST
 * change; screenshots at desktop and phone widths go to test/results/ (and
 * <test>-failure.png when a step fails).
 */
const JOB = 'demo.work';
/** A job whose partner API is down: both attempts fail, the run goes dead with a readable error. */
const FAILING = 'demo.sync';

const env = new ControlPlaneEnv('dashboard');
let browser: Browser;
let launching: Promise<Browser> | undefined;
let worker: INestApplication;

/** Every payload the worker received, in order (the real job runtime serves demo.work; each attempt goes to the run history). */
const received: unknown[] = [];

@Injectable()
class DemoJobs {
  @JobHandler(JOB, { timeoutMs: 30_000 })
  async work(ctx: JobContext<{ holdMs?: number }>): Promise<RunResult> {
    received.push(ctx.payload);
    // A run asked to hold records a durable step first, then stays running (until cancelled) for the run page to show.
    const hold = ctx.payload?.holdMs;
    if (hold) await ctx.step.run('fetch orders', async () => ({ orders: 3 }));
    await ctx.progress(50, 'halfway');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, hold ?? 300);
      ctx.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return { status: 'success', recordsProcessed: 3 };
  }

  @JobHandler(FAILING, { maxAttempts: 2, backoff: { kind: 'fixed', baseMs: 200, capMs: 200, jitter: 0 }, timeoutMs: 10_000 })
  async sync(ctx: JobContext<{ order: string }>): Promise<RunResult> {
    return callPartnerApi(ctx.payload.order, ctx.attempt);
  }
}

/** Fails the way an HTTP client does, one frame below the handler (the stack shows it). */
function callPartnerApi(order: string, attempt: number): never {
  throw new Error(`Partner API answered 503 Service Unavailable for order ${order} (attempt ${attempt})`);
}

const signIn = dashboardSignIn(() => env.base);

beforeAll(async () => {
  // The browser starts while the scheduler and the worker do.
  launching = launchBrowser();
  launching.catch(() => undefined);
  await env.start({ API_RATE_LIMIT_BURST: '10000' });
  worker = await startJobWorker(env, 'demo', [JOB, FAILING], DemoJobs);
  browser = await launching;
}, 120_000);

afterAll(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await worker?.close();
  await env.stop();
});

it('signs in, triggers a job and watches its run succeed, retries a dead letter and pauses a queue', async () => {
  // A job the dashboard can show: a schedule for it, and one dead run with its dead letter.
  const admin = bearer(await token('system-admin'));
  // Enabled, so the jobs table shows its next run, but due only on 29 February: a nightly one fired into the test
  // when it ran across 01:00 UTC (02:00 Berlin) and the worker received a second payload.
  const created = await env.call('POST', '/api/v1/schedules', { auth: admin, body: { name: 'demo-leap-day', kind: 'cron', job: JOB, cron: '0 2 29 2 *', timezone: 'Europe/Berlin' } });
  expect(created.status).toBe(201);
  const { dlqId, runId: deadRunId } = await seed(env.database, TENANT_A, JOB);

  await withPage(browser, 'dashboard-basics', DESKTOP, async (page) => {
    await signIn(page);
    await expect(page.getByTestId('who').textContent()).resolves.toContain('system-admin');

    // See the job with its next run.
    const row = page.locator(`#jobs-table tr[data-job="${JOB}"]`);
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain(JOB);

    // Trigger it with a payload.
    await row.locator('button[data-action="trigger"]').click();
    await page.getByTestId('trigger-payload').fill('{"report": "weekly", "n": 7}');
    await page.getByTestId('trigger-submit').click();

    // The runs tab opens filtered by the job; the run turns succeeded within the polling interval.
    const succeeded = page.locator('#runs-table tr[data-state="succeeded"]').first();
    await succeeded.waitFor({ timeout: 20_000 });
    // The worker ran it with the payload typed in the dialog (a succeeded attempt keeps no payload in history).
    expect(received).toEqual([{ report: 'weekly', n: 7 }]);
    // GET /runs/{id} prefers the worker's heartbeat, which can still list the run as running for a moment after it finished.
    const runId = await succeeded.getAttribute('data-run');
    await waitFor(async () => (await env.call('GET', `/api/v1/runs/${runId}`, { auth: admin })).json?.state === 'succeeded', { what: 'the run detail to say succeeded' });
    await succeeded.click();
    await page.waitForURL(`${env.base}/?tab=run&id=${runId}`);
    await page.locator('#run-detail').getByText('"recordsProcessed": 3').waitFor();
    await page.screenshot({ path: join(RESULTS, 'dashboard-run-desktop.png') });
    await page.goBack();
    await page.locator('#runs-table tr[data-run]').first().waitFor();

    // Retry the dead letter: a fresh run linked to the dead one (retry_of), the worker runs it, it leaves the pending list.
    await page.locator('button[data-tab="dlq"]').click();
    const dead = page.locator(`#dlq-table tr[data-dlq="${dlqId}"]`);
    await dead.waitFor();
    await page.screenshot({ path: join(RESULTS, 'dashboard-dlq-desktop.png') });
    await dead.locator('button[data-action="retry"]').click();
    await dead.waitFor({ state: 'detached', timeout: 10_000 });
    const retried = await waitFor(async () => {
      const rows = await env.database.query<{ id: string; state: string; attempts: number }>('SELECT id, state, attempts FROM job_runs WHERE retry_of = $1', [deadRunId]);
      return rows[0]?.state === 'succeeded' ? rows : undefined;
    }, { what: 'retried run succeeded' });
    expect(retried).toEqual([{ id: expect.any(String), state: 'succeeded', attempts: 1 }]);
    expect((await runState(env.database, deadRunId)).state).toBe('dead');
    expect((await env.database.query<{ retried_at: Date | null }>('SELECT retried_at FROM dead_letters WHERE id = $1', [dlqId]))[0].retried_at).not.toBeNull();

    // Pause a queue.
    await page.locator('button[data-tab="queues"]').click();
    const low = page.locator('#queues-table tr[data-queue="low"]');
    await low.locator('button[data-action="pause"]').click();
    await low.locator('[data-state="paused"]').waitFor();
    const queues = await env.call('GET', '/api/v1/queues', { auth: admin });
    expect(queues.json.items.find((q: { name: string }) => q.name === 'low')).toMatchObject({ status: 'paused', paused: { by: 'ops@example.com' } });
    // The worker honours it: a low-priority run waits queued while a normal one runs; resuming releases it.
    const low1 = await env.call('POST', `/api/v1/jobs/${JOB}/trigger`, { auth: admin, body: { priority: 'low', payload: { lane: 'low' } } });
    const normal1 = await env.call('POST', `/api/v1/jobs/${JOB}/trigger`, { auth: admin, body: { payload: { lane: 'normal' } } });
    // A run's state as the admin API tells it: waiting ones live in JetStream, finished ones in history.
    const stateOf = async (id: string) => (await env.call('GET', `/api/v1/runs/${id}`, { auth: admin })).json?.state;
    await waitFor(async () => (await stateOf(normal1.json.runId)) === 'succeeded', { what: 'normal run while low is paused' });
    expect(await stateOf(low1.json.runId)).toBe('queued');
    await low.locator('button[data-action="resume"]').click();
    await waitFor(async () => (await stateOf(low1.json.runId)) === 'succeeded', { timeoutMs: 20_000, what: 'low run after resume' });

    // Schedule editor: a live next-fire preview and a refused bad expression.
    await page.locator('button[data-tab="schedules"]').click();
    await page.getByTestId('schedule-cron').fill('30 2 * * *');
    await page.getByTestId('schedule-tz').fill('Europe/Berlin');
    await page.getByTestId('schedule-preview').locator('li').first().waitFor();
    await expect(page.getByTestId('schedule-preview').locator('li').count()).resolves.toBe(5);
    await page.screenshot({ path: join(RESULTS, 'dashboard-schedules-desktop.png'), fullPage: true });
    await page.getByTestId('schedule-cron').fill('99 * * * *');
    await page.getByTestId('schedule-preview').getByText(/cron:/).waitFor();

    // The audit log recorded the changes.
    const audit = await env.call('GET', '/api/v1/audit?limit=50', { auth: admin });
    expect(audit.json.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['job.trigger', 'dlq.retry', 'queue.pause', 'schedule.create']));
  });
}, 120_000);

it('is usable on a 390 px phone screen', async () => {
  await withPage(browser, 'dashboard-phone', PHONE, async (page) => {
    await signIn(page);
    await page.locator(`#jobs-table tr[data-job="${JOB}"]`).waitFor();
    // Nothing wider than the screen: no horizontal scrolling.
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(RESULTS, 'dashboard-jobs-phone.png'), fullPage: true });
    await page.locator('button[data-tab="runs"]').click();
    await page.locator('#runs-table tr[data-run]').first().waitFor();
    await page.screenshot({ path: join(RESULTS, 'dashboard-runs-phone.png'), fullPage: true });
  });
}, 60_000);

it('previews a schedule from any instant over the API: local times, DST marks, up to 1,000 firings', async () => {
  const admin = bearer(await token('system-admin'));
  // Berlin springs forward on 2030-03-31 at 02:00 CET (01:00Z): 02:30 does not exist that day.
  const spring = await env.call('POST', '/api/v1/schedules/preview', { auth: admin, body: { cron: '30 2 * * *', timezone: 'Europe/Berlin', from: '2030-03-30T00:00:00Z', count: 3 } });
  expect(spring.status).toBe(200);
  expect(spring.json).toMatchObject({
    timezone: 'Europe/Berlin',
    from: '2030-03-30T00:00:00.000Z',
    policy: 'fixed-time',
    next: ['2030-03-30T01:30:00.000Z', '2030-03-31T01:00:00.000Z', '2030-04-01T00:30:00.000Z'],
    firings: [
      { at: '2030-03-30T01:30:00.000Z', local: '2030-03-30T02:30:00', offset: '+01:00', dst: null },
      { at: '2030-03-31T01:00:00.000Z', local: '2030-03-31T03:00:00', offset: '+02:00', dst: { kind: 'shifted', scheduledLocal: ['2030-03-31T02:30:00'] } },
      { at: '2030-04-01T00:30:00.000Z', local: '2030-04-01T02:30:00', offset: '+02:00', dst: null },
    ],
    nextTransition: { at: '2030-03-31T01:00:00.000Z', kind: 'spring_forward', offsetMinutesBefore: 60, offsetMinutesAfter: 120 },
  });

  // A stored schedule, previewed from an instant: 02:00 occurs twice on 2030-10-27 and fires once, at the first.
  const created = await env.call('POST', '/api/v1/schedules', { auth: admin, body: { name: 'preview-nightly', kind: 'cron', job: JOB, cron: '0 2 * * *', timezone: 'Europe/Berlin', enabled: false } });
  expect(created.status).toBe(201);
  const autumn = await env.call('GET', '/api/v1/schedules/preview-nightly/preview?from=2030-10-26T12:00:00Z&count=2', { auth: admin });
  expect(autumn.status).toBe(200);
  expect(autumn.json.firings).toEqual([
    { at: '2030-10-27T00:00:00.000Z', local: '2030-10-27T02:00:00', offset: '+02:00', dst: { kind: 'folded', repeatSkippedAt: '2030-10-27T01:00:00.000Z' } },
    { at: '2030-10-28T01:00:00.000Z', local: '2030-10-28T02:00:00', offset: '+01:00', dst: null },
  ]);

  // Clock-following: the skipped hour is listed, the repeated one fires twice.
  const hourly = await env.call('POST', '/api/v1/schedules/preview', { auth: admin, body: { cron: '0 * * * *', timezone: 'Europe/Berlin', from: '2030-03-31T00:00:00Z', count: 2 } });
  expect(hourly.json).toMatchObject({ policy: 'clock-following', next: ['2030-03-31T00:00:00.000Z', '2030-03-31T01:00:00.000Z'], skipped: [{ local: '2030-03-31T02:00:00', transitionAt: '2030-03-31T01:00:00.000Z' }] });

  // Up to 1,000 firings; more is a 400 problem naming the field, as is an instant that is not ISO 8601.
  const many = await env.call('POST', '/api/v1/schedules/preview', { auth: admin, body: { cron: '*/5 * * * *', timezone: 'UTC', count: 1000 } });
  expect(many.status).toBe(200);
  expect(many.json.firings).toHaveLength(1000);
  for (const bad of [
    { call: () => env.call('POST', '/api/v1/schedules/preview', { auth: admin, body: { cron: '* * * * *', count: 1001 } }), field: 'count' },
    { call: () => env.call('GET', '/api/v1/schedules/preview-nightly/preview?count=1001', { auth: admin }), field: 'count' },
    { call: () => env.call('POST', '/api/v1/schedules/preview', { auth: admin, body: { cron: '* * * * *', from: 'next tuesday' } }), field: 'from' },
  ]) {
    const res = await bad.call();
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.json.errors.map((e: { field: string }) => e.field)).toEqual([bad.field]);
  }
});

it('shows the firings around the next DST change in the schedule editor and marks the moved ones', async () => {
  await withPage(browser, 'dashboard-preview-dst', DESKTOP, async (page) => {
    await signIn(page);
    await page.locator('button[data-tab="schedules"]').click();
    const around = page.getByTestId('schedule-preview-dst');
    await page.getByTestId('schedule-cron').fill('30 2 * * *');
    await page.getByTestId('schedule-tz').fill('Europe/Berlin');
    await page.getByTestId('preview-from').fill('2030-01-01T00:00');

    // Spring 2030: the 02:30 firing of 31 March moves to 03:00 CEST. Each edit re-renders the preview after a
    // pause: on a slow machine a render from "now" (before the start instant was typed) may show first.
    await around.locator('[data-transition="2030-03-31T01:00:00.000Z"]').waitFor();
    const shifted = around.locator('li[data-dst="shifted"]');
    await shifted.waitFor();
    await expect(shifted.getAttribute('data-fire')).resolves.toBe('2030-03-31T01:00:00.000Z');
    await expect(shifted.textContent()).resolves.toMatch(/31 Mar 2030.*03:00.*\+02:00.*02:30 does not exist/);
    await expect(around.locator('[data-transition]').getAttribute('data-transition')).resolves.toBe('2030-03-31T01:00:00.000Z');
    // The main list starts from the chosen instant.
    await expect(page.getByTestId('schedule-preview').locator('li').first().getAttribute('data-fire')).resolves.toBe('2030-01-01T01:30:00.000Z');
    await page.screenshot({ path: join(RESULTS, 'dashboard-preview-spring.png'), fullPage: true });

    // Autumn 2030: 02:30 occurs twice on 27 October and fires once.
    await page.getByTestId('preview-from').fill('2030-06-01T00:00');
    await around.locator('[data-transition="2030-10-27T01:00:00.000Z"]').waitFor();
    const folded = around.locator('li[data-dst="folded"]');
    await folded.waitFor();
    await expect(folded.getAttribute('data-fire')).resolves.toBe('2030-10-27T00:30:00.000Z');
    await expect(folded.textContent()).resolves.toMatch(/02:30 occurs twice.*not again at 01:30 UTC/);

    // Hourly follows the clock: the hour that does not exist is shown as skipped.
    await page.getByTestId('schedule-cron').fill('0 * * * *');
    await page.getByTestId('preview-from').fill('2030-01-01T00:00');
    await around.locator('[data-transition="2030-03-31T01:00:00.000Z"]').waitFor();
    const skipped = around.locator('li[data-dst="skipped"]');
    await skipped.waitFor();
    await expect(skipped.textContent()).resolves.toMatch(/31 Mar 2030.*02:00.*no firing/);
    await expect(around.locator('li[data-dst="shifted"]').count()).resolves.toBe(0);
  });
}, 60_000);

it('has no mailbox without DEMO: the API answers 404 and system admins see no Mailbox tab', async () => {
  const admin = bearer(await token('system-admin'));
  const mailbox = await env.call('GET', '/api/v1/mailbox', { auth: admin });
  expect(mailbox.status).toBe(404);
  expect(mailbox.type).toMatch(/^application\/problem\+json/);
  expect(mailbox.json.detail).toMatch(/DEMO=true/);
  await withPage(browser, 'dashboard-no-mailbox', DESKTOP, async (page) => {
    await signIn(page);
    await page.locator(`#jobs-table tr[data-job="${JOB}"]`).waitFor();
    await expect(page.locator('button[data-tab="mailbox"]').isHidden()).resolves.toBe(true);
  });
}, 60_000);

it('keeps tables inside the page: a long dead-letter error is one line with the whole text on demand; filters and pages live in the URL', async () => {
  // 55 dead letters of one job whose error is a long stack trace with an unbreakable URL in it.
  const error = `FetchError: request to https://billing.internal.example.com/${'v1/tenants/globex/invoices/'.repeat(12)}export failed, reason: connect ECONNREFUSED\n${'    at ClientRequest.<anonymous> (/app/node_modules/node-fetch/lib/index.js:1501:11)\n'.repeat(20)}`;
  await env.database.query(
    `INSERT INTO dead_letters (id, stream, consumer, subject, message_type, company_id, headers, payload, reason, error, attempts, first_failed_at, last_failed_at, created_at)
     SELECT 'long-' || lpad(i::text, 3, '0'), 'JOBS', 'billing-jobs', 'jobs.normal.billing.export', 'billing.export', 'globex', '{}', '{}', 'max_attempts', $1, 5, now(), now(), now() - i * interval '1 second'
     FROM generate_series(1, 55) AS i`,
    [error],
  );
  await withPage(browser, 'dashboard-tables', DESKTOP, async (page) => {
    await signIn(page);
    await page.locator('button[data-tab="dlq"]').click();
    await page.locator('#dlq-filter [name="job"]').fill('billing.export');
    await page.locator('#dlq-filter button[type="submit"]').click();
    await page.waitForURL(/\?tab=dlq&job=billing\.export$/);
    const rows = page.locator('#dlq-table tr[data-dlq]');
    await expect(rows.first().getAttribute('data-dlq')).resolves.toBe('long-001');
    await expect(rows.count()).resolves.toBe(50);

    // The error is one line no wider than a third of the page; the page does not scroll sideways.
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    const cell = rows.first().locator('td[data-label="Error"]');
    // Measured inside the page in one step: the live refresh redraws rows every 4 s.
    const box = await page.evaluate<{ width: number; height: number }>(`(() => {
      const r = document.querySelector('#dlq-table tr[data-dlq="long-001"] td[data-label="Error"]').getBoundingClientRect();
      return { width: r.width, height: r.height };
    })()`);
    expect(box.width).toBeLessThan(1280 / 2);
    expect(box.height).toBeLessThan(60);
    await cell.locator('summary').click();
    await expect(cell.locator('pre').textContent()).resolves.toBe(error);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    // The live refresh redraws the table every 4 s and keeps the opened error open.
    await page.waitForResponse((r) => r.url().includes('/api/v1/dlq?'));
    await page.waitForTimeout(200);
    await expect(cell.locator('details').getAttribute('open')).resolves.toBe('');
    await page.screenshot({ path: join(RESULTS, 'dashboard-dlq-long-error.png') });

    // The next page is a new address; back returns to the first page, then to the unfiltered list.
    await page.locator('#dlq-pager button[data-page="older"]').click();
    await page.waitForURL(/\?tab=dlq&job=billing\.export&cursor=/);
    await page.locator('#dlq-table tr[data-dlq="long-051"]').waitFor();
    await expect(rows.count()).resolves.toBe(5);
    const secondPage = page.url();
    await page.goBack();
    await page.locator('#dlq-table tr[data-dlq="long-001"]').waitFor();
    await expect(rows.count()).resolves.toBe(50);
    await page.goBack();
    await page.waitForURL(/\?tab=dlq$/);
    await expect(page.locator('#dlq-filter [name="job"]').inputValue()).resolves.toBe('');

    // A deep link opens the same tab, filter and page.
    await page.goto(secondPage);
    await page.locator('#dlq-table tr[data-dlq="long-055"]').waitFor();
    await expect(rows.count()).resolves.toBe(5);
    await expect(page.locator('#dlq-filter [name="job"]').inputValue()).resolves.toBe('billing.export');
    await expect(page.locator('button[data-tab="dlq"]').getAttribute('aria-selected')).resolves.toBe('true');

    // Runs filters too, through a reload.
    await env.database.query(
      `INSERT INTO job_attempts (run_id, attempt, job, queue, company_id, outcome, final, failed, started_at, finished_at, duration_ms, error)
       VALUES ('run-billing-dead', 5, 'billing.export', 'normal', 'globex', 'dead', true, true, now() - interval '2 seconds', now(), 2000, 'boom'),
              ('run-billing-ok', 1, 'billing.export', 'normal', 'globex', 'succeeded', true, false, now() - interval '1 second', now(), 1000, null)`,
    );
    await page.locator('button[data-tab="runs"]').click();
    await page.locator('#runs-filter [name="job"]').fill('billing.export');
    await page.locator('#runs-filter [name="state"]').selectOption('dead');
    await page.locator('#runs-filter button[type="submit"]').click();
    await page.waitForURL(/\?tab=runs&job=billing\.export&state=dead$/);
    await page.reload();
    await expect(page.locator('#runs-filter [name="state"]').inputValue()).resolves.toBe('dead');
    await page.locator('#runs-table tr[data-run="run-billing-dead"]').waitFor();
    await expect(page.locator('#runs-table tr[data-run]').count()).resolves.toBe(1);
  });

  await withPage(browser, 'dashboard-tables-phone', PHONE, async (page) => {
    await signIn(page);
    for (const tab of ['dlq', 'runs', 'schedules', 'queues', 'audit']) {
      await page.goto(`${env.base}/?tab=${tab}${tab === 'dlq' ? '&job=billing.export' : ''}`);
      await page.locator(`#tab-${tab} table tbody tr`).first().waitFor();
      await page.waitForTimeout(300);
      expect({ tab, overflow: await horizontalOverflow(page) }).toEqual({ tab, overflow: 0 });
    }
    await page.goto(`${env.base}/?tab=dlq&job=billing.export`);
    const cell = page.locator('#dlq-table tr[data-dlq="long-001"] td[data-label="Error"]');
    await cell.locator('summary').click();
    await expect(cell.locator('pre').textContent()).resolves.toBe(error);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(RESULTS, 'dashboard-dlq-phone.png') });
  });
}, 90_000);

it('lets system admins list, create, move and pause tenants on the Tenants tab', async () => {
  await withPage(browser, 'dashboard-tenants', DESKTOP, async (page) => {
    await signIn(page);
    await page.locator('button[data-tab="tenants"]').click();
    await page.waitForURL(/\?tab=tenants$/);

    // Create: a bad timezone is refused with the API's reasons, a good one is listed.
    await page.getByTestId('tenant-company').fill('initech');
    await page.getByTestId('tenant-name').fill('Initech GmbH');
    await page.getByTestId('tenant-timezone').fill('Mars/Olympus');
    await page.getByTestId('tenant-save').click();
    await page.locator('#tenant-error').getByText(/timezone: "Mars\/Olympus" is not an IANA timezone/).waitFor();
    await page.getByTestId('tenant-timezone').fill('Europe/Berlin');
    await page.getByTestId('tenant-locale').fill('de-DE');
    await page.getByTestId('tenant-save').click();
    const row = page.locator('#tenants-table tr[data-tenant="initech"]');
    await row.waitFor();
    await expect(row.locator('td[data-label="Name"]').textContent()).resolves.toBe('Initech GmbH');
    await expect(row.locator('td[data-label="Timezone"]').textContent()).resolves.toBe('Europe/Berlin');
    await expect(row.locator('td[data-label="Locale"]').textContent()).resolves.toBe('de-DE');

    // Edit: move it to New York; pause and resume from the row.
    await row.locator('td[data-label="Company"]').click();
    await expect(page.getByTestId('tenant-company').isDisabled()).resolves.toBe(true);
    await page.getByTestId('tenant-timezone').fill('America/New_York');
    await page.getByTestId('tenant-save').click();
    await row.locator('td[data-label="Timezone"]').getByText('America/New_York').waitFor();
    await row.locator('button[data-action="pause"]').click();
    await page.locator('#tenants-table tr[data-tenant="initech"][data-state="paused"]').waitFor();
    await expect(page.getByTestId('tenant-paused').isChecked()).resolves.toBe(true);

    const admin = bearer(await token('system-admin'));
    const stored = await env.call('GET', '/api/v1/tenants/initech', { auth: admin });
    expect(stored.json).toMatchObject({ companyId: 'initech', name: 'Initech GmbH', timezone: 'America/New_York', locale: 'de-DE', paused: true });
    const audit = await env.call('GET', '/api/v1/audit?limit=50', { auth: admin });
    expect(audit.json.items.filter((e: { action: string; targetId: string }) => e.targetId === 'initech').map((e: { action: string }) => e.action).sort()).toEqual(['tenant.change', 'tenant.change', 'tenant.create']);
    await page.screenshot({ path: join(RESULTS, 'dashboard-tenants.png'), fullPage: true });
  });
  // Not for tenant callers: no tab.
  await withPage(browser, 'dashboard-tenants-viewer', DESKTOP, async (page) => {
    await page.goto(env.base + '/');
    await page.getByTestId('token').fill(await token('tenant-admin', TENANT_A));
    await page.getByTestId('sign-in').click();
    await page.locator('#jobs-table tbody tr').first().waitFor();
    await expect(page.locator('button[data-tab="tenants"]').isHidden()).resolves.toBe(true);
  });
}, 60_000);

it('shows a failed run on its own page: every attempt\'s error and (to platform roles) stack, reachable from the runs list and by deep link; retry makes a new run; viewers get no actions and no stacks', async () => {
  const admin = bearer(await token('system-admin'));
  const triggered = await env.call('POST', `/api/v1/jobs/${FAILING}/trigger`, { auth: admin, body: { companyId: TENANT_A, payload: { order: 'SO-1042' } } });
  expect(triggered.status).toBe(202);
  const runId: string = triggered.json.runId;
  const dead = await waitFor(async () => {
    const r = await env.call('GET', `/api/v1/runs/${runId}`, { auth: admin });
    return r.json?.state === 'dead' && r.json.attemptHistory.length === 2 ? r.json : undefined;
  }, { timeoutMs: 20_000, what: 'the failing run dead after two attempts' });
  expect(dead.attemptHistory.map((a: { outcome: string }) => a.outcome)).toEqual(['retrying', 'dead']);
  // Each attempt keeps its stack frames (not the message again), with the deployment's own paths made relative.
  for (const a of dead.attemptHistory as { stack: string; maxAttempts: number }[]) {
    expect(a.maxAttempts).toBe(2);
    expect(a.stack).toMatch(/^\s+at callPartnerApi \(test\/integration\/control-plane\/dashboard\.test\.ts:\d+:\d+\)/);
    expect(a.stack).not.toContain(`${process.cwd()}/`);
    expect(a.stack).not.toContain('503 Service Unavailable');
  }
  // Tenant roles read the errors but never the stacks (internal code paths).
  for (const role of ['tenant-admin', 'viewer'] as const) {
    const seen = await env.call('GET', `/api/v1/runs/${runId}`, { auth: bearer(await token(role, TENANT_A)) });
    expect(seen.status).toBe(200);
    expect(seen.json.attemptHistory).toHaveLength(2);
    for (const a of seen.json.attemptHistory) {
      expect(a).not.toHaveProperty('stack');
      expect(a.error).toContain('503 Service Unavailable');
    }
  }
  expect((await env.call('GET', `/api/v1/runs/${runId}`, { auth: bearer(await token('tenant-admin', TENANT_B)) })).status).toBe(404);

  await withPage(browser, 'dashboard-run-page', DESKTOP, async (page) => {
    await signIn(page);
    // From the runs list: the run's id is a link to its page.
    await page.goto(`${env.base}/?tab=runs&job=${FAILING}`);
    await page.locator(`#runs-table a[data-run-link="${runId}"]`).click();
    await page.waitForURL(`${env.base}/?tab=run&id=${runId}`);
    const detail = page.getByTestId('run-detail');
    const attempts = page.getByTestId('run-attempts').locator('li');
    await attempts.nth(1).waitFor();
    await expect(attempts.count()).resolves.toBe(2);
    await expect(attempts.nth(0).textContent()).resolves.toMatch(/#1 of 2\s*retrying.*Partner API answered 503 Service Unavailable for order SO-1042 \(attempt 1\)/);
    await expect(attempts.nth(1).textContent()).resolves.toMatch(/#2 of 2\s*dead.*Partner API answered 503 Service Unavailable for order SO-1042 \(attempt 2\)/);
    // The stack is folded away until asked for.
    const stack = attempts.nth(1).getByTestId('attempt-stack');
    await expect(stack.locator('pre').isVisible()).resolves.toBe(false);
    await stack.locator('summary').click();
    await expect(stack.locator('pre').textContent()).resolves.toMatch(/at callPartnerApi \(test\/integration\/control-plane\/dashboard\.test\.ts:/);
    await expect(page.getByTestId('run-error-text').textContent()).resolves.toContain('(attempt 2)');
    // A direct run too: each attempt records the attempts it was allowed.
    await expect(detail.locator('[data-field="attempts"]').textContent()).resolves.toBe('2 of 2');
    await expect(detail.locator('[data-field="tenant"]').textContent()).resolves.toBe(TENANT_A);
    await expect(detail.textContent()).resolves.toContain('"order": "SO-1042"');
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(RESULTS, 'dashboard-run-failed.png'), fullPage: true });
    // Back returns to the filtered list; the same run opens again from it.
    await page.goBack();
    await page.waitForURL(`${env.base}/?tab=runs&job=${FAILING}`);
    await page.locator(`#runs-table a[data-run-link="${runId}"]`).click();
    await page.waitForURL(`${env.base}/?tab=run&id=${runId}`);
    await attempts.nth(1).waitFor();

    // A deep link opens the page directly; Retry makes a new run of the same payload, linked to this one, and opens it.
    await page.goto(`${env.base}/?tab=run&id=${runId}`);
    await attempts.nth(1).waitFor();
    await page.getByTestId('run-actions').locator('button[data-action="retry"]').click();
    const retried = await waitFor(async () => {
      const rows = await env.database.query<{ id: string; payload: unknown }>('SELECT id, payload FROM job_runs WHERE retry_of = $1', [runId]);
      return rows[0];
    }, { what: 'the retried run' });
    expect(retried.payload).toEqual({ order: 'SO-1042' });
    await page.waitForURL(`${env.base}/?tab=run&id=${retried.id}`);
    await detail.locator(`[data-field="retry-of"] a[data-run-link="${runId}"]`).waitFor();
    // The failed run cannot be retried twice.
    expect((await env.call('POST', `/api/v1/runs/${runId}/retry`, { auth: admin })).status).toBe(409);
  });

  // A viewer of the tenant reads the same page without any action.
  await withPage(browser, 'dashboard-run-viewer', PHONE, async (page) => {
    await signIn(page, await token('viewer', TENANT_A));
    await page.goto(`${env.base}/?tab=run&id=${runId}`);
    await page.getByTestId('run-attempts').locator('li').nth(1).waitFor();
    await expect(page.locator('#tab-run button[data-action]').count()).resolves.toBe(0);
    await expect(page.getByTestId('attempt-stack').count()).resolves.toBe(0);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(RESULTS, 'dashboard-run-phone.png'), fullPage: true });
  });

  // An admin deletes the finished run from its page; it is gone from the API.
  await withPage(browser, 'dashboard-run-delete', DESKTOP, async (page) => {
    await signIn(page);
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${env.base}/?tab=run&id=${runId}`);
    await page.getByTestId('run-actions').locator('button[data-action="delete"]').click();
    await page.waitForURL(/\?tab=runs/);
    expect((await env.call('GET', `/api/v1/runs/${runId}`, { auth: admin })).status).toBe(404);
  });
}, 90_000);

it('lists the workers from their heartbeats, and empties a queue only once its name is typed in the confirm dialog', async () => {
  const admin = bearer(await token('system-admin'));
  // Two low-priority runs held waiting by a paused lane.
  expect((await env.call('POST', '/api/v1/queues/low/pause', { auth: admin, body: {} })).status).toBe(200);
  const ids: string[] = [];
  for (const n of [1, 2]) ids.push((await env.call('POST', `/api/v1/jobs/${JOB}/trigger`, { auth: admin, body: { priority: 'low', payload: { emptied: n } } })).json.runId);
  const queuedIds = async () => ((await env.call('GET', `/api/v1/runs?state=queued&job=${JOB}`, { auth: admin })).json.items as { id: string }[]).map((r) => r.id);
  await waitFor(async () => (await queuedIds()).filter((id) => ids.includes(id)).length === 2, { what: 'two runs waiting in the paused low lane' });

  await withPage(browser, 'dashboard-workers-empty', DESKTOP, async (page) => {
    await signIn(page);
    await page.locator('button[data-tab="workers"]').click();
    const worker = page.locator('#workers-table tr[data-worker^="demo."]');
    await worker.waitFor();
    await expect(worker.getAttribute('data-stale')).resolves.toBe('false');
    await expect(worker.locator('td[data-label="Jobs"]').textContent()).resolves.toContain(JOB);
    await expect(worker.locator('td[data-label="Slots"]').textContent()).resolves.toMatch(/^\d+ \/ 2$/);
    await page.screenshot({ path: join(RESULTS, 'dashboard-workers.png'), fullPage: true });

    await page.locator('button[data-tab="queues"]').click();
    await page.locator('#queues-table tr[data-queue="low"] button[data-action="empty"]').click();
    const submit = page.getByTestId('empty-submit');
    await expect(submit.isDisabled()).resolves.toBe(true);
    await page.getByTestId('empty-confirm').fill('lo');
    await expect(submit.isDisabled()).resolves.toBe(true);
    await page.getByTestId('empty-confirm').fill('low');
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/queues/low/empty'));
    await submit.click();
    const res = await answer;
    expect(res.status()).toBe(200);
    expect(res.request().postDataJSON()).toEqual({ confirm: 'low' });
    await page.locator('#toast').getByText(/^low: \d+ waiting removed, \d+ planned cancelled$/).waitFor();
    await expect(page.getByTestId('empty-dialog').isHidden()).resolves.toBe(true);
  });
  // Nothing of the lane waits any more.
  expect((await queuedIds()).filter((id) => ids.includes(id))).toEqual([]);
  expect((await env.call('POST', '/api/v1/queues/low/resume', { auth: admin, body: {} })).status).toBe(200);
  const audit = await env.call('GET', '/api/v1/audit?limit=20', { auth: admin });
  expect(audit.json.items.map((e: { action: string }) => e.action)).toContain('queue.empty');
}, 60_000);

it('shows a running run\'s progress from the heartbeats and its durable steps, and cancels it from its page', async () => {
  const admin = bearer(await token('system-admin'));
  const triggered = await env.call('POST', `/api/v1/jobs/${JOB}/trigger`, { auth: admin, body: { payload: { holdMs: 20_000 } } });
  const runId: string = triggered.json.runId;
  await withPage(browser, 'dashboard-run-running', DESKTOP, async (page) => {
    await signIn(page);
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${env.base}/?tab=run&id=${runId}`);
    const detail = page.getByTestId('run-detail');
    // The page refreshes itself: the progress arrives with the worker's heartbeat, the step once recorded.
    await detail.locator('[data-field="progress"]').getByText('50% · halfway').waitFor({ timeout: 15_000 });
    await detail.locator('#run-steps tr[data-step="fetch orders"]').waitFor({ timeout: 15_000 });
    await expect(detail.locator('#run-steps tr[data-step="fetch orders"] td[data-label="Result"] pre').textContent()).resolves.toContain('"orders": 3');
    await expect(page.getByTestId('run-actions').locator('button[data-action]').evaluateAll((bs) => bs.map((b) => b.getAttribute("data-action")))).resolves.toEqual(['cancel']);
    await page.screenshot({ path: join(RESULTS, 'dashboard-run-running.png'), fullPage: true });
    await page.getByTestId('run-actions').locator('button[data-action="cancel"]').click();
    await page.locator('#run-detail[data-state="cancelled"]').waitFor({ timeout: 15_000 });
  });
  expect((await env.call('GET', `/api/v1/runs/${runId}`, { auth: admin })).json.state).toBe('cancelled');
}, 60_000);
