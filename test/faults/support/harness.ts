import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCloudEvent,
  packMessage,
  encodeCloudEvent,
  jobConsumerDeclarations,
  provision,
  STREAM_DECLARATIONS,
  subjects,
  type JobMessage,
} from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { runState } from '../../support/runs.js';
import { ROOT, ServiceProcess } from '../../support/service-process.js';
import { sleep, waitFor } from '../../support/wait.js';

export const FAULT_WORKER_ENTRY = 'test/fixtures/fault-worker.js';
export const FAULT_SERVICE = 'faults';
export const FAULT_JOB = 'faults.work';

export interface FaultPayload {
  key: string;
  killAfterEffect?: boolean;
  killAfterAck?: boolean;
  killBeforeAck?: boolean;
  releaseAt?: number;
  busyMs?: number;
  holdMs?: number;
  sleepMs?: number;
  txHoldMs?: number;
  killAtStart?: boolean;
  failFirst?: boolean;
}

export interface LogRow {
  run_id: string;
  key: string;
  kind: 'start' | 'in-tx' | 'effect' | 'return' | 'settled';
  attempt: number;
  worker: string;
  applied: boolean | null;
  pid: number | null;
  at: Date;
}

/** One row of job_attempts, as the fault suite reads it. */
export interface AttemptRow {
  run_id: string;
  attempt: number;
  outcome: string;
  final: boolean;
  worker: string;
  result: { data?: { worker?: string; attempt?: number; applied?: boolean } } | null;
  finished_at: Date;
}

export interface Reconciliation {
  expected: number;
  /** Jobs whose effect row is missing or that have no `succeeded` attempt in job_attempts (the outcome never reached history). */
  lost: string[];
  /** Jobs whose effect was applied by more than one execution. */
  duplicated: string[];
  /** Handler executions that reached the effect (redeliveries included). */
  executions: number;
  /** Runs by their latest attempt's outcome (`none`: no attempt in history). */
  states: Record<string, number>;
  /** Attempt rows by outcome, over all the jobs (a redelivery after a crash shows as `lost` + a later attempt). */
  attempts: Record<string, number>;
  /** Runs with more than one `succeeded` attempt row (a stale attempt that finished after the winner): history, not effects. */
  succeededTwice: string[];
}

/** A private nats-server and database, the fault service's job consumers provisioned, and fault-worker processes. */
export class FaultEnv {
  readonly nats = new TestNatsServer();
  readonly database = new TestDatabase();
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  js!: JetStreamClient;
  readonly workers: ServiceProcess[] = [];
  /** JOBS stream sequence of every job this env published, by run id. */
  readonly seqs = new Map<string, number>();
  private n = 0;

  constructor(readonly ackWaitMs = 30_000) {}

