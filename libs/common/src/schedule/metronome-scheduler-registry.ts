import { Injectable } from '@nestjs/common';
import type { MetronomeJobOptions } from './metronome-job.decorator.js';
import { declareScheduledMethod, scheduleNameOf, type ScheduledDeclaration } from './scheduled-declaration.js';
import { ScheduledMethods } from './scheduled-methods.js';
import { ScheduleDefinitions } from './schedule-definitions.js';
import { ScheduleDeclarationError } from './nest-schedule-metadata.js';
import type { Schedule } from './schedule.types.js';
import { SchedulesRepository } from './schedules.repository.js';
import { Clock } from '../jobs/clock.js';

export type ScheduleType = 'cron' | 'interval' | 'timeout';

/** What a schedule added at runtime runs: a job of the service, or a scheduled method (by its @nestjs/schedule name). */
export interface RuntimeScheduleTarget extends Omit<MetronomeJobOptions, 'schedule'> {
  /** A job name, or the name of a @Cron/@Interval/@Timeout method of this service (its job is run). */
  job: string;
  payload?: Record<string, unknown>;
  /** cron: an IANA timezone (default UTC, or each tenant's with perTenant). */
  timeZone?: string;
}

const KIND_OF: Record<Schedule['kind'], ScheduleType | undefined> = { cron: 'cron', interval: 'interval', once: 'timeout', event: undefined, manual: undefined };

/**
 * `SchedulerRegistry`, mapped onto Metronome schedules: what @nestjs/schedule's
 * registry does to timers in one process, this does to the shared schedules,
 * so a change from any replica holds for all of them and survives restarts.
 * Names are the service's local names (`@Cron(…, { name })`, or the name given
 * to add*); the stored schedule is `<service>.<name>`. A schedule added here
 * runs a job the service handles (a @JobHandler, or a scheduled method by its
 * name) rather than a closure, since any replica may run it. Added schedules
 * are not retired at the next start (declared ones are, once undeclared).
 */
@Injectable()
export class MetronomeSchedulerRegistry {
  constructor(
    private readonly methods: ScheduledMethods,
    private readonly definitions: ScheduleDefinitions,
    private readonly repository: SchedulesRepository,
    private readonly clock: Clock,
  ) {}

  /** The stored schedule name of a local name. */
  scheduleName(name: string): string {
    return this.methods.byLocalName(name)?.schedule.name ?? scheduleNameOf(this.methods.service, name);
  }

  private localName(s: Schedule): string {
    const declared = this.methods.declarations().find((d) => d.schedule.name === s.name);
    if (declared) return declared.localName;
    const prefix = `${this.methods.service}.`;
    return s.name.startsWith(prefix) ? s.name.slice(prefix.length) : s.name;
  }

  /** This service's schedules: declared by its methods and added at runtime. */
  async list(): Promise<(Schedule & { localName: string; type: ScheduleType | undefined })[]> {
    const own = await this.repository.listByPrefix(`${this.methods.service}.`);
    const names = new Set(own.map((s) => s.name));
    for (const d of this.methods.declarations()) {
      if (names.has(d.schedule.name)) continue;
      const s = await this.repository.findByName(d.schedule.name);
      if (s) own.push(s);
    }
    return own.map((s) => ({ ...s, localName: this.localName(s), type: KIND_OF[s.kind] }));
  }

  async doesExist(type: ScheduleType, name: string): Promise<boolean> {
    const s = await this.repository.findByName(this.scheduleName(name));
    return s !== null && KIND_OF[s.kind] === type;
  }

  /** The stored schedule (next fire, paused, enabled, run count), or throws like SchedulerRegistry.getCronJob. */
  async getCronJob(name: string): Promise<Schedule> {
    return this.getOf('cron', name);
  }

  async getInterval(name: string): Promise<Schedule> {
    return this.getOf('interval', name);
  }

  async getTimeout(name: string): Promise<Schedule> {
    return this.getOf('timeout', name);
  }

