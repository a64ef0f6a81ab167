import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import {
  Clock,
  consumerDeclaration,
  CONSUMERS,
  EventPublisher,
  EVENT_TYPES,
  JOB_NAMES,
  jobConsumerDeclarations,
  ManualClock,
  provision,
  STREAM_DECLARATIONS,
  STREAMS,
} from '../../../libs/common/src/index.js';
import { RecurrenceModule } from '../../../apps/recurrence/src/recurrence.module.js';
import { TEST_JWT_SECRET, tenantAuth } from '../../support/auth.js';
import { TestDatabase } from '../../support/database.js';
import { runState } from '../../support/runs.js';
import { startServiceApp } from '../../support/service-app.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { waitFor } from '../../support/wait.js';

/**
 * The recurrence service in-process against a private nats-server and a fresh
 * database. With a start time the clock is a hand-moved ManualClock; without
 * one it is the real clock (reminders, which wait for their instant).
 */
export class RecurrenceHarness {
  readonly nats = new TestNatsServer();
  readonly database = new TestDatabase();
  readonly clock?: ManualClock;
  app!: INestApplication;
  publisher!: EventPublisher;
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  baseUrl = '';
  private memberVersion = 1;

  /** `env` adds configuration keys (RECURRENCE_* caps and budgets) for this service. */
  constructor(start?: string, private readonly env: Record<string, string> = {}) {
    if (start) this.clock = new ManualClock(start);
  }

  async start(): Promise<this> {
    await Promise.all([this.nats.start(), this.database.create()]);
    this.nc = await connect({ servers: this.nats.url });
    this.jsm = await jetstreamManager(this.nc);
    const consumers = [...jobConsumerDeclarations('recurrence'), consumerDeclaration(CONSUMERS.recurrenceEvents)];
    await provision(this.jsm, STREAM_DECLARATIONS, consumers, { replicas: 1, ackWaitMs: 30_000 });
    Object.assign(process.env, {
      NATS_URLS: this.nats.url,
      DATABASE_URL: this.database.url,
      LOG_LEVEL: 'warn',
      NATS_PROVISION_ON_START: 'false',
      JWT_SECRET: TEST_JWT_SECRET,
      OUTBOX_RELAY: 'true',
      ...this.env,
    });
    let builder = Test.createTestingModule({ imports: [RecurrenceModule] });
    if (this.clock) builder = builder.overrideProvider(Clock).useValue(this.clock);
    ({ app: this.app, baseUrl: this.baseUrl } = await startServiceApp(builder));
    this.publisher = this.app.get(EventPublisher);
    return this;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.nc?.close();
    await this.nats.destroy();
    await this.database.drop();
  }

  async api<T = unknown>(method: string, path: string, companyId: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(await tenantAuth(companyId, 'tester')) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** Announces the tenant as the tenant registry does (a versioned tenant.upserted) and waits until recurrence holds that version. */
  async tenant(companyId: string, timezone: string, version = 1): Promise<void> {
    await this.publisher.publishEvent(EVENT_TYPES.tenantUpserted, companyId, { companyId, timezone, locale: 'en', active: true, paused: false, version }, { id: `tenant:${companyId}:v${version}` });
    await waitFor(async () => {
      const rows = await this.database.query<{ version: string }>('SELECT version FROM recurrence_tenants WHERE company_id = $1', [companyId]);
      return rows.length === 1 && Number(rows[0].version) >= version;
    }, { what: `tenant ${companyId} v${version} in recurrence` });
  }

  async member(companyId: string, userId: string, roles: string[]): Promise<void> {
    const version = this.memberVersion++;
    await this.publisher.publishEvent(EVENT_TYPES.memberUpserted, companyId, { companyId, userId, roles, version });
    await waitFor(async () => {
      const rows = await this.database.query('SELECT 1 FROM recurrence_members WHERE company_id=$1 AND user_id=$2 AND event_order >= $3', [companyId, userId, version]);
      return rows.length === 1;
    }, { what: `member ${userId}` });
  }

  /** Runs recurrence.generate through JetStream and the job runtime; resolves when the run succeeded. */
  async generate(companyId: string, horizonDays?: number): Promise<void> {
    await this.runJob(JOB_NAMES.recurrenceGenerate, companyId, horizonDays ? { companyId, horizonDays } : {});
  }

  /** Publishes one run of a recurrence job for a tenant; resolves with its result once its history says it succeeded. */
  async runJob(job: string, companyId: string, payload: Record<string, unknown> = {}): Promise<{ recordsProcessed?: number; message?: string }> {
    const runId = randomUUID();
    await this.publisher.publishJob(job, { runId, companyId, payload, scheduledFor: new Date().toISOString() }, { runId, companyId });
    const run = await this.waitForRun(runId, 'succeeded', job);
    return run.result ?? {};
  }

  /** Waits until the run's history (its latest attempt, else its planned row) is in a state; returns it. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async waitForRun(runId: string, state: string, what = 'run'): Promise<Record<string, any>> {
    let seen = 'no attempt and no planned row';
    return (await waitFor(async () => {
      const run = await runState(this.database, runId);
      if (run) seen = JSON.stringify(run);
      return run?.state === state ? run : undefined;
    }, { what: `${what} ${runId} ${state}` }).catch((e: Error) => {
      throw new Error(`${e.message}; run: ${seen}`);
    }))!;
  }

  /** How many messages the EVENTS stream holds on a subject (JetStream dedup applied). */
  async stored(subject: string): Promise<number> {
    const info = await this.jsm.streams.info(STREAMS.EVENTS, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  instances(companyId: string) {
    return this.database.query<{ id: string; occurrence_at: Date; title: string; assignee_user_id: string | null; status: string; template_revision: number }>(
      'SELECT * FROM task_instances WHERE company_id = $1 ORDER BY occurrence_at',
      [companyId],
    );
  }
}
