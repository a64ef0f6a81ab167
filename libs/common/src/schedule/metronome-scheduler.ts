import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobEnqueuer } from '../jobs/job-enqueuer.js';
import { NatsConnectionService } from '../messaging/nats-connection.service.js';
import { STREAMS } from '../messaging/subjects.js';
import { runOptions } from './run-options.js';
import { ScheduledMethods } from './scheduled-methods.js';
import { ScheduleDefinitions } from './schedule-definitions.js';
import type { Schedule, ScheduleInput } from './schedule.types.js';

/** Everything but what the register* call already names (the scheduler seed's RegisterOptions). */
export type RegisterOptions = Omit<Partial<ScheduleInput>, 'name' | 'kind' | 'job' | 'cron' | 'every' | 'runAt' | 'delayMs' | 'eventType' | 'payload'>;

export interface SchedulerHealth {
  status: 'ok' | 'degraded';
  checks: { postgres: boolean; nats: boolean };
  /** Schedules this service declares with decorators. */
  declared: number;
}

/**
 * The programmatic facade, for code outside Nest handlers, with the
 * scheduler seed's API: register schedules by their full name (stored,
 * shared by every replica, idempotent), trigger a run now, read health and
 * queue depth. The runs go to job handlers like any: a @JobHandler, or a
 * @Cron/@Interval/@Timeout method (whose first argument is a
 * ScheduledJobContext: jobId, jobName, data, logger, db).
 */
@Injectable()
export class MetronomeScheduler {
  constructor(
    private readonly definitions: ScheduleDefinitions,
    private readonly methods: ScheduledMethods,
    private readonly enqueuer: JobEnqueuer,
    private readonly nats: NatsConnectionService,
    private readonly dataSource: DataSource,
  ) {}

  /** A job name, or the job of a scheduled method named so (`@Cron(…, { name })`). */
  private jobOf(job: string): string {
    return this.methods.byLocalName(job)?.job ?? job;
  }

  /** A cron schedule (5 fields, or 6 with seconds first) read in options.timezone (IANA, or "tenant" with scope per_tenant; default UTC). */
  registerCron(name: string, expression: string, job: string, payload: Record<string, unknown> = {}, options: RegisterOptions = {}): Promise<Schedule> {
    return this.definitions.upsertByName({ ...options, name, kind: 'cron', cron: expression, job: this.jobOf(job), payload }, 'code');
  }

  /** Every `every` (ms >= 1000, or "90s", "PT15M"), anchored at options.startsAt or at the first registration. */
  registerInterval(name: string, every: number | string, job: string, payload: Record<string, unknown> = {}, options: RegisterOptions = {}): Promise<Schedule> {
    return this.definitions.upsertByName({ ...options, name, kind: 'interval', every, job: this.jobOf(job), payload }, 'code');
  }

  /** Once: `at` ms after the first registration (later registrations keep that instant), or at an instant. */
  registerDelayed(name: string, at: number | Date, job: string, payload: Record<string, unknown> = {}, options: RegisterOptions = {}): Promise<Schedule> {
    const base = { ...options, name, kind: 'once' as const, job: this.jobOf(job), payload };
    return this.definitions.upsertByName(typeof at === 'number' ? { ...base, delayMs: at } : { ...base, runAt: at }, 'code');
  }

  /**
   * One run now, of a schedule (by full name or a scheduled method's name: its
   * job and options) or of a job by name; `data` replaces the payload. A
   * per-tenant schedule runs for the tenant named in options.companyId.
   * Returns the run id.
   */
  async trigger(name: string, data?: Record<string, unknown>, options: { companyId?: string } = {}): Promise<string> {
    const method = this.methods.byLocalName(name);
    const schedule = await this.definitions.find(method?.schedule.name ?? name);
    if (schedule) {
      if (schedule.scope === 'per_tenant' && !options.companyId) throw new Error(`"${name}" runs per tenant: name the tenant (options.companyId)`);
      const companyId = options.companyId ?? schedule.companyId ?? undefined;
      const run = await this.enqueuer.enqueue(schedule.job, data ?? schedule.payload, { ...runOptions(schedule), companyId, scheduleId: schedule.id });
      return run.runId;
    }
    const run = await this.enqueuer.enqueue(this.jobOf(name), data ?? {}, { companyId: options.companyId });
    return run.runId;
  }

  /** Postgres and NATS answer (what /readyz checks), and how many schedules this service declares. */
  async getHealth(): Promise<SchedulerHealth> {
    const [nats, postgres] = await Promise.all([this.nats.ping(), this.dataSource.query('SELECT 1').then(() => true, () => false)]);
    return { status: nats && postgres ? 'ok' : 'degraded', checks: { postgres, nats }, declared: this.methods.declarations().length };
  }

  /**
   * Runs of a job (or of a schedule's or scheduled method's job) in JetStream
   * and not yet acked, at every priority: waiting, held until due, or running.
   */
  async getQueueSize(name: string): Promise<number> {
    const method = this.methods.byLocalName(name);
    const schedule = method ? null : await this.definitions.find(name);
    const job = method?.job ?? schedule?.job ?? name;
    const jsm = await this.nats.jsm();
    const filter = `jobs.*.${job}`;
    const info = await jsm.streams.info(STREAMS.JOBS, { subjects_filter: filter } as never);
    const subjects = (info.state as { subjects?: Record<string, number> }).subjects ?? {};
    return Object.values(subjects).reduce((a, b) => a + b, 0);
  }
}
