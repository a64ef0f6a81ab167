import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import type { Browser } from 'playwright-core';
import { DURATION_BUCKETS } from '../../../libs/common/src/jobs/history/duration-histogram.js';
import {
  HEADERS,
  jobConsumerDeclarations,
  provision,
  STREAM_DECLARATIONS,
  subjects,
} from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { DESKTOP, horizontalOverflow, launchBrowser, PHONE, RESULTS, withPage } from './browser.js';
import { bearer, ControlPlaneEnv, dashboardSignIn, TENANT_A, TENANT_B, token } from './support.js';

/**
 * The dashboard's charts: GET /api/v1/stats/timeseries over the
 * job_stats_minute rollup and the scheduler's queue sampler, drawn with uPlot.
 * Until the run-history writer fills job_stats_minute, these tests insert
 * rollup rows themselves (as that writer would); the queue sampler is real,
 * reading JetStream consumer info every second here (QUEUE_STATS_SAMPLE_MS).
 */
const env = new ControlPlaneEnv('charts');
let browser: Browser;
let launching: Promise<Browser> | undefined;
const JOB = 'reports.build';

beforeAll(async () => {
  // The browser starts while the scheduler does.
  launching = launchBrowser();
  launching.catch(() => undefined);
  await env.start({ API_RATE_LIMIT_BURST: '10000', QUEUE_STATS_SAMPLE_MS: '1000' });
  browser = await launching;
}, 120_000);

afterAll(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await env.stop();
});

/** A duration histogram with `n` attempts in bucket `i` ([2^(i-1), 2^i) ms). */
const hist = (i: number, n: number) => Array.from({ length: DURATION_BUCKETS }, (_, k) => (k === i ? n : 0));

/** One rollup row `minutesAgo` minutes before the current minute, as the history writer appends it. */
async function rollup(minutesAgo: number, row: { job?: string; companyId: string; succeeded?: number; failed?: number; retried?: number; dead?: number; hist?: number[] }) {
  await env.database.query(
    `INSERT INTO job_stats_minute (minute, job, queue, company_id, succeeded, failed, retried, dead, cancelled, duration_ms_sum, duration_hist)
     VALUES (date_trunc('minute', now()) - make_interval(mins => $1), $2, 'normal', $3, $4, $5, $6, $7, 0, 0, $8::int[])`,
    [minutesAgo, row.job ?? JOB, row.companyId, row.succeeded ?? 0, row.failed ?? 0, row.retried ?? 0, row.dead ?? 0, row.hist ?? hist(0, 0)],
  );
}

async function series(query: string, auth: Record<string, string>) {
  return env.call('GET', `/api/v1/stats/timeseries?${query}`, { auth });
}

const last = <T>(a: (T | null)[]): T | null => [...a].reverse().find((v) => v !== null) ?? null;

const signIn = dashboardSignIn(() => env.base);