  async start(): Promise<this> {
    await Promise.all([this.nats.start(), this.database.create()]);
    await this.database.query(`CREATE TABLE fault_effects (key text PRIMARY KEY, run_id text NOT NULL, worker text NOT NULL, attempt int NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await this.database.query(`CREATE TABLE fault_log (run_id text, key text, kind text, attempt int, worker text, applied boolean, pid int,
      at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await this.connect();
    await provision(this.jsm, STREAM_DECLARATIONS, jobConsumerDeclarations(FAULT_SERVICE, { ackWaitMs: this.ackWaitMs }), { replicas: 1, ackWaitMs: this.ackWaitMs });
    return this;
  }

  /** (Re)connects the test's own client; it reconnects by itself across a server restart. */
  async connect(): Promise<void> {
    this.nc = await connect({ servers: this.nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    this.jsm = await jetstreamManager(this.nc);
    this.js = jetstream(this.nc);
  }

  /** Starts a fault worker process and waits until its job runtime pulls. */
  async worker(env: Record<string, string> = {}, wait = true): Promise<ServiceProcess> {
    const p = new ServiceProcess(FAULT_WORKER_ENTRY, {
      NATS_URLS: this.nats.url,
      DATABASE_URL: this.database.url,
      NATS_PROVISION_ON_START: 'false',
      FAULT_ACK_WAIT_MS: String(this.ackWaitMs),
      INSTANCE_ID: `w${++this.n}`,
      SHUTDOWN_GRACE_MS: '5000',
      LOG_LEVEL: 'info',
      ...env,
    }).start();
    this.workers.push(p);
    if (wait) await p.waitForLog('job runtime started', 60_000);
    return p;
  }

  /** Publishes one job as the relay would (JobMessage, Nats-Msg-Id = run id); retries while NATS is away. */
  async publish(payload: FaultPayload, options: { runId?: string; companyId?: string; retryForMs?: number; maxAttempts?: number } = {}): Promise<string> {
    const runId = options.runId ?? randomUUID();
    const message: JobMessage<FaultPayload> = { runId, payload, scheduledFor: new Date().toISOString(), ...(options.companyId ? { companyId: options.companyId } : {}), ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}) };
    const event = createCloudEvent({ type: FAULT_JOB, source: 'faults-test', id: runId, data: message, companyId: options.companyId });
    const deadline = Date.now() + (options.retryForMs ?? 0);
    for (;;) {
      try {
        const ack = await this.js.publish(subjects.job('normal', FAULT_JOB), encodeCloudEvent(event), { msgID: runId, timeout: 2_000 });
        this.seqs.set(runId, ack.seq);
        return runId;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(200);
      }
    }
  }

  log(where = 'true', params: unknown[] = []): Promise<LogRow[]> {
    return this.database.query<LogRow & Record<string, unknown>>(`SELECT * FROM fault_log WHERE ${where} ORDER BY at`, params);
  }

  /** The run as its history tells it (test/support/runs.ts): its latest attempt (state = outcome, attempts = attempt number), else its planned row. */
  run(id: string) {
    return runState(this.database, id);
  }

  /** Every attempt row of a run, in attempt order. */
  attempts(runId: string): Promise<AttemptRow[]> {
    return this.database.query<AttemptRow & Record<string, unknown>>(
      'SELECT run_id, attempt, outcome, final, worker, result, finished_at FROM job_attempts WHERE run_id = $1 ORDER BY attempt, finished_at',
      [runId],
    );
  }

  /** Is the job's message still stored in JOBS (a work-queue stream: an acked message is removed)? */
  /**
   * Publishes jobs as one pack message (job-pack.ts), as a producer with JOB_PACK_MAX does; returns each job's run
   * id by key (every job's stream sequence is the pack's).
   */
  async publishPack(payloads: FaultPayload[]): Promise<Map<string, string>> {
    const jobs = new Map<string, string>();
    const events = payloads.map((payload) => {
      const runId = randomUUID();
      jobs.set(payload.key, runId);
      const message: JobMessage<FaultPayload> = { runId, payload, scheduledFor: new Date().toISOString() };
      return createCloudEvent({ type: FAULT_JOB, source: 'faults-test', id: runId, data: message });
    });
    const pack = packMessage(subjects.job('normal', FAULT_JOB), events.map(encodeCloudEvent), events);
    const ack = await this.js.publish(pack.subject, pack.data, { headers: pack.headers, msgID: pack.headers!.get('Nats-Msg-Id'), timeout: 2_000 });
    for (const runId of jobs.values()) this.seqs.set(runId, ack.seq);
    return jobs;
  }

  async inStream(runId: string): Promise<boolean> {
    const seq = this.seqs.get(runId);
    if (seq === undefined) throw new Error(`no stream sequence known for ${runId}`);
    return (await this.jsm.streams.getMessage('JOBS', { seq })) !== null;
  }

  async effects(key: string): Promise<number> {
    return Number((await this.database.query<{ n: string }>('SELECT count(*) n FROM fault_effects WHERE key = $1', [key]))[0].n);
  }

  /**
   * Counts every job by key: lost unless its effect row exists and its run has
   * a `succeeded` attempt in job_attempts; duplicated when more than one
   * execution applied its effect.
   */
  async reconcile(jobs: Map<string, string>): Promise<Reconciliation> {
    const effects = new Set((await this.database.query<{ key: string }>('SELECT key FROM fault_effects')).map((r) => r.key));
    const applied = new Map((await this.database.query<{ key: string; n: string }>(`SELECT key, count(*) n FROM fault_log WHERE kind = 'effect' AND applied GROUP BY key`)).map((r) => [r.key, Number(r.n)]));
    const executions = Number((await this.database.query<{ n: string }>(`SELECT count(*) n FROM fault_log WHERE kind = 'effect' AND key = ANY($1)`, [[...jobs.keys()]]))[0].n);
    const rows = await this.database.query<{ run_id: string; outcome: string; attempt: number; final: boolean }>(
      'SELECT run_id, outcome, attempt, final FROM job_attempts WHERE run_id = ANY($1) ORDER BY run_id, attempt, final, finished_at',
      [[...jobs.values()]],
    );
    const succeeded = new Map<string, number>();
    const latest = new Map<string, string>();
    const attempts: Record<string, number> = {};
    for (const r of rows) {
      attempts[r.outcome] = (attempts[r.outcome] ?? 0) + 1;
      if (r.outcome === 'succeeded') succeeded.set(r.run_id, (succeeded.get(r.run_id) ?? 0) + 1);
      // Rows come in (attempt, final, finished_at) order: the last one per run is its latest, as runState reads it.
      latest.set(r.run_id, r.outcome);
    }
    const states: Record<string, number> = {};
    const lost: string[] = [];
    const duplicated: string[] = [];
    const succeededTwice: string[] = [];
    for (const [key, runId] of jobs) {
      const s = latest.get(runId) ?? 'none';
      states[s] = (states[s] ?? 0) + 1;
      if (!effects.has(key) || !succeeded.has(runId)) lost.push(key);
      if ((applied.get(key) ?? 0) > 1) duplicated.push(key);
      if ((succeeded.get(runId) ?? 0) > 1) succeededTwice.push(key);
    }
    return { expected: jobs.size, lost, duplicated, executions, states, attempts, succeededTwice };
  }

  /** Waits until every job's run has a succeeded attempt in history (or the timeout), then reconciles. */
  async settle(jobs: Map<string, string>, timeoutMs = 60_000): Promise<Reconciliation> {
    await waitFor(async () => {
      const r = await this.database.query<{ n: string }>(`SELECT count(DISTINCT run_id) n FROM job_attempts WHERE run_id = ANY($1) AND outcome = 'succeeded'`, [[...jobs.values()]]);
      return Number(r[0].n) === jobs.size;
    }, { timeoutMs, intervalMs: 200, what: `${jobs.size} runs succeeded` }).catch(() => undefined);
    return this.reconcile(jobs);
  }

  /** Stops (SIGTERM, graceful) every worker still running, between scenarios of one file. */
  async stopWorkers(): Promise<void> {
    for (const w of this.workers) {
      if (w.exitCode === null && w.exitSignal === null) await w.stop();
    }
  }

  async stop(): Promise<void> {
    for (const p of this.workers) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
      await p.exited;
    }
    // Every worker's output, for reading a failure afterwards (test/results/fault-logs, ignored by git).
    const dir = join(ROOT, 'test', 'results', 'fault-logs');
    mkdirSync(dir, { recursive: true });
    this.workers.forEach((p, i) => writeFileSync(join(dir, `${this.database.name}-w${i + 1}.log`), p.text));
    await this.nc?.close().catch(() => undefined);
    await this.nats.destroy();
    await this.database.drop();
  }
}
