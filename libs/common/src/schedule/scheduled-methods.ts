import { Inject, Injectable, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { Clock } from '../jobs/clock.js';
import { jobHandlerMetadata, type JobContext, type JobHandlerFn } from '../jobs/job-handler.decorator.js';
import type { RunResult } from '../jobs/job.types.js';
import type { ExtraJobHandler, ExtraJobHandlers } from '../jobs/runtime/extra-handlers.js';
import { ROOT_LOGGER, SERVICE_NAME } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { metronomeJobOptions } from './metronome-job.decorator.js';
import { readNestSchedule, ScheduleDeclarationError } from './nest-schedule-metadata.js';
import { declareScheduledMethod, duplicateProblems, type ScheduledDeclaration } from './scheduled-declaration.js';
import { scheduledContext } from './scheduled-context.js';
import { ScheduleDefinitions } from './schedule-definitions.js';
import { SchedulesRepository } from './schedules.repository.js';

/** MetronomeScheduleModule.forRoot's options: like ScheduleModule.forRoot's, which kinds to run. */
export interface MetronomeScheduleOptions {
  cronJobs?: boolean;
  intervals?: boolean;
  timeouts?: boolean;
}

export const METRONOME_SCHEDULE_OPTIONS = Symbol('METRONOME_SCHEDULE_OPTIONS');

const RUN_STATUSES = new Set(['success', 'partial', 'skipped']);

/** A scheduled method's return value is its run's result only when it looks like one. */
function asRunResult(v: unknown): RunResult | undefined {
  return typeof v === 'object' && v !== null && RUN_STATUSES.has((v as RunResult).status) ? (v as RunResult) : undefined;
}

/**
 * The bridge from `@nestjs/schedule`'s decorators to Metronome. It finds every
 * method decorated with @Cron, @Interval or @Timeout on the app's providers and
 * controllers, refuses the start when one cannot be honoured (every problem
 * listed), gives the job runtime one handler per method (EXTRA_JOB_HANDLERS),
 * and once the app has booted upserts each method's schedule by name (an
 * unchanged definition keeps its cursor, so restarts and replicas neither
 * re-fire nor lose occurrences) and retires the schedules this service
 * declared before and declares no more. The scheduler's claim loop fires each
 * occurrence once, whichever replica runs it.
 */
@Injectable()
export class ScheduledMethods implements ExtraJobHandlers, OnApplicationBootstrap {
  private found?: { declaration: ScheduledDeclaration; fn: JobHandlerFn }[];
  private handlersTaken = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly definitions: ScheduleDefinitions,
    private readonly repository: SchedulesRepository,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Inject(SERVICE_NAME) readonly service: string,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(METRONOME_SCHEDULE_OPTIONS) private readonly options: MetronomeScheduleOptions = {},
  ) {}

  /** Every scheduled method of the app, validated (throws ScheduleDeclarationError listing every problem). */
  declarations(): ScheduledDeclaration[] {
    return this.discover().map((f) => f.declaration);
  }

  /** The declaration with this @nestjs/schedule name (or `Class.method`), if any. */
  byLocalName(name: string): ScheduledDeclaration | undefined {
    return this.declarations().find((d) => d.localName === name);
  }

  private enabled(kind: ScheduledDeclaration['kind']): boolean {
    const o = this.options ?? {};
    return kind === 'cron' ? o.cronJobs !== false : kind === 'interval' ? o.intervals !== false : o.timeouts !== false;
  }

  private discover(): { declaration: ScheduledDeclaration; fn: JobHandlerFn }[] {
    if (this.found) return this.found;
    const now = this.clock.now();
    const problems: string[] = [];
    const found: { declaration: ScheduledDeclaration; fn: JobHandlerFn }[] = [];
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || seen.has(instance) || !wrapper.metatype) continue;
      seen.add(instance);
      const proto = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const methodName of this.scanner.getAllMethodNames(proto)) {
        const method = proto[methodName];
        if (typeof method !== 'function') continue;
        const nest = readNestSchedule(method);
        if (!nest || !this.enabled(nest.kind)) continue;
        const handler = jobHandlerMetadata(method);
        const { declaration, problems: p } = declareScheduledMethod(
          {
            service: this.service,
            className: wrapper.metatype.name,
            methodName,
            nest,
            metronome: metronomeJobOptions(method),
            jobHandler: handler ? { job: handler.job, options: handler.options } : undefined,
          },
          now,
        );
        problems.push(...p);
        if (!declaration) continue;
        const db = this.dataSource;
        const fn: JobHandlerFn = async (ctx: JobContext) => asRunResult(await (method as (c: unknown) => unknown).call(instance, scheduledContext(ctx, db)));
        found.push({ declaration, fn });
      }
    }
    problems.push(...duplicateProblems(found.map((f) => f.declaration)));
    if (problems.length) throw new ScheduleDeclarationError(problems);
    this.found = found;
    return found;
  }

  /** The job runtime's handlers for scheduled methods that are not @JobHandlers already. */
  handlers(): ExtraJobHandler[] {
    this.handlersTaken = true;
    return this.discover()
      .filter((f) => f.declaration.ownHandler)
      .map((f) => ({ job: f.declaration.job, options: f.declaration.handlerOptions, fn: f.fn, owner: f.declaration.owner }));
  }

  async onApplicationBootstrap(): Promise<void> {
    const declarations = this.declarations();
    if (!this.handlersTaken && declarations.some((d) => d.ownHandler)) {
      throw new Error(
        `MetronomeScheduleModule runs each @Cron/@Interval/@Timeout method as a job, and this service has no job runtime: ` +
          `give MetronomeServiceModule.forService a jobs option ({ names: [], consumers: jobConsumerDeclarations('${this.service}') })`,
      );
    }
    const names = declarations.map((d) => d.schedule.name);
    for (const d of declarations) await this.definitions.upsertByName(d.schedule, 'code');
    await this.repository.markDeclared(names, this.service);
    const retired = await this.repository.retireUndeclared(this.service, names);
    if (retired.length) this.logger.info({ retired }, 'schedules no longer declared in code retired');
    this.logger.info({ schedules: names }, 'scheduled methods registered');
  }
}
