import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Page } from 'playwright-core';
import { jobConsumerDeclarations, MetronomeServiceModule, provision, STREAM_DECLARATIONS } from '../../../libs/common/src/index.js';
import { TEST_JWT_SECRET, testToken, type TestRole } from '../../support/auth.js';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { TestDatabase } from '../../support/database.js';
import { ROOT, ServiceProcess } from '../../support/service-process.js';
import { fetchAnswer } from '../../support/http.js';

export const JWT_SECRET = TEST_JWT_SECRET;
export const API_KEY = 'svc-key-0123456789';
export const TENANT_A = 'acme';
export const TENANT_B = 'globex';

export type RoleName = TestRole;

export const token = testToken;

/** A built scheduler on a private nats-server and a fresh database. */
export class ControlPlaneEnv {
  readonly nats = new TestNatsServer();
  readonly database = new TestDatabase();
  scheduler?: ServiceProcess;
  port = 0;

  /** `name`: the scheduler's output goes to test/results/<name>-scheduler.log when the suite ends, to read after a failure. */
  constructor(readonly name = 'control-plane') {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(env: Record<string, string> = {}): Promise<this> {
    await Promise.all([this.nats.start(), this.database.create()]);
    this.port = await freePort();
    this.scheduler = new ServiceProcess('apps/scheduler/src/main.js', {
      NATS_URLS: this.nats.url,
      DATABASE_URL: this.database.url,
      SCHEDULER_PORT: String(this.port),
      JWT_SECRET,
      API_KEYS: `ci=${API_KEY}`,
      TICK_INTERVAL_MS: '3600000',
      LOG_LEVEL: 'info',
      ...env,
    }).start();
    await this.scheduler.waitForLog('scheduler started', 60_000);
    return this;
  }

  async stop(): Promise<void> {
    await this.scheduler?.stop();
    if (this.scheduler) {
      const results = join(ROOT, 'test', 'results');
      mkdirSync(results, { recursive: true });
      writeFileSync(join(results, `${this.name}-scheduler.log`), this.scheduler.text);
    }
    await this.nats.destroy();
    await this.database.drop();
  }

  call(method: string, path: string, options: { auth?: Record<string, string>; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...(options.auth ?? {}), ...(options.headers ?? {}) };
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && !headers['Content-Type']) headers['Content-Type'] = 'application/json';
    return fetchAnswer(`${this.base}${path}`, { method, headers, body });
  }
}

export const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
export const apiKey = (k = API_KEY) => ({ 'X-Api-Key': k });

/**
 * A dead run and its dead letter for a tenant, written as the runtime would: a
 * run enqueued straight to JetStream leaves no job_runs row, only its history
 * (one job_attempts row per finished attempt; the last one, dead, is final).
 */
export async function seed(db: TestDatabase, companyId: string, job = 'reports.build'): Promise<{ runId: string; dlqId: string }> {
  const runId = `run-${companyId}-${Math.random().toString(36).slice(2, 10)}`;
  const dlqId = `msg-${companyId}-${Math.random().toString(36).slice(2, 10)}`;
  await db.query(
    `INSERT INTO job_attempts (run_id, attempt, job, queue, company_id, outcome, final, failed, scheduled_for, enqueued_at, started_at, finished_at, duration_ms, error, payload)
     SELECT $1, n, $2, 'normal', $3, CASE WHEN n = 5 THEN 'dead' ELSE 'retrying' END, n = 5, true, now() - interval '1 minute', now() - interval '1 minute',
            now() - interval '50 seconds' + n * interval '1 second', now() - interval '49 seconds' + n * interval '1 second', 1000, 'boom', '{}'
       FROM generate_series(1, 5) AS n`,
    [runId, job, companyId],
  );
  await db.query(
    `INSERT INTO dead_letters (id, stream, consumer, subject, message_type, company_id, headers, payload, reason, error, attempts, first_failed_at, last_failed_at, run_id)
     VALUES ($1, 'JOBS', 'scheduler-jobs', $2, $3, $4, '{}', $5, 'max_attempts', 'boom', 5, now(), now(), $6)`,
    [dlqId, `jobs.normal.${job}`, job, companyId, JSON.stringify(deadJobMessage(runId, job, companyId)), runId],
  );
  return { runId, dlqId };
}

/** The stored CloudEvent of a dead job run: the scheduler's JobMessage, as the transport dead-letters it. */
function deadJobMessage(runId: string, job: string, companyId: string) {
  const at = new Date(Date.now() - 60_000).toISOString();
  return {
    specversion: '1.0', id: runId, source: 'metronome/scheduler', type: job, time: at, datacontenttype: 'application/json', companyid: companyId,
    data: { runId, companyId, payload: {}, scheduledFor: at },
  };
}

@Module({})
class JobWorkerModule {}

/**
 * A job worker in this process beside the scheduler: the service's job
 * consumers provisioned on the env's NATS, the real job runtime serving
 * `jobs` with the @JobHandler methods of `handlers`.
 */
export async function startJobWorker(env: ControlPlaneEnv, service: string, jobs: string[], handlers: Type): Promise<INestApplication> {
  const consumers = jobConsumerDeclarations(service);
  const nc = await connect({ servers: env.nats.url });
  await provision(await jetstreamManager(nc), STREAM_DECLARATIONS, consumers, { replicas: 1, ackWaitMs: 30_000 });
  await nc.close();
  Object.assign(process.env, { NATS_URLS: env.nats.url, DATABASE_URL: env.database.url, LOG_LEVEL: 'warn', NATS_PROVISION_ON_START: 'false', SHUTDOWN_GRACE_MS: '2000' });
  const worker = await NestFactory.create(
    {
      module: JobWorkerModule,
      imports: [MetronomeServiceModule.forService({ service, consumers: [], entities: [], jobs: { names: jobs, consumers, concurrency: 2 } })],
      providers: [handlers],
    },
    { logger: false },
  );
  await worker.init();
  return worker;
}

/** Signs the dashboard at `base()` in with `as`, or a system-admin token for `sub`, and waits for the signed-in name. */
export function dashboardSignIn(base: () => string, sub = 'ops@example.com'): (page: Page, as?: string) => Promise<void> {
  return async (page, as) => {
    await page.goto(`${base()}/`);
    await page.getByTestId('token').fill(as ?? (await token('system-admin', undefined, { sub })));
    await page.getByTestId('sign-in').click();
    await page.getByTestId('who').waitFor();
  };
}
