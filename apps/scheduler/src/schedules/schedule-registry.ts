import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { errorText, ROOT_LOGGER, type Logger } from '../../../../libs/common/src/index.js';
import type { ScheduleInput } from './schedule.types.js';
import { SchedulesService } from './schedules.service.js';

/** Everything but what the register* call already names. */
export type RegisterOptions = Omit<Partial<ScheduleInput>, 'name' | 'kind' | 'job' | 'cron' | 'every' | 'runAt' | 'delayMs' | 'eventType' | 'timezone' | 'payload'>;

/**
 * Schedules declared in code, like pg-boss's schedule/sendAfter: providers call
 * registerCron / registerInterval / registerDelayed / registerEvent while the
 * app starts (constructor or onModuleInit), and the registry upserts them by
 * name once the app has booted. Re-registering an unchanged schedule keeps its
 * cursor, so restarts and several replicas neither re-fire nor lose runs.
 */
@Injectable()
export class ScheduleRegistry implements OnApplicationBootstrap {
  private readonly pending = new Map<string, ScheduleInput>();
  private applied = false;

  constructor(
    private readonly schedules: SchedulesService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** A cron schedule (5 fields, or 6 with seconds first) read in `timezone` (IANA, or "tenant"). */
  registerCron(name: string, expression: string, timezone: string, job: string, payload: Record<string, unknown> = {}, options: RegisterOptions = {}): Promise<void> {
    return this.register({ ...options, name, kind: 'cron', cron: expression, timezone, job, payload });
  }

  /** Every `every` (ms >= 1000, or "90s", "PT15M"), anchored at options.startsAt or at creation. */
  registerInterval(name: string, every: number | string, job: string, payload: Record<string, unknown> = {}, options: RegisterOptions = {}): Promise<void> {
    return this.register({ ...options, name, kind: 'interval', every, job, payload });
  }

  /** Once, after `delayMs` from the first registration, or at a given instant. */
  registerDelayed(name: string, at: number | Date, job: string, payload: Record<string, unknown> = {}, options: RegisterOptions = {}): Promise<void> {
    return this.register(typeof at === 'number' ? { ...options, name, kind: 'once', delayMs: at, job, payload } : { ...options, name, kind: 'once', runAt: at, job, payload });
  }

  /** A run of `job` for every domain event of `eventType`. */
  registerEvent(name: string, eventType: string, job: string, payload: Record<string, unknown> = {}, options: RegisterOptions = {}): Promise<void> {
    return this.register({ ...options, name, kind: 'event', eventType, job, payload });
  }

  /** Any schedule input. Before boot it is queued; after boot it is upserted at once. */
  async register(input: ScheduleInput): Promise<void> {
    if (this.pending.has(input.name) && !this.applied) throw new Error(`schedule "${input.name}" is registered twice`);
    this.pending.set(input.name, input);
    if (this.applied) await this.schedules.upsertByName(input, 'code');
  }

  async onApplicationBootstrap(): Promise<void> {
    this.applied = true;
    const problems: string[] = [];
    for (const input of this.pending.values()) {
      try {
        await this.schedules.upsertByName(input, 'code');
      } catch (e) {
        problems.push(`${input.name}: ${errorText(e)}`);
      }
    }
    if (problems.length) throw new Error(`schedules registered in code are invalid:\n  - ${problems.join('\n  - ')}`);
    this.logger.info({ schedules: [...this.pending.keys()] }, 'code schedules registered');
  }
}
