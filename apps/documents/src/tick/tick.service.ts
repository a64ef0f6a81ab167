import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, ROOT_LOGGER, type AppConfig, type Logger } from '../../../../libs/common/src/index.js';
import { TickRepository } from './tick.repository.js';

@Injectable()
export class TickService {
  constructor(
    private readonly ticks: TickRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** Records one tick run; false when it was already recorded (a redelivery after the effect). */
  async recordTick(runId: string, scheduledFor: Date, attempt: number, workMs = 0, signal?: AbortSignal): Promise<boolean> {
    // workMs lets tests and demos hold a tick in flight; production ticks carry none.
    if (workMs > 0) await sleep(workMs, signal);
    const fresh = await this.ticks.record(runId, scheduledFor, attempt, this.config.instanceId);
    this.logger.info({ runId, fresh, attempt }, fresh ? 'tick recorded' : 'tick already recorded');
    return fresh;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
