/**
 * BullMQ on Redis: Queue.add / addBulk, a Worker with concurrency N, history
 * kept (removeOnComplete/removeOnFail false), one retry without delay.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchPayload, Plan, Tally } from '../common.js';
import { flushRedisDb, REDIS_DB, REDIS_HOST, REDIS_PORT, redisInfo, redisOptions } from '../infra.js';
import type { SystemUnderTest, SystemWorker } from './types.js';

const QUEUE = 'metronome-bench';
const JOB_OPTIONS = { removeOnComplete: false, removeOnFail: false, attempts: 2 } as const;

export async function setupBullmq(): Promise<SystemUnderTest> {
  await flushRedisDb();
  const info = await redisInfo();
  const queue = new Queue(QUEUE, { connection: redisOptions(), defaultJobOptions: JOB_OPTIONS });
  await queue.waitUntilReady();
  const redis = new Redis(redisOptions());
  return {
    workerEnv: {},
    describe: {
      single: 'Queue.add (one job per call)',
      bulk: 'Queue.addBulk',
      worker: 'Worker(concurrency), removeOnComplete: false, removeOnFail: false, attempts: 2 without backoff',
      history: 'completed jobs kept in Redis (removeOnComplete: false)',
      store: `Redis ${info.durability.redis_version} at ${REDIS_HOST}:${REDIS_PORT} db ${REDIS_DB}`,
    },
    durability: { redis: info.durability },
    brokerPids: info.pid ? [info.pid] : [],
    async enqueueOne(p) {
      await queue.add('noop', p);
    },
    async enqueueMany(ps) {
      await queue.addBulk(ps.map((data) => ({ name: 'noop', data })));
    },
    async backlog() {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return c;
    },
    async history() {
      return { completed_jobs_kept: await queue.getCompletedCount(), failed_jobs_kept: await queue.getFailedCount() };
    },
    async closeProducer() {
      await queue.close();
      redis.disconnect();
    },
    async teardown() {
      await flushRedisDb();
    },
  };
}

export async function startBullmqWorker(plan: Plan, tally: Tally): Promise<SystemWorker> {
  const worker = new Worker<BenchPayload>(
    QUEUE,
    async (job) => {
      tally.handle(job.data, job.attemptsMade + 1);
    },
    { connection: redisOptions(), concurrency: plan.concurrency, autorun: false },
  );
  worker.on('completed', (job) => tally.completed(job.data));
  worker.on('error', (e) => process.stderr.write(`bullmq worker error: ${String(e)}\n`));
  void worker.run();
  await worker.waitUntilReady();
  return {
    notes: [`bullmq Worker concurrency ${plan.concurrency}`],
    async stop() {
      await worker.close();
    },
  };
}
