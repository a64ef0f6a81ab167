import 'reflect-metadata';
import { Injectable, Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, Interval } from '@nestjs/schedule';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  jobConsumerDeclarations,
  MetronomeJob,
  MetronomeScheduleModule,
  MetronomeScheduler,
  MetronomeSchedulerRegistry,
  MetronomeServiceModule,
  provision,
  STREAM_DECLARATIONS,
  type ScheduledJobContext,
} from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { waitFor } from '../../support/wait.js';

/**
 * MetronomeScheduleModule in app instances of one service (no scheduler: the
 * stored schedules are what is checked, and triggered runs go straight to the
 * job runtime): idempotent registration, retirement of a renamed method, the
 * SchedulerRegistry-style control, the facade, and refusals at start.
 */
const SERVICE = 'billing';

@Injectable()
class BillingV1 {
  @Cron('0 * * * *', { name: 'hourly-invoices' })
  @MetronomeJob({ maxAttempts: 2, priority: 'high' })
  async hourly(ctx?: ScheduledJobContext<{ note?: string }>): Promise<void> {
    if (!ctx) return;
    await ctx.db.query('INSERT INTO billing_log (run_id, job, note, attempt) VALUES ($1, $2, $3, $4)', [ctx.jobId, ctx.jobName, ctx.data?.note ?? null, ctx.attempt]);
  }

  @Interval('old-sync', 60_000)
  oldSync(): void {}
}

/** The next version: oldSync renamed to newSync, hourly unchanged. */
@Injectable()
class BillingV2 {
  @Cron('0 * * * *', { name: 'hourly-invoices' })
  @MetronomeJob({ maxAttempts: 2, priority: 'high' })
  async hourly(ctx?: ScheduledJobContext<{ note?: string }>): Promise<void> {
    if (!ctx) return;
    await ctx.db.query('INSERT INTO billing_log (run_id, job, note, attempt) VALUES ($1, $2, $3, $4)', [ctx.jobId, ctx.jobName, ctx.data?.note ?? null, ctx.attempt]);
  }

  @Interval('new-sync', 60_000)
  newSync(): void {}
}

@Injectable()
class Ambiguous {
  @Cron('0 9 * * *', { utcOffset: 2 })
  morning(): void {}

  @Interval(250)
  tooFast(): void {}
}

@Module({})
class TestModule {}