  private async getOf(type: ScheduleType, name: string): Promise<Schedule> {
    const s = await this.repository.findByName(this.scheduleName(name));
    if (!s || KIND_OF[s.kind] !== type) throw new Error(`No ${type === 'cron' ? 'Cron Job' : type === 'interval' ? 'Interval' : 'Timeout'} was found with the given name (${name}). Check that you created one with a decorator or with the "add${type === 'cron' ? 'CronJob' : type === 'interval' ? 'Interval' : 'Timeout'}" method.`);
    return s;
  }

  /** Local names to schedules, like SchedulerRegistry.getCronJobs. */
  async getCronJobs(): Promise<Map<string, Schedule>> {
    return new Map((await this.list()).filter((s) => s.type === 'cron').map((s) => [s.localName, s]));
  }

  async getIntervals(): Promise<string[]> {
    return (await this.list()).filter((s) => s.type === 'interval').map((s) => s.localName);
  }

  async getTimeouts(): Promise<string[]> {
    return (await this.list()).filter((s) => s.type === 'timeout').map((s) => s.localName);
  }

  addCronJob(name: string, cronTime: string | Date, target: RuntimeScheduleTarget): Promise<Schedule> {
    return this.add(name, { kind: 'cron', name, cronTime, options: target.timeZone ? { timeZone: target.timeZone } : {} }, target);
  }

  addInterval(name: string, ms: number, target: RuntimeScheduleTarget): Promise<Schedule> {
    return this.add(name, { kind: 'interval', name, ms, options: {} }, target);
  }

  addTimeout(name: string, ms: number, target: RuntimeScheduleTarget): Promise<Schedule> {
    return this.add(name, { kind: 'timeout', name, ms, options: {} }, target);
  }

  private async add(name: string, nest: Parameters<typeof declareScheduledMethod>[0]['nest'], target: RuntimeScheduleTarget): Promise<Schedule> {
    if (this.methods.byLocalName(name)) throw new Error(`"${name}" is declared by a decorator (${this.methods.byLocalName(name)!.owner}); add under another name`);
    const method: ScheduledDeclaration | undefined = this.methods.byLocalName(target.job);
    const job = method?.job ?? target.job;
    const { timeZone: _tz, payload, job: _job, ...metronome } = target;
    const { declaration, problems } = declareScheduledMethod(
      { service: this.methods.service, className: 'MetronomeSchedulerRegistry', methodName: `add(${name})`, nest, metronome, jobHandler: { job, options: {} } },
      this.clock.now(),
    );
    if (!declaration) throw new ScheduleDeclarationError(problems);
    const existing = await this.repository.findByName(declaration.schedule.name);
    if (existing) throw new Error(`Schedule "${name}" already exists (${existing.name}); delete it first`);
    return this.definitions.create({ ...declaration.schedule, payload: payload ?? {}, description: `added at runtime by ${this.methods.service}` }, 'code');
  }

  deleteCronJob(name: string): Promise<void> {
    return this.deleteOf('cron', name);
  }

  deleteInterval(name: string): Promise<void> {
    return this.deleteOf('interval', name);
  }

  deleteTimeout(name: string): Promise<void> {
    return this.deleteOf('timeout', name);
  }

  /** Deletes the schedule for every replica. A declared one comes back at the service's next start (like @nestjs/schedule). */
  private async deleteOf(type: ScheduleType, name: string): Promise<void> {
    await this.getOf(type, name);
    await this.definitions.remove(this.scheduleName(name));
  }

  /** Stops firing for every replica until resume (CronJob.stop()); what falls due meanwhile follows the missed-run policy. */
  pause(name: string): Promise<Schedule> {
    return this.definitions.pause(this.scheduleName(name));
  }

  /** Fires again (CronJob.start()). */
  resume(name: string): Promise<Schedule> {
    return this.definitions.resume(this.scheduleName(name));
  }
}
