/**
 * Metronome's full path: JobEnqueuer (due jobs published straight to
 * JetStream with Nats-Msg-Id = run id, the call returning once the stream
 * stored them) on the producer side; on the worker side the job runtime
 * (@JobHandler with its payload contract, per-priority consumers, dispatcher,
 * typed settle) writing one job_attempts row per finished attempt in batches,
 * committed before the ack. A private nats-server (JetStream file storage) and
 * a fresh, migrated database per run.
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { IsBoolean, IsIn, IsInt, IsNumber, IsString, Min } from 'class-validator';
import {
  JobEnqueuer,
  JobEnqueuerModule,
  JobHandler,
  jobConsumerDeclarations,
  MetronomeServiceModule,
  provision,
  STREAM_DECLARATIONS,
  STREAMS,
  subjects,
  type ConsumerDeclaration,
  type JobContext,
  type JobSettled,
  type JobSettlementObserver,
} from '../../../libs/common/src/index.js';
import { JobStatsRollRepository } from '../../../apps/scheduler/src/stats/job-stats-roll.repository.js';
import { JobStatsRoller } from '../../../apps/scheduler/src/stats/job-stats-roller.service.js';
import { PHASES, type BenchPayload, type Plan, type Tally } from '../common.js';
import { BenchDatabase, BenchNatsServer, withEnv } from '../infra.js';
import { describeWrites, HISTORY_WRITES, timeHistoryWrites } from '../history-timing.js';
import type { SystemUnderTest, SystemWorker } from './types.js';

export const BENCH_JOB = 'bench.noop';
const ACK_WAIT_MS = 30_000;

/** Retry at once, as BullMQ (no backoff) and pg-boss (retryDelay 0) do in this bench. */
const NO_BACKOFF = { kind: 'fixed' as const, baseMs: 0, capMs: 0, jitter: 0 };

/** The runtime's per-priority consumers for the bench's jobs (jobs.<priority>.bench.>). */
export function benchConsumers(concurrency: number): ConsumerDeclaration[] {
  return jobConsumerDeclarations('bench', { concurrency, ackWaitMs: ACK_WAIT_MS, backoff: NO_BACKOFF });
}

/** The job's own payload contract, validated by the transport before the handler runs. */
export class BenchJobPayload {
  @IsIn(PHASES as unknown as string[])
  phase: BenchPayload['phase'];

  @IsInt()
  @Min(0)
  seq: number;

  @IsNumber()
  t: number;

  @IsBoolean()
  fail: boolean;

  @IsString()
  tenant: string;

  @IsString()
  kind: string;

  @IsString()
  note: string;
}

async function metronomeEnv(nats: BenchNatsServer, db: BenchDatabase, service: string): Promise<Record<string, string>> {
  return {
    NATS_URLS: nats.url,
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    NATS_PROVISION_ON_START: 'false',
    OUTBOX_RELAY: 'false',
    NATS_CLIENT_NAME: service,
    ACK_WAIT_MS: String(ACK_WAIT_MS),
    NODE_ENV: 'production',
  };
}

/**
 * The producer, and the scheduler's roll-up of run history into job_stats_minute
 * as production runs it (every 2 s): its Postgres work counts in the database's
 * CPU per job like the worker's writes.
 */
@Module({
  imports: [
    MetronomeServiceModule.forService({ service: 'bench-producer', consumers: [], entities: [], providers: [JobStatsRollRepository, JobStatsRoller] }),
    JobEnqueuerModule,
  ],
})
class ProducerModule {}

