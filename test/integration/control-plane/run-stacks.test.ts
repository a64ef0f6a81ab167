import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { Injectable, type INestApplication } from '@nestjs/common';
import type { Browser } from 'playwright-core';
import { JobHandler, type JobContext, type RunResult } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { DESKTOP, horizontalOverflow, launchBrowser, PHONE, RESULTS, withPage } from './browser.js';
import { bearer, ControlPlaneEnv, dashboardSignIn, startJobWorker, TENANT_A, TENANT_B, token } from './support.js';

/**
 * Issue 26: every attempt of a run with its error and — to platform roles
 * (system admins, service keys) — its stack (function names, project-relative paths, no
 * message, no credential), and "attempt n of m" for a run enqueued straight to
 * JetStream (no planned job_runs row). The API for each role and the run page
 * in Chromium, at desktop and 390 px.
 */
const FLAKY = 'stacks.flaky';
const DOOMED = 'stacks.doomed';
const SECRET = 'Hunter2-Zq81';

const env = new ControlPlaneEnv('run-stacks');
let browser: Browser;
let launching: Promise<Browser> | undefined;
let worker: INestApplication;

/** The ledger client: fails two levels below the handler, with a credential in its message (as careless clients do). */
function openLedgerSession(order: string): never {
  throw new Error(`ledger login refused for order ${order}: password=${SECRET} via https://svc:${SECRET}@ledger.example.com`);
}

function syncLedger(order: string): never {
  return openLedgerSession(order);
}

@Injectable()
class StackJobs {
  /** Fails attempts 1 and 2, succeeds on 3. */
  @JobHandler(FLAKY, { maxAttempts: 3, backoff: { kind: 'fixed', baseMs: 200, capMs: 200, jitter: 0 }, timeoutMs: 10_000 })
  async flaky(ctx: JobContext<{ order: string }>): Promise<RunResult> {
    if (ctx.attempt < 3) syncLedger(ctx.payload.order);
    return { status: 'success', recordsProcessed: 1 };
  }

  /** Fails all three attempts: the run goes dead. */
  @JobHandler(DOOMED, { maxAttempts: 3, backoff: { kind: 'fixed', baseMs: 200, capMs: 200, jitter: 0 }, timeoutMs: 10_000 })
  async doomed(ctx: JobContext<{ order: string }>): Promise<RunResult> {
    return syncLedger(ctx.payload.order);
  }
}

const signIn = dashboardSignIn(() => env.base);

type Attempt = { attempt: number; outcome: string; error: string | null; stack?: string | null; maxAttempts: number | null };

/** Triggers `job` for TENANT_A (a direct enqueue: no job_runs row) and waits for its run to reach `state` with `attempts` attempts. */
async function runTo(job: string, order: string, state: string, attempts: number): Promise<{ runId: string; run: { attemptHistory: Attempt[] } & Record<string, unknown> }> {
  const admin = bearer(await token('system-admin'));
  const triggered = await env.call('POST', `/api/v1/jobs/${job}/trigger`, { auth: admin, body: { companyId: TENANT_A, payload: { order } } });
  expect(triggered.status).toBe(202);
  const runId = triggered.json.runId as string;
  const run = await waitFor(async () => {
    const r = await env.call('GET', `/api/v1/runs/${runId}`, { auth: admin });
    return r.json?.state === state && r.json.attemptHistory.length === attempts ? r.json : undefined;
  }, { timeoutMs: 30_000, what: `${job} ${state} after ${attempts} attempts` });
  return { runId, run };
}

/** A stack as stored for an attempt of syncLedger: both functions by name, project-relative, nothing of the message. */
function expectCleanStack(stack: string | null | undefined): void {
  expect(typeof stack).toBe('string');
  expect(stack).toMatch(/^\s+at openLedgerSession \(test\/integration\/control-plane\/run-stacks\.test\.ts:\d+:\d+\)/);
  expect(stack).toMatch(/\n\s+at syncLedger \(test\/integration\/control-plane\/run-stacks\.test\.ts:\d+:\d+\)/);
  expect(stack).not.toContain(process.cwd());
  expect(stack).not.toMatch(/\((?:\/|file:)/);
  expect(stack).not.toContain(SECRET);
  expect(stack).not.toContain('ledger login refused');
}

beforeAll(async () => {
  launching = launchBrowser();
  launching.catch(() => undefined);
  await env.start({ API_RATE_LIMIT_BURST: '10000' });
  worker = await startJobWorker(env, 'stacks', [FLAKY, DOOMED], StackJobs);
  browser = await launching;
}, 120_000);

afterAll(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await worker?.close();
  await env.stop();
});

