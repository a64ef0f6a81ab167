/**
 * The lateness bench's handler as a real job: a Nest application context
 * running the job runtime (per-priority consumers, early-delivery hold,
 * dispatcher, run recorder writing job_runs before the handler) with one
 * @JobHandler that reports when it started.
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JobHandler, jobConsumerDeclarations, MetronomeServiceModule, type ConsumerDeclaration, type JobContext } from '../../libs/common/src/index.js';

export const LATENESS_SERVICE = 'bench';

export function latenessConsumers(concurrency: number): ConsumerDeclaration[] {
  return jobConsumerDeclarations(LATENESS_SERVICE, { concurrency, ackWaitMs: 30_000 });
}

let onStart: (ctx: JobContext) => void = () => undefined;

export async function startRuntimeHandler(
  job: string,
  concurrency: number,
  env: Record<string, string>,
  started: (ctx: JobContext) => void,
): Promise<INestApplication> {
  onStart = started;
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