it('serves runs by outcome and p50/p95 from rollup rows the test inserts (until the history writer fills them), bucketed per range and scoped by tenant', async () => {
  // Six minutes of acme (3 ok, 1 failed each, ten attempts of 64-128 ms), one of globex, one 3 h and one 3 days ago, another job.
  for (let m = 0; m < 6; m++) await rollup(m, { companyId: TENANT_A, succeeded: 3, failed: 1, hist: hist(7, 10) });
  await rollup(1, { companyId: TENANT_B, succeeded: 10, dead: 2 });
  await rollup(180, { companyId: TENANT_A, succeeded: 7 });
  await rollup(3 * 24 * 60, { companyId: TENANT_A, succeeded: 11 });
  await rollup(2, { job: 'other.job', companyId: TENANT_A, succeeded: 100 });

  const admin = bearer(await token('system-admin'));
  const hour = await series(`range=1h&job=${JOB}`, admin);
  expect(hour.status).toBe(200);
  expect(hour.json).toMatchObject({ range: '1h', bucketSeconds: 60, job: JOB, companyId: null });
  expect(hour.json.t).toHaveLength(60);
  expect(hour.json.totals).toEqual({ succeeded: 28, failed: 6, retried: 0, dead: 2, cancelled: 0 });
  expect(hour.json.runs.succeeded.slice(-6)).toEqual([3, 3, 3, 3, 13, 3]);
  expect(last(hour.json.durationMs.p50)).toBe(96);
  expect(last(hour.json.durationMs.p95)).toBe(124.8);
  expect(hour.json.queue).toMatchObject({ pending: expect.any(Array), lagMs: expect.any(Array) });
  expect(hour.json.jobs).toEqual(['other.job', JOB]);

  const day = await series(`range=24h&job=${JOB}`, admin);
  expect([day.json.bucketSeconds, day.json.t.length, day.json.totals.succeeded]).toEqual([900, 96, 35]);
  const week = await series(`range=7d&job=${JOB}`, admin);
  expect([week.json.bucketSeconds, week.json.t.length, week.json.totals.succeeded]).toEqual([3600, 168, 46]);
  expect((await series('range=1h', admin)).json.totals.succeeded).toBe(128);

  // Tenants see their own tenant only, and no queue (consumers are shared by every tenant).
  const acme = bearer(await token('tenant-admin', TENANT_A));
  const own = await series(`range=1h&job=${JOB}`, acme);
  expect([own.json.totals.succeeded, own.json.companyId, own.json.queue]).toEqual([18, TENANT_A, null]);
  expect((await series(`range=1h&job=${JOB}&companyId=${TENANT_B}`, acme)).json.totals.succeeded).toBe(0);
  expect((await series(`range=1h&job=${JOB}`, bearer(await token('viewer', TENANT_B)))).json.totals).toEqual({ succeeded: 10, failed: 0, retried: 0, dead: 2, cancelled: 0 });
  expect((await series(`range=1h&job=${JOB}&companyId=${TENANT_B}`, admin)).json.totals.succeeded).toBe(10);

  for (const q of ['range=2h', '', 'range=1h&job=bad job']) {
    const bad = await series(q, admin);
    expect(bad.status).toBe(400);
    expect(bad.type).toMatch(/^application\/problem\+json/);
  }
  expect((await env.call('GET', '/api/v1/stats/timeseries?range=1h')).status).toBe(401);
});

it('samples queue depth and lag from JetStream once a minute (every second here) and charts them per job', async () => {
  // A consumer nobody serves: three reports jobs wait, due 5 s ago.
  const nc = await connect({ servers: env.nats.url });
  await provision(await jetstreamManager(nc), STREAM_DECLARATIONS, jobConsumerDeclarations('reports'), { replicas: 1, ackWaitMs: 30_000 });
  const js = jetstream(nc);
  const due = new Date(Date.now() - 5_000).toISOString();
  for (let i = 0; i < 3; i++) {
    const h = headers();
    h.set(HEADERS.scheduledFor, due);
    await js.publish(subjects.job('low', JOB), JSON.stringify({ n: i }), { headers: h });
  }
  await nc.close();

  const sample = await waitFor(async () => {
    const rows = await env.database.query<{ pending: string; ack_pending: string; oldest_pending_age_ms: string; filter_subject: string }>(
      `SELECT pending, ack_pending, oldest_pending_age_ms, filter_subject FROM queue_stats_minute WHERE consumer = 'reports-jobs-low' ORDER BY minute DESC LIMIT 1`,
    );
    return rows[0] && Number(rows[0].pending) === 3 ? rows[0] : undefined;
  }, { timeoutMs: 20_000, what: 'a queue sample of reports-jobs-low with 3 pending' }) as { pending: string; ack_pending: string; oldest_pending_age_ms: string; filter_subject: string };
  expect(sample.filter_subject).toBe('jobs.low.reports.>');
  expect(Number(sample.ack_pending)).toBe(0);
  expect(Number(sample.oldest_pending_age_ms)).toBeGreaterThanOrEqual(5_000);

  const admin = bearer(await token('system-admin'));
  const s = (await series(`range=1h&job=${JOB}`, admin)).json;
  expect(s.queue.consumers).toEqual(['reports-jobs-critical', 'reports-jobs-high', 'reports-jobs-low', 'reports-jobs-normal']);
  expect(last(s.queue.pending)).toBe(3);
  expect(last(s.queue.lagMs)).toBeGreaterThanOrEqual(5_000);
  // Another job's consumers are not counted.
  expect(last((await series('range=1h&job=documents.tick', admin)).json.queue.pending)).toBe(0);
});