describe('MetronomeScheduleModule in one service', () => {
  const nats = new TestNatsServer();
  const database = new TestDatabase();
  let nc: NatsConnection;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    await Promise.all([nats.start(), database.create()]);
    await database.query('CREATE TABLE billing_log (run_id text, job text, note text, attempt int)');
    nc = await connect({ servers: nats.url });
    await provision(await jetstreamManager(nc), STREAM_DECLARATIONS, jobConsumerDeclarations(SERVICE), { replicas: 1, ackWaitMs: 10_000 });
    Object.assign(process.env, { NATS_URLS: nats.url, DATABASE_URL: database.url, LOG_LEVEL: 'warn', NATS_PROVISION_ON_START: 'false', SHUTDOWN_GRACE_MS: '1000' });
  });

  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await nc?.close();
    await nats.destroy();
    await database.drop();
  });

  function moduleWith(provider: Type, options: { jobs?: boolean } = {}): DynamicModule {
    return {
      module: TestModule,
      imports: [
        MetronomeServiceModule.forService({
          service: SERVICE,
          consumers: [],
          entities: [],
          ...(options.jobs === false ? {} : { jobs: { names: [], consumers: jobConsumerDeclarations(SERVICE), concurrency: 2 } }),
        }),
        MetronomeScheduleModule.forRoot(),
      ],
      providers: [provider],
    };
  }

  async function start(provider: Type, options: { jobs?: boolean } = {}): Promise<INestApplication> {
    const app = await NestFactory.create(moduleWith(provider, options), { logger: false });
    apps.push(app);
    await app.init();
    return app;
  }

  const schedules = () =>
    database.query<{ name: string; kind: string; job: string; priority: string; max_attempts: number; declared_by: string | null; paused: boolean; next_fire_at: Date | null; created_at: Date }>(
      `SELECT name, kind, job, priority, max_attempts, declared_by, paused, next_fire_at, created_at FROM schedules ORDER BY name`,
    );

  it('registers once from two replicas, keeps the cursor at a restart, and retires a renamed method\'s schedule', async () => {
    const [a, b] = await Promise.all([start(BillingV1), start(BillingV1)]);
    const first = await schedules();
    expect(first.map((s) => [s.name, s.kind, s.job, s.priority, s.max_attempts, s.declared_by])).toEqual([
      ['billing.hourly-invoices', 'cron', 'billing.hourly-invoices', 'high', 2, SERVICE],
      ['billing.old-sync', 'interval', 'billing.old-sync', 'normal', 3, SERVICE],
    ]);
    await Promise.all([a.close(), b.close()]);

    await start(BillingV2);
    const second = await schedules();
    expect(second.map((s) => s.name)).toEqual(['billing.hourly-invoices', 'billing.new-sync']);
    const hourly = (rows: typeof first) => rows.find((s) => s.name === 'billing.hourly-invoices')!;
    expect(hourly(second).created_at).toEqual(hourly(first).created_at);
    expect(hourly(second).next_fire_at).toEqual(hourly(first).next_fire_at);
  });

  it('adds, lists, pauses and deletes schedules at runtime, for every replica', async () => {
    const app = apps[apps.length - 1];
    const registry = app.get(MetronomeSchedulerRegistry);
    const added = await registry.addCronJob('nightly-invoices', '0 3 * * *', { job: 'hourly-invoices', timeZone: 'Europe/Paris', payload: { note: 'nightly' } });
    expect(added).toMatchObject({ name: 'billing.nightly-invoices', job: 'billing.hourly-invoices', timezone: 'Europe/Paris', payload: { note: 'nightly' } });
    expect([...(await registry.getCronJobs()).keys()].sort()).toEqual(['hourly-invoices', 'nightly-invoices']);
    expect(await registry.getIntervals()).toEqual(['new-sync']);
    expect(await registry.doesExist('cron', 'nightly-invoices')).toBe(true);
    expect(await registry.doesExist('interval', 'nightly-invoices')).toBe(false);
    await expect(registry.addInterval('too-fast', 100, { job: 'hourly-invoices' })).rejects.toThrow(/at most once a second/);

    expect((await registry.pause('hourly-invoices')).paused).toBe(true);
    // Another replica sees the same schedules.
    const other = await start(BillingV2);
    expect((await other.get(MetronomeSchedulerRegistry).getCronJob('hourly-invoices')).paused).toBe(true);
    await other.get(MetronomeSchedulerRegistry).deleteCronJob('nightly-invoices');
    expect(await registry.doesExist('cron', 'nightly-invoices')).toBe(false);
    await expect(registry.getCronJob('nightly-invoices')).rejects.toThrow(/No Cron Job was found with the given name \(nightly-invoices\)/);
    expect((await registry.resume('hourly-invoices')).paused).toBe(false);
  });

  it('triggers a scheduled method through the facade: its run id, its data, its database, its queue', async () => {
    const scheduler = apps[apps.length - 1].get(MetronomeScheduler);
    expect(await scheduler.getHealth()).toEqual({ status: 'ok', checks: { postgres: true, nats: true }, declared: 2 });
    const runId = await scheduler.trigger('hourly-invoices', { note: 'by hand' });
    await waitFor(async () => (await database.query('SELECT 1 FROM billing_log WHERE run_id = $1', [runId])).length > 0, { what: 'the triggered run' });
    expect(await database.query('SELECT run_id, job, note, attempt FROM billing_log')).toEqual([{ run_id: runId, job: 'billing.hourly-invoices', note: 'by hand', attempt: 1 }]);
    await waitFor(async () => (await scheduler.getQueueSize('hourly-invoices')) === 0, { what: 'the queue drained' });

    const registered = await scheduler.registerInterval('billing.ledger-check', '90s', 'hourly-invoices', { note: 'ledger' });
    expect(registered).toMatchObject({ name: 'billing.ledger-check', kind: 'interval', intervalMs: 90_000, job: 'billing.hourly-invoices' });
    expect((await scheduler.registerInterval('billing.ledger-check', '90s', 'hourly-invoices', { note: 'ledger' })).id).toBe(registered.id);
  });

  it('refuses to start on a declaration it cannot honour, or without a job runtime', async () => {
    await expect(start(Ambiguous)).rejects.toThrow(/Ambiguous\.morning \(@Cron\): utcOffset 2 is ambiguous[\s\S]*Ambiguous\.tooFast \(@Interval\): 250 ms: a Metronome schedule fires at most once a second/);
    await expect(start(BillingV2, { jobs: false })).rejects.toThrow(/has no job runtime: give MetronomeServiceModule.forService a jobs option/);
  });
});
