import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  jobConsumerDeclarations,
  jobDeclaration,
  JobHandler,
  MetronomeServiceModule,
  provision,
  STREAM_DECLARATIONS,
  type JobContext,
  type RunResult,
} from '../../../libs/common/src/index.js';
import { announce } from '../../support/job-declarations.js';
import { API_KEY, apiKey, bearer, ControlPlaneEnv, JWT_SECRET, token } from '../control-plane/support.js';

export const TENANT = 'acme';
export const OTHER = 'globex';

/** The jobs of a `reports` service run in this process by the production job runtime. */
export const REPORTS = {
  /** Tenant-schedulable; one attempt: `{ mode: 'throw' }` dies (dead letter), `{ mode: 'failure' }` fails (no dead letter). */
  build: 'reports.build',
  /** Declared, never scheduled, never run: high priority. */
  idle: 'reports.idle',
  /** A platform job. */
  platform: 'reports.platform',
  /** Runs until cancelled. */
  slow: 'reports.slow',
  /** Fails every time with the job defaults (3 attempts, exponential backoff from 2 s). */
  flaky: 'reports.flaky',
} as const;

/** Jobs of a `ledger` service that is declared but has no worker running: its messages wait in JOBS. */
export const LEDGER_EXPORT = 'ledger.export';

@Injectable()
class ReportJobs {
  @JobHandler(REPORTS.build, { tenantSchedulable: true, maxAttempts: 1 })
  build(ctx: JobContext<{ mode?: 'throw' | 'failure' }>): RunResult {
    if (ctx.payload.mode === 'throw') throw new Error('report source unavailable');
    if (ctx.payload.mode === 'failure') return { status: 'failure', message: 'report had no rows' };
    return { status: 'success' };
  }

  @JobHandler(REPORTS.idle, { priority: 'high' })
  idle(): RunResult {
    return { status: 'success', message: 'idle ran' };
  }

  @JobHandler(REPORTS.platform, { platform: true })
  platform(): RunResult {
    return { status: 'success' };
  }

  @JobHandler(REPORTS.slow, { tenantSchedulable: true })
  async slow(ctx: JobContext): Promise<RunResult> {
    await ctx.progress(10, 'waiting to be cancelled');
    await new Promise<void>((resolve) => (ctx.signal.aborted ? resolve() : ctx.signal.addEventListener('abort', () => resolve(), { once: true })));
    ctx.throwIfAborted();
    return { status: 'success' };
  }

  @JobHandler(REPORTS.flaky)
  flaky(): RunResult {
    throw new Error('flaky upstream');
  }
}

@Module({
  imports: [
    MetronomeServiceModule.forService({
      service: 'reports',
      consumers: [],
      entities: [],
      jobs: { names: Object.values(REPORTS), consumers: jobConsumerDeclarations('reports') },
    }),
  ],
  providers: [ReportJobs],
})
class ReportsModule {}

/** The scheduler as a built process (real auth, its own provisioning) plus a reports worker in this process. */
export class AdminEnv extends ControlPlaneEnv {
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  worker?: INestApplication;
  readonly auth: Record<'admin' | 'tenant' | 'viewer' | 'other' | 'service', Record<string, string>> = {} as never;

  async boot(schedulerEnv: Record<string, string> = {}, workerEnv: Record<string, string> = {}): Promise<this> {
    await this.start({ API_RATE_LIMIT_BURST: '100000', API_RATE_LIMIT_PER_SECOND: '100000', ...schedulerEnv });
    this.nc = await connect({ servers: this.nats.url });
    this.jsm = await jetstreamManager(this.nc);
    await provision(this.jsm, STREAM_DECLARATIONS, [...jobConsumerDeclarations('reports'), ...jobConsumerDeclarations('ledger')], { replicas: 1, ackWaitMs: 30_000 });
    // ledger runs nowhere here; its declaration is in the catalog as its runtime would publish it.
    await announce(this.nats.url, [jobDeclaration('ledger', 'ledger-1', { name: LEDGER_EXPORT, priority: 'normal', maxAttempts: 3, timeoutMs: 60_000 }, {})]);
    Object.assign(process.env, {
      NATS_URLS: this.nats.url,
      DATABASE_URL: this.database.url,
      JWT_SECRET,
      // The failures below are on purpose.
      LOG_LEVEL: 'error',
      NATS_PROVISION_ON_START: 'false',
      SHUTDOWN_GRACE_MS: '2000',
      ...workerEnv,
    });
    this.worker = await NestFactory.create(ReportsModule, { logger: false });
    await this.worker.init();
    this.auth.admin = bearer(await token('system-admin'));
    this.auth.tenant = bearer(await token('tenant-admin', TENANT));
    this.auth.viewer = bearer(await token('viewer', TENANT));
    this.auth.other = bearer(await token('tenant-admin', OTHER));
    this.auth.service = apiKey(API_KEY);
    return this;
  }

  async shutdown(): Promise<void> {
    await this.worker?.close();
    await this.nc?.close();
    await this.stop();
  }

  /** A run as GET /api/v1/runs/{id} shows it to `auth`. */
  async run(id: string, auth = this.auth.admin): Promise<any> {
    const res = await this.call('GET', `/api/v1/runs/${id}`, { auth });
    return res.status === 200 ? res.json : null;
  }

  /** Audit entries of one action (newest first). */
  async audits(action: string): Promise<any[]> {
    const res = await this.call('GET', `/api/v1/audit?action=${encodeURIComponent(action)}&limit=100`, { auth: this.auth.admin });
    return res.json.items;
  }

  /** Waiting messages per JOBS subject. */
  async waiting(filter = 'jobs.>'): Promise<Record<string, number>> {
    const info = await this.jsm.streams.info('JOBS', { subjects_filter: filter });
    return info.state.subjects ?? {};
  }
}

/** A response is RFC 9457 problem+json with this status. */
export function expectProblem(res: { status: number; type: string; json: any; text: string }, status: number): void {
  if (res.status !== status || !res.type.startsWith('application/problem+json') || res.json?.status !== status || typeof res.json?.detail !== 'string') {
    throw new Error(`expected ${status} problem+json, got ${res.status} ${res.type}: ${res.text.slice(0, 300)}`);
  }
}