it('keeps each failed attempt\'s stack for platform roles, never for tenant roles or another tenant, and "n of m" for a direct run', async () => {
  // Fails twice, then succeeds: two stacks, none for the success.
  const flaky = await runTo(FLAKY, 'SO-7', 'succeeded', 3);
  expect(flaky.run.attemptHistory.map((a) => [a.attempt, a.outcome, a.maxAttempts])).toEqual([[1, 'retrying', 3], [2, 'retrying', 3], [3, 'succeeded', 3]]);
  expect(flaky.run.maxAttempts).toBe(3);
  for (const a of flaky.run.attemptHistory.slice(0, 2)) {
    // The message is kept, with the credentials in it redacted.
    expect(a.error).toBe('ledger login refused for order SO-7: password=[redacted] via https://svc:***@ledger.example.com');
    expectCleanStack(a.stack);
  }
  expect(flaky.run.attemptHistory[2]!.stack ?? null).toBeNull();
  expect(flaky.run.attemptHistory[2]!.error).toBeNull();

  // Fails all three: dead, three stacks; the stored rows carry max_attempts though no job_runs row exists.
  const doomed = await runTo(DOOMED, 'SO-8', 'dead', 3);
  expect(doomed.run.attemptHistory.map((a) => [a.outcome, a.maxAttempts])).toEqual([['retrying', 3], ['retrying', 3], ['dead', 3]]);
  for (const a of doomed.run.attemptHistory) expectCleanStack(a.stack);
  expect(await env.database.query('SELECT 1 FROM job_runs WHERE id = $1', [doomed.runId])).toHaveLength(0);
  const stored = await env.database.query<{ max_attempts: number; stack: boolean }>(
    'SELECT max_attempts, error_stack IS NOT NULL AS stack FROM job_attempts_failed WHERE run_id = $1 ORDER BY attempt', [doomed.runId],
  );
  expect(stored).toEqual([{ max_attempts: 3, stack: true }, { max_attempts: 3, stack: true }, { max_attempts: 3, stack: true }]);

  // Tenant roles — the tenant's admin (who may still retry and delete the run) and a viewer — read every attempt's
  // error and maximum, and no stack field at all.
  for (const role of ['tenant-admin', 'viewer'] as const) {
    const seen = await env.call('GET', `/api/v1/runs/${doomed.runId}`, { auth: bearer(await token(role, TENANT_A)) });
    expect(seen.status).toBe(200);
    expect(seen.json.attemptHistory).toHaveLength(3);
    for (const a of seen.json.attemptHistory as Attempt[]) {
      expect(a).not.toHaveProperty('stack');
      expect(a.error).toContain('ledger login refused for order SO-8');
      expect(a.maxAttempts).toBe(3);
    }
    expect(JSON.stringify(seen.json)).not.toContain('openLedgerSession');
    expect(JSON.stringify(seen.json)).not.toContain(SECRET);
  }

  // Another tenant, whatever its role, does not find the run.
  for (const role of ['tenant-admin', 'viewer'] as const) {
    expect((await env.call('GET', `/api/v1/runs/${doomed.runId}`, { auth: bearer(await token(role, TENANT_B)) })).status).toBe(404);
  }

  // The run page: each attempt "#n of 3" with its error; the stack folded until asked for.
  await withPage(browser, 'run-stacks-desktop', DESKTOP, async (page) => {
    await signIn(page);
    await page.goto(`${env.base}/?tab=run&id=${doomed.runId}`);
    const attempts = page.getByTestId('run-attempts').locator('li');
    await attempts.nth(2).waitFor();
    await expect(page.locator('#tab-run [data-field="attempts"]').textContent()).resolves.toBe('3 of 3');
    for (let i = 0; i < 3; i++) {
      await expect(attempts.nth(i).locator('.attempt-head strong').textContent()).resolves.toBe(`#${i + 1} of 3`);
      await expect(attempts.nth(i).locator('.error-text').textContent()).resolves.toContain('ledger login refused for order SO-8');
    }
    const stack = attempts.nth(2).getByTestId('attempt-stack');
    await expect(stack.locator('summary').textContent()).resolves.toBe('Stack trace');
    await expect(stack.locator('pre').isVisible()).resolves.toBe(false);
    await stack.locator('summary').click();
    await expect(stack.locator('pre').isVisible()).resolves.toBe(true);
    const text = await stack.locator('pre').textContent();
    expect(text).toContain('at openLedgerSession (test/integration/control-plane/run-stacks.test.ts:');
    expect(text).not.toContain(SECRET);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
  });

  // At 390 px, with every stack open, the long frames scroll inside their box, not the page.
  await withPage(browser, 'run-stacks-phone', PHONE, async (page) => {
    await signIn(page);
    await page.goto(`${env.base}/?tab=run&id=${doomed.runId}`);
    const stacks = page.getByTestId('attempt-stack');
    await stacks.nth(2).waitFor();
    for (let i = 0; i < 3; i++) await stacks.nth(i).locator('summary').click();
    const pre = stacks.nth(0).locator('pre');
    await expect(pre.isVisible()).resolves.toBe(true);
    const box = await pre.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(RESULTS, 'run-stacks-phone.png'), fullPage: true });
  });

  // A tenant admin's page shows the errors and "of 3", and no stack.
  await withPage(browser, 'run-stacks-tenant-admin', PHONE, async (page) => {
    await signIn(page, await token('tenant-admin', TENANT_A));
    await page.goto(`${env.base}/?tab=run&id=${doomed.runId}`);
    const attempts = page.getByTestId('run-attempts').locator('li');
    await attempts.nth(2).waitFor();
    await expect(attempts.nth(0).locator('.attempt-head strong').textContent()).resolves.toBe('#1 of 3');
    await expect(attempts.nth(0).locator('.error-text').textContent()).resolves.toContain('ledger login refused');
    await expect(page.getByTestId('attempt-stack').count()).resolves.toBe(0);
  });
}, 120_000);
