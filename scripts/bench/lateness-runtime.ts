/**
 * The lateness bench's handler as a real job: a Nest application context
 * running the job runtime (per-priority consumers, early-delivery hold,
 * dispatcher, run recorder writing job_runs before the handler) with one
 * @JobHandler that reports when it started.
 */
import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { withEnv } from './infra.js';
import { timeHistoryWrites } from './history-timing.js';
import { JobHandler, jobConsumerDeclarations, MetronomeServiceModule, type ConsumerDeclaration, type JobContext } from '../../libs/common/src/index.js';

export const LATENESS_SERVICE = 'bench';

export function latenessConsumers(concurrency: number): ConsumerDeclaration[] {
  return jobConsumerDeclarations(LATENESS_SERVICE, { concurrency, ackWaitMs: 30_000 });
}

export async function startRuntimeHandler(
  job: string,
  concurrency: number,
  env: Record<string, string>,
  started: (ctx: JobContext) => void,
): Promise<INestApplication> {
  timeHistoryWrites();
  @Injectable()
  class LatenessJob {
    @JobHandler(job, { maxAttempts: 1, timeoutMs: 60_000 })
    run(ctx: JobContext): void {
      started(ctx);
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
  return withEnv(env, async () => {
    const app = await NestFactory.create(LatenessWorkerModule, { logger: false });
    await app.init();
    return app;
  });
}
