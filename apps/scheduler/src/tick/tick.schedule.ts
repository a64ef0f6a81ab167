import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, JOB_NAMES, type AppConfig } from '../../../../libs/common/src/index.js';
import { ScheduleRegistry } from '../schedules/schedule-registry.js';

export const TICK_SCHEDULE = 'metronome.documents-tick';

/**
 * The walking skeleton's heartbeat as an ordinary interval schedule: a
 * documents.tick run every TICK_INTERVAL_MS, on whole multiples of the
 * interval since the epoch. Its JobMessage body (runId, scheduledFor) is what
 * the TickJob contract reads.
 */
@Injectable()
export class TickSchedule implements OnModuleInit {
  constructor(
    private readonly registry: ScheduleRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.registry.registerInterval(TICK_SCHEDULE, this.config.tickIntervalMs, JOB_NAMES.documentsTick, {}, {
      startsAt: new Date(0),
      description: 'Walking-skeleton heartbeat for the documents service',
    });
  }
}