it('draws the charts on the overview and per job, follows new data live, keeps range and job in the URL, and fits a phone', async () => {
  await withPage(browser, 'charts-desktop', DESKTOP, async (page) => {
    await signIn(page);
    const charts = page.getByTestId('charts');
    for (const id of ['chart-runs', 'chart-duration', 'chart-queue']) await page.locator(`#${id} canvas`).first().waitFor();
    const runsSum = page.locator('#chart-runs .chart-sum');
    await expect(runsSum.textContent()).resolves.toContain('128 succeeded');
    await expect(page.locator('#chart-duration .chart-sum').textContent()).resolves.toMatch(/latest p50 96 ms, p95 125 ms/);
    await expect(page.locator('#chart-queue .chart-sum').textContent()).resolves.toMatch(/now 3 waiting/);
    await page.screenshot({ path: join(RESULTS, 'dashboard-charts-desktop.png') });

    // Per job, from the job picker; the URL keeps it.
    await page.getByTestId('charts-job').selectOption(JOB);
    await page.waitForURL(/\?job=reports\.build$/);
    await waitFor(async () => (await runsSum.textContent())?.includes('28 succeeded'), { what: 'per-job totals' });

    // Live: a new minute of rollup arrives and the chart follows without a reload.
    await rollup(0, { companyId: TENANT_A, succeeded: 5 });
    await waitFor(async () => (await runsSum.textContent())?.includes('33 succeeded'), { timeoutMs: 15_000, what: 'the live update' });

    // Longer ranges.
    await page.locator('#charts [data-range="7d"]').click();
    await page.waitForURL(/\?range=7d&job=reports\.build$/);
    await waitFor(async () => (await charts.getAttribute('data-range')) === '7d' && (await runsSum.textContent())?.includes('51 succeeded'), { what: '7 d totals' });
    await expect(charts.getAttribute('data-points')).resolves.toBe('168');
    await page.screenshot({ path: join(RESULTS, 'dashboard-charts-7d.png') });

    // Back: one job over the last hour again; a deep link restores the same view.
    await page.goBack();
    await page.waitForURL(/\?job=reports\.build$/);
    await waitFor(async () => (await charts.getAttribute('data-range')) === '1h', { what: 'back to 1 h' });
    await page.goto(`${env.base}/?range=24h&job=${JOB}`);
    await waitFor(async () => (await charts.getAttribute('data-range')) === '24h' && (await charts.getAttribute('data-job')) === JOB, { what: 'deep link' });
    await expect(page.getByTestId('charts-job').inputValue()).resolves.toBe(JOB);
    await expect(page.locator('#charts [data-range="24h"]').getAttribute('aria-pressed')).resolves.toBe('true');
  });

  // A tenant admin sees the tenant's charts, without the shared queue.
  await withPage(browser, 'charts-tenant', DESKTOP, async (page) => {
    await page.goto(env.base + '/');
    await page.getByTestId('token').fill(await token('tenant-admin', TENANT_B));
    await page.getByTestId('sign-in').click();
    await page.locator('#chart-runs canvas').first().waitFor();
    await waitFor(async () => (await page.locator('#chart-runs .chart-sum').textContent())?.includes('10 succeeded'), { what: 'tenant totals' });
    await expect(page.locator('#chart-queue').isHidden()).resolves.toBe(true);
  });

  await withPage(browser, 'charts-phone', PHONE, async (page) => {
    await signIn(page);
    await page.locator('#chart-queue canvas').first().waitFor();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    const width = await page.evaluate<number>(`document.querySelector('#chart-runs canvas').getBoundingClientRect().width`);
    expect(width).toBeGreaterThan(250);
    expect(width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(RESULTS, 'dashboard-charts-phone.png'), fullPage: true });
  });
}, 120_000);