export async function setupMetronome(plan: Plan): Promise<SystemUnderTest> {
  const nats = await new BenchNatsServer().start();
  const db = await new BenchDatabase(`metronome_bench_metronome_${process.pid}`).create({ migrate: true });
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  await provision(jsm, STREAM_DECLARATIONS, benchConsumers(plan.concurrency), { replicas: 1, ackWaitMs: ACK_WAIT_MS });
  const stream = await jsm.streams.info(STREAMS.JOBS);

  const env = await metronomeEnv(nats, db, 'bench-producer');
  const app: INestApplicationContext = await withEnv(env, async () => {
    const context = await NestFactory.createApplicationContext(ProducerModule, { logger: false });
    await context.init();
    return context;
  });
  const enqueuer = app.get(JobEnqueuer);
  const sync = (await db.query<{ synchronous_commit: string }>('SHOW synchronous_commit'))[0].synchronous_commit;
  return {
    workerEnv: await metronomeEnv(nats, db, 'bench-worker'),
    describe: {
      single: 'JobEnqueuer.enqueue (published straight to JetStream with Nats-Msg-Id = run id; returns once the stream stored it)',
      bulk: 'JobEnqueuer.enqueueMany (every publish in flight at once, acks awaited together)',
      worker: 'job runtime: @JobHandler with a class-validator payload contract, per-priority consumers into the in-process dispatcher (slots = concurrency), handler run through the JetStream transport\'s typed settle path',
      history:
        'one append-only job_attempts row per finished attempt and one job_history_batches marker per batch, written by the worker\'s history writer in batches of up to 500 rows and committed before the ack; nothing written at enqueue or start. The scheduler\'s roller (run in the producer process) rolls marked batches into job_stats_minute every 2 s',
      store: `nats-server ${nats.version()} (private, JetStream file storage in ${nats.storeDir}) + Postgres database ${db.name}`,
    },
    durability: {
      nats: {
        version: nats.version(),
        storage: stream.config.storage,
        replicas: stream.config.num_replicas,
        sync: 'nats-server default: acknowledges a publish once written to the OS (before fsync); fsync every sync_interval (default 2 min)',
      },
      postgres: { synchronous_commit: sync },
    },
    brokerPids: nats.pid ? [nats.pid] : [],
    database: db,
    async enqueueOne(p) {
      await enqueuer.enqueue(BENCH_JOB, p, { companyId: p.tenant });
    },
    async enqueueMany(ps) {
      await enqueuer.enqueueMany(ps.map((p) => ({ job: BENCH_JOB, payload: p, options: { companyId: p.tenant } })));
    },
    async backlog() {
      const c = await jsm.consumers.info(STREAMS.JOBS, subjects.jobConsumer('bench', 'normal'));
      return { pending: c.num_pending, ack_pending: c.num_ack_pending, redelivered: c.num_redelivered };
    },
    async history() {
      const rows = await db.query<{ k: string; n: string }>(
        `SELECT 'attempts_' || outcome k, count(*) n FROM job_attempts WHERE job = $1 GROUP BY outcome
         UNION ALL SELECT 'runs_final', count(DISTINCT run_id) FROM job_attempts WHERE job = $1 AND final
         UNION ALL SELECT 'stats_succeeded', coalesce(sum(succeeded), 0) FROM job_stats WHERE job = $1
         UNION ALL SELECT 'stats_batches_not_rolled', count(*) FROM job_history_batches`,
        [BENCH_JOB],
      );
      return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
    },
    async closeProducer() {
      await app.close();
    },
    async teardown() {
      await nc.close().catch(() => undefined);
      await nats.destroy();
      await db.drop();
    },
  };
}

// ---------------------------------------------------------------- worker side

let TALLY: Tally | undefined;

/** The bench job: a no-op through the job runtime (@JobHandler), payload checked by its contract. */
@Injectable()
class BenchJobs {
  @JobHandler(BENCH_JOB, { payload: BenchJobPayload, maxAttempts: 3, backoff: NO_BACKOFF, timeoutMs: 60_000 })
  run(ctx: JobContext<BenchJobPayload>): void {
    TALLY!.handle(ctx.payload, ctx.attempt);
  }
}

/**
 * Sees each settlement after the runtime's run-history observer has committed
 * it (observers run in order, before the ack): the burn-down's end is the last
 * job whose history is stored.
 */
@Injectable()
class CompletionTap implements JobSettlementObserver {
  onJobSettled(s: JobSettled): undefined {
    if (s.outcome !== 'succeeded') return;
    const p = (s.event.data as { payload: BenchPayload }).payload;
    TALLY?.historyLag(p, Date.now() - s.finishedAt.getTime());
    TALLY?.completed(p);
  }
}

function workerModule(plan: Plan) {
  @Module({
    imports: [
      MetronomeServiceModule.forService({
        service: 'bench-worker',
        consumers: [],
        entities: [],
        jobs: { names: [BENCH_JOB], consumers: benchConsumers(plan.concurrency), concurrency: plan.concurrency },
        providers: [BenchJobs],
        // Observers run once the attempt's history row is committed: the services' own, then the bench's tap.
        settlementObservers: [CompletionTap],
      }),
    ],
  })
  class BenchWorkerModule {}
  return BenchWorkerModule;
}

export async function startMetronomeWorker(plan: Plan, tally: Tally): Promise<SystemWorker> {
  TALLY = tally;
  timeHistoryWrites();
  const app: INestApplication = await NestFactory.create(workerModule(plan), { logger: false });
  // The job runtime pulls its own consumers at bootstrap; no connectJetStream needed.
  await app.init();
  return {
    get notes() {
      return [
        `metronome job runtime (@JobHandler), ${plan.concurrency} slots, consumers ${benchConsumers(plan.concurrency).map((c) => c.durable).join(', ')}`,
        `job_attempts writes over the worker's life — ${describeWrites(HISTORY_WRITES)}`,
      ];
    },
    async stop() {
      await app.close();
    },
  };
}
