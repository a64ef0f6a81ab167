import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SchedulerModule } from '../../../apps/scheduler/src/scheduler.module.js';
import { FiringService } from '../../../apps/scheduler/src/firing/firing.service.js';
import { SchedulesService } from '../../../apps/scheduler/src/schedules/schedules.service.js';
import { TenantsService } from '../../../apps/scheduler/src/tenants/tenants.service.js';
import { Clock, connectJetStream, OutboxRelay, provision, STREAM_DECLARATIONS, CONSUMER_DECLARATIONS, type ManualClock } from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { TestNatsServer } from '../../support/nats-server.js';

/** A scheduler running in the test process on a clock the test moves. */
export class InProcessScheduler {
  app?: INestApplication;

  constructor(private readonly clock: ManualClock) {}

  async start(): Promise<this> {
    const moduleRef = await Test.createTestingModule({ imports: [SchedulerModule] }).overrideProvider(Clock).useValue(this.clock).compile();
    this.app = moduleRef.createNestApplication({ logger: false });
    await connectJetStream(this.app);
    await this.app.init();
    return this;
  }

  get schedules(): SchedulesService {
    return this.app!.get(SchedulesService);
  }

  get tenants(): TenantsService {
    return this.app!.get(TenantsService);
  }

  get firing(): FiringService {
    return this.app!.get(FiringService);
  }

  /** Claims whatever is due at the clock's time and waits for the publishes. */
  async claim(): Promise<number> {
    const n = await this.firing.claimDue();
    await this.firing.settled();
    return n;
  }

  async relay(): Promise<number> {
    return this.app!.get(OutboxRelay).relayOnce();
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }
}

/** A private nats-server and database with streams and consumers provisioned; sets the env the scheduler reads. */
export class SchedulerTestEnv {
  readonly nats = new TestNatsServer();
  readonly database = new TestDatabase();
  nc!: NatsConnection;
  jsm!: JetStreamManager;

  async start(extraEnv: Record<string, string> = {}): Promise<this> {
    await Promise.all([this.nats.start(), this.database.create()]);
    this.nc = await connect({ servers: this.nats.url });
    this.jsm = await jetstreamManager(this.nc);
    await provision(this.jsm, STREAM_DECLARATIONS, CONSUMER_DECLARATIONS, { replicas: 1, ackWaitMs: 30_000 });
    Object.assign(process.env, {
      NATS_URLS: this.nats.url,
      DATABASE_URL: this.database.url,
      LOG_LEVEL: 'warn',
      NATS_PROVISION_ON_START: 'false',
      SCHEDULER_POLL_MS: '50',
      TICK_INTERVAL_MS: '3600000',
      ...extraEnv,
    });
    return this;
  }

  get env(): Record<string, string> {
    return { NATS_URLS: this.nats.url, DATABASE_URL: this.database.url };
  }

  /** Runs of one schedule: occurrence instants in order. */
  async runs(scheduleId: string): Promise<{ id: string; occurrence_at: Date; company_id: string | null; state: string; scheduled_for: Date }[]> {
    return this.database.query(
      'SELECT id, occurrence_at, company_id, state, scheduled_for FROM job_runs WHERE schedule_id = $1 ORDER BY occurrence_at, company_id',
      [scheduleId],
    );
  }

  /**
   * Job messages stored in JOBS on a subject, oldest first, read by direct get
   * (JOBS is a work-queue stream: it refuses a consumer overlapping the workers'
   * own, and a stream read leaves the messages where they are).
   */
  async messages(subject: string): Promise<{ id: string; data: { runId: string; scheduledFor: string; companyId?: string; scheduleId?: string; payload?: unknown } }[]> {
    const info = await this.jsm.streams.info('JOBS');
    const out: { id: string; data: { runId: string; scheduledFor: string } }[] = [];
    let seq = Math.max(1, info.state.first_seq);
    while (info.state.messages > 0 && seq <= info.state.last_seq) {
      const m = await this.jsm.direct.getMessage('JOBS', { seq, next_by_subj: subject });
      if (!m || m.seq > info.state.last_seq) break;
      out.push(m.json());
      seq = m.seq + 1;
    }
    return out as never;
  }

  async stop(): Promise<void> {
    await this.nc?.close();
    await this.nats.destroy();
    await this.database.drop();
  }
}

export const SCHEDULER_ENTRY = 'apps/scheduler/src/main.js';

/** Inserts a schedule row as SchedulesService.create would (for tests driving scheduler processes). */
export async function insertSchedule(
  database: TestDatabase,
  s: { name: string; kind: 'interval' | 'cron' | 'once'; job: string; intervalMs?: number; cron?: string; runAt?: Date; nextFireAt: Date; startsAt?: Date },
): Promise<string> {
  const rows = await database.query<{ id: string }>(
    `INSERT INTO schedules (id, name, kind, job, interval_ms, cron, run_at, starts_at, next_fire_at, timezone)
     VALUES (gen_random_uuid()::text, $1, $2, $3, $4, $5, $6, $7, $8, 'UTC') RETURNING id`,
    [s.name, s.kind, s.job, s.intervalMs ?? null, s.cron ?? null, s.runAt ?? null, s.startsAt ?? null, s.nextFireAt],
  );
  return rows[0].id;
}
