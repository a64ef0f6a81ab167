/**
 * The lateness bench's handler as a real job: a Nest application context
 * running the job runtime (per-priority consumers, early-delivery hold,
 * dispatcher, run recorder writing job_runs before the handler) with one
 * @JobHandler that reports when it started.
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JobHandler, jobConsumerDeclarations, JobRunsRepository, MetronomeServiceModule, type ConsumerDeclaration, type JobContext } from '../../libs/common/src/index.js';

export const LATENESS_SERVICE = 'bench';

export function latenessConsumers(concurrency: number): ConsumerDeclaration[] {
  return jobConsumerDeclarations(LATENESS_SERVICE, { concurrency, ackWaitMs: 30_000 });
}

let onStart: (ctx: JobContext) => void = () => undefined;

/** The runtime's job_runs start writes (before each handler), timed for the report. */
export const START_WRITES = { batches: 0, rows: 0, ms: 0, maxMs: 0 };
function timeStartWrites(): void {
  const proto = JobRunsRepository.prototype;
  const original = proto.start;
  proto.start = async function (this: JobRunsRepository, items) {
    const t = performance.now();
    try {
      return await original.call(this, items);
    } finally {
      const ms = performance.now() - t;
      START_WRITES.batches++;
      START_WRITES.rows += items.length;
      START_WRITES.ms += ms;
      START_WRITES.maxMs = Math.max(START_WRITES.maxMs, ms);
    }
  };
}

export async function startRuntimeHandler(
  job: string,
  concurrency: number,
  env: Record<string, string>,
  started: (ctx: JobContext) => void,
): Promise<INestApplication> {
  onStart = started;
  timeStartWrites();
  @Injectable()
  class LatenessJob {
    @JobHandler(job, { maxAttempts: 1, timeoutMs: 60_000 })
    run(ctx: JobContext): void {
      onStart(ctx);
    }
  }
  @Module({
    imports: [
      MetronomeServiceModule.forService({
        service: `${LATENESS_SERVICE}-worker`,
        consumers: [],
        entities: [],
        jobs: { names: [job], consumers: latenessConsumers(concurrency), concurrency },
        providers: [LatenessJob],
      }),
    ],
  })
  class LatenessWorkerModule {}
  // The config module reads the environment once, while the context is created.
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const app = await NestFactory.create(LatenessWorkerModule, { logger: false });
    await app.init();
    return app;
  } finally {
    process.env = saved;
  }
}
