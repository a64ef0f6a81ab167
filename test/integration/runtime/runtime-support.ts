import 'reflect-metadata';
import { Inject, Injectable, Module, type DynamicModule, type INestApplication, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { expect } from '@jest/globals';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import {
  createCloudEvent,
  encodeCloudEvent,
  HEADERS,
  JobHandler,
  jobConsumerDeclarations,
  MetronomeMetrics,
  MetronomeServiceModule,
  PermanentError,
  SnoozeError,
  provision,
  STREAM_DECLARATIONS,
  subjects,
  type ConsumerDeclaration,
  type JobContext,
  type Priority,
  type RunResult,
} from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { runState } from '../../support/runs.js';
import { sleep, waitFor } from '../../support/wait.js';

export const SERVICE = 'rt';
export const JOB = {
  work: 'rt.work',
  slow: 'rt.slow',
  hold: 'rt.hold',
  fragile: 'rt.fragile',
  flaky: 'rt.flaky',
} as const;
export const ALL_JOBS = Object.values(JOB);

export interface WorkPayload {
  sleepMs?: number;
  label?: string;
  /** rt.slow: attempts that overrun the timeout before one finishes in time. */
  overrunAttempts?: number;
}

export const WORKER = Symbol('WORKER');
/** rt.fragile fails permanently until healed (the DLQ round trip). */
export const healed = new Set<string>();
/** rt.flaky runs labelled `snooze-…` snooze once (300 ms) instead of failing. */
const snoozed = new Set<string>();

/** Resolves after ms, or rejects with the signal's reason when it aborts first. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** An ISO timestamp with microseconds (Date keeps milliseconds; timestamptz keeps microseconds). */
function microsecondTimestamp(epochMs: number): string {
  const whole = Math.floor(epochMs);
  const micros = Math.floor((epochMs - whole) * 1000);
  return new Date(whole).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
}

/** Handlers of the test service: every start, end and abort goes to rt_log, stamped by the handler. */
@Injectable()
export class ProbeHandlers {
  constructor(private readonly ds: DataSource, @Inject(WORKER) private readonly worker: string) {}

  /**
   * Stamped with the handler's clock when the event happens, to the microsecond: the database's clock at insert
   * adds the pool's latency, which on a loaded host differed by 40 ms between a run's first insert and its next.
   */
  private async log(ctx: JobContext<WorkPayload>, kind: string, note?: string): Promise<void> {
    const at = microsecondTimestamp(performance.timeOrigin + performance.now());
    await this.ds.query('INSERT INTO rt_log (run_id, job, tenant, kind, attempt, worker, label, note, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)', [
      ctx.runId, ctx.job, ctx.companyId ?? null, kind, ctx.attempt, this.worker, ctx.payload?.label ?? null, note ?? null, at,
    ]);
  }

  @JobHandler(JOB.work, { timeoutMs: 30_000 })
  async work(ctx: JobContext<WorkPayload>): Promise<RunResult> {
    await this.log(ctx, 'start');
    if (ctx.payload?.sleepMs) await sleepUnlessAborted(ctx.payload.sleepMs, ctx.signal);
    await this.log(ctx, 'end');
    return { status: 'success', recordsProcessed: 1 };
  }

  @JobHandler(JOB.slow, { timeoutMs: 400, maxAttempts: 3, backoff: { kind: 'fixed', baseMs: 300, capMs: 300, jitter: 0 } })
  async slow(ctx: JobContext<WorkPayload>): Promise<RunResult> {
    await this.log(ctx, 'start');
    await ctx.progress(10, 'begun');
    const overrun = ctx.attempt <= (ctx.payload?.overrunAttempts ?? 0);
    try {
      await sleepUnlessAborted(overrun ? 10_000 : (ctx.payload?.sleepMs ?? 10), ctx.signal);
    } catch (e) {
      await this.log(ctx, 'aborted', (e as Error).name);
      throw e;
    }
    await this.log(ctx, 'end');
    return { status: 'partial', recordsProcessed: 7, message: 'seven of eight' };
  }

  /** Reports progress, then waits (for its signal) as long as the payload says. */
  @JobHandler(JOB.hold, { timeoutMs: 60_000 })
  async hold(ctx: JobContext<WorkPayload>): Promise<RunResult> {
    await this.log(ctx, 'start');
    await ctx.progress(40, 'holding');
    try {
      await sleepUnlessAborted(ctx.payload?.sleepMs ?? 30_000, ctx.signal);
    } catch (e) {
      await this.log(ctx, 'aborted', (e as Error).name);
      throw e;
    }
    await this.log(ctx, 'end');
    return { status: 'success' };
  }

  /** Fails its first attempt (a transient error), succeeds on the next; labelled `snooze-…`, snoozes once instead. */
  @JobHandler(JOB.flaky, { maxAttempts: 3, backoff: { kind: 'fixed', baseMs: 200, capMs: 200, jitter: 0 } })
  async flaky(ctx: JobContext<WorkPayload>): Promise<void> {
    await this.log(ctx, 'start');
    if (ctx.payload?.label?.startsWith('snooze-')) {
      if (!snoozed.has(ctx.runId)) {
        snoozed.add(ctx.runId);
        throw new SnoozeError(300);
      }
    } else if (ctx.attempt === 1) throw new Error('transient: try again');
    await this.log(ctx, 'end');
  }

  @JobHandler(JOB.fragile, { maxAttempts: 3 })
  async fragile(ctx: JobContext<WorkPayload>): Promise<void> {
    await this.log(ctx, 'start');
    if (!healed.has(ctx.payload?.label ?? '')) throw new PermanentError(`upstream rejected ${ctx.payload?.label}`);
    await this.log(ctx, 'end');
  }
}

export interface AppOptions {
  worker?: string;
  concurrency?: number;
  env?: Record<string, string>;
  names?: string[];
  providers?: Provider[];
  imports?: (Type | DynamicModule)[];
}

@Module({})
class RuntimeTestModule {}

/** A private nats-server and database, the test service's consumers, and Nest apps running the job runtime. */
export class RuntimeHarness {
  readonly nats = new TestNatsServer();
  readonly database = new TestDatabase();
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  js!: JetStreamClient;
  readonly apps: INestApplication[] = [];
  readonly consumers: ConsumerDeclaration[];

  constructor(readonly options: { ackWaitMs?: number } = {}) {
    this.consumers = jobConsumerDeclarations(SERVICE, { ackWaitMs: options.ackWaitMs });
  }

  async start(): Promise<this> {
    await Promise.all([this.nats.start(), this.database.create()]);
    await this.database.query(`CREATE TABLE rt_log (run_id text, job text, tenant text, kind text, attempt int, worker text, label text, note text,
      at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    this.nc = await connect({ servers: this.nats.url });
    this.jsm = await jetstreamManager(this.nc);
    this.js = jetstream(this.nc);
    await provision(this.jsm, STREAM_DECLARATIONS, this.consumers, { replicas: 1, ackWaitMs: this.options.ackWaitMs ?? 30_000 });
    return this;
  }

  async app(options: AppOptions = {}): Promise<INestApplication> {
    Object.assign(process.env, {
      NATS_URLS: this.nats.url,
      DATABASE_URL: this.database.url,
      LOG_LEVEL: process.env.RT_LOG_LEVEL ?? 'warn',
      NATS_PROVISION_ON_START: 'false',
      SHUTDOWN_GRACE_MS: '2000',
      JOB_TENANT_BUFFER: '256',
      JOB_TENANT_CONCURRENCY: '0',
      JOB_PAUSED_RECHECK_MS: '500',
      ...(options.env ?? {}),
    });
    const module: DynamicModule = {
      module: RuntimeTestModule,
      imports: [
        MetronomeServiceModule.forService({
          service: SERVICE,
          consumers: [],
          entities: [],
          jobs: { names: options.names ?? ALL_JOBS, consumers: this.consumers, concurrency: options.concurrency ?? 4 },
        }),
        ...(options.imports ?? []),
      ],
      providers: [{ provide: WORKER, useValue: options.worker ?? 'w1' }, ...(options.providers ?? [ProbeHandlers])],
    };
    const app = await NestFactory.create(module, { logger: false });
    await app.init();
    this.apps.push(app);
    return app;
  }

  /**
   * Publishes a job message straight to JetStream, as JobEnqueuer does for a job due now; `planned` sends it
   * as the outbox relay does for a run with a job_runs row (a JobMessage marked planned).
   */
  async publish(job: string, payload: WorkPayload, options: { runId: string; priority?: Priority; companyId?: string; scheduledFor?: Date; planned?: boolean }): Promise<void> {
    const data = options.planned
      ? { runId: options.runId, payload, scheduledFor: (options.scheduledFor ?? new Date()).toISOString(), planned: true, ...(options.companyId ? { companyId: options.companyId } : {}) }
      : payload;
    const event = createCloudEvent({ type: job, source: 'test', data, companyId: options.companyId, id: options.runId });
    const h = natsHeaders();
    if (options.companyId) h.set(HEADERS.companyId, options.companyId);
    if (options.scheduledFor) h.set(HEADERS.scheduledFor, options.scheduledFor.toISOString());
    await this.js.publish(subjects.job(options.priority ?? 'normal', job), encodeCloudEvent(event), { msgID: options.runId, headers: h });
  }

  /** Publishes many with a window of acks in flight. */
  async publishMany(items: { job: string; payload: WorkPayload; runId: string; priority?: Priority; companyId?: string }[], window = 2_000): Promise<void> {
    for (let i = 0; i < items.length; i += window) {
      await Promise.all(items.slice(i, i + window).map((m) => this.publish(m.job, m.payload, m)));
    }
  }

  log(where = 'true', params: unknown[] = []) {
    return this.database.query<{ run_id: string; job: string; tenant: string; kind: string; attempt: number; worker: string; label: string; note: string; at: Date }>(
      `SELECT * FROM rt_log WHERE ${where} ORDER BY at, kind`,
      params,
    );
  }

  /** The run as its history tells it: its latest attempt (state = outcome, attempts = attempt number), or its planned row. */
  run(id: string) {
    return runState(this.database, id);
  }

  attempts(id: string) {
    return this.database.query<Record<string, any>>('SELECT * FROM job_attempts WHERE run_id = $1 ORDER BY attempt, finished_at', [id]);
  }

  async stop(): Promise<void> {
    for (const app of this.apps.reverse()) await app.close().catch(() => undefined);
    await this.nc?.close().catch(() => undefined);
    await this.nats.destroy();
    await this.database.drop();
  }
}

/** Deferrals of a job this app counted (metronome_job_deferrals_total), for one reason. */
export async function deferralsOf(app: INestApplication, job: string, reason: string): Promise<number> {
  const metric = await app.get(MetronomeMetrics).registry.getSingleMetric('metronome_job_deferrals_total')!.get();
  return metric.values.filter((v) => v.labels.reason === reason && v.labels.job === job).reduce((n, v) => n + v.value, 0);
}

export interface FairnessFigures {
  backlog: number;
  publishMs: number;
  readMs: number;
  /** How long each other tenant's single job waited to start. */
  waits: number[];
  /** Tenant A's starts per second while the others were served. */
  aRate: number;
  /** Tenant A's runs checked for attempts, of which at least `deferredChecked` had been deferred first. */
  aChecked: number;
  deferredChecked: number;
}

/**
 * Tenant fairness under a backlog: tenant A publishes `backlog` jobs of `handlerMs` to one worker with 4 slots and a
 * tenant buffer of `tenantBuffer` (so it holds that many of A's and hands the rest back to the stream); once the
 * worker has read the whole backlog, five other tenants each publish one job, in turn. Each must start within about
 * one handler duration (FIFO would make it wait for the whole backlog), A keeps its slots, and A's runs that were
 * deferred (handed back without an attempt) and ran later were never charged an attempt.
 */
export async function tenantFairness(h: RuntimeHarness, o: { backlog: number; handlerMs: number; tenantBuffer: number; readTimeoutMs: number }): Promise<FairnessFigures> {
  const SLOTS = 4;
  const { backlog, handlerMs } = o;
  const app = await h.app({ concurrency: SLOTS, env: { JOB_TENANT_BUFFER: String(o.tenantBuffer) } });
  const startsOfA = async () => Number((await h.database.query<{ n: string }>(`SELECT count(*) n FROM rt_log WHERE kind = 'start' AND tenant = 'tenant-a'`))[0].n);
  // Tenant A floods the queue while the worker runs (as it would in production): every slot busy with tenant-a.
  const t0 = Date.now();
  await h.publishMany(Array.from({ length: backlog }, (_, i) => ({ job: JOB.work, payload: { sleepMs: handlerMs, label: 'flood' }, runId: `a-${i}`, companyId: 'tenant-a' })));
  const publishMs = Date.now() - t0;
  await waitFor(async () => (await startsOfA()) >= SLOTS, { what: 'tenant-a running', timeoutMs: 30_000 });
  // The worker reads the whole backlog (holding tenantBuffer of A's, deferring the rest) before the others arrive.
  await waitFor(async () => (await h.jsm.consumers.info('JOBS', 'rt-jobs-normal')).num_pending === 0, { what: 'the backlog to be read', timeoutMs: o.readTimeoutMs, intervalMs: 200 });
  const readMs = Date.now() - t0;
  const deferred = await deferralsOf(app, JOB.work, 'tenant_full');
  const startedAtRead = await startsOfA();
  // Every message was delivered once by now: at most tenantBuffer wait in memory, those started ran (a few start
  // rows may still be in flight, and one message per pull loop waits for room), the rest were handed back.
  const admittedAtMost = o.tenantBuffer + startedAtRead + SLOTS + 4;
  expect(deferred).toBeGreaterThanOrEqual(backlog - admittedAtMost);

  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const tenant = `tenant-b${i}`;
    const sent = Date.now();
    await h.publish(JOB.work, { sleepMs: handlerMs, label: 'single' }, { runId: `b-${i}`, companyId: tenant });
    const start = await waitFor(async () => (await h.log(`kind = 'start' AND run_id = $1`, [`b-${i}`]))[0], { what: `${tenant}'s job to start`, timeoutMs: 30_000 });
    waits.push(start.at.getTime() - sent);
    await waitFor(async () => (await h.log(`kind = 'end' AND run_id = $1`, [`b-${i}`]))[0], { what: `${tenant}'s job to end` });
  }
  const sorted = [...waits].sort((x, y) => x - y);
  const info = await h.jsm.consumers.info('JOBS', 'rt-jobs-normal');
  console.log(`fairness: ${backlog} tenant-a jobs published in ${publishMs} ms, read after ${readMs} ms (${deferred} deferrals by then, ` +
    `${startedAtRead} started); other tenants' single jobs started after ${waits.join(', ')} ms; consumer now ${info.num_pending} undelivered, ${info.num_ack_pending} held or deferred`);
  // In FIFO order it would wait for the whole backlog (backlog x handlerMs / 4 slots). Typically a slot frees within
  // one handler duration; the worst of five also carries the host's scheduling noise (424 ms once on a loaded 2-CPU
  // CI machine), so it gets more room than the median.
  expect(sorted[2]).toBeLessThanOrEqual(handlerMs * 2);
  expect(sorted[4]).toBeLessThanOrEqual(handlerMs * 5);

  // The flooding tenant keeps its slots: count its starts over 4 s after the others are served.
  const before = await startsOfA();
  await sleep(4_000);
  const aRate = ((await startsOfA()) - before) / 4;
  expect(aRate).toBeGreaterThanOrEqual(4); // 4 slots x 1000/handlerMs at most; measured 11/s on the loaded test machine
  const others = await waitFor(async () => {
    const rows = await h.database.query<{ outcome: string; attempt: number }>(`SELECT outcome, attempt FROM job_attempts WHERE run_id LIKE 'b-%'`);
    return rows.length >= 5 ? rows : undefined;
  }, { what: 'the other tenants\' outcomes' });
  expect(others).toEqual(Array.from({ length: 5 }, () => ({ outcome: 'succeeded', attempt: 1 })));

  // Deferred runs of A were never charged an attempt: wait until runs beyond those admitted on the first read (so
  // ones that had been handed back) have finished, then every attempt of A in the history is a first, succeeded one.
  const deferredChecked = 10;
  const recordedOfA = async () => Number((await h.database.query<{ n: string }>(`SELECT count(*) n FROM job_attempts WHERE company_id = 'tenant-a'`))[0].n);
  await waitFor(async () => (await recordedOfA()) >= admittedAtMost + deferredChecked, { what: 'deferred tenant-a runs to run', timeoutMs: 60_000, intervalMs: 200 });
  const charged = await h.database.query<{ outcome: string; attempt: number; n: number }>(
    `SELECT outcome, attempt, count(*)::int n FROM job_attempts WHERE company_id = 'tenant-a' GROUP BY outcome, attempt`,
  );
  expect(charged).toEqual([{ outcome: 'succeeded', attempt: 1, n: expect.any(Number) }]);
  return { backlog, publishMs, readMs, waits, aRate, aChecked: charged[0].n, deferredChecked: charged[0].n - admittedAtMost };
}
