import { Injectable } from '@nestjs/common';
import {
  Clock,
  EventPublisher,
  JobEnqueuer,
  occurrenceRunId,
  OutboxRelay,
  OutboxRepository,
  outboxRowOf,
  planRun,
  type EnqueuedRun,
  type PlannedRun,
} from '../../../../libs/common/src/index.js';
import { afterCommit } from '../../../../libs/common/src/audit/index.js';
import { FiringService, runOptions } from '../firing/firing.service.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import { ScheduleDefinitions, type ScheduleGuard } from '../../../../libs/common/src/schedule/schedule-definitions.js';
import { previewFirings, type SchedulePreview } from './schedule-timing.js';
import {
  TENANT_TIMEZONE,
  type Schedule,
  type ScheduleInput,
  type ScheduleKind,
  type SchedulePatch,
} from './schedule.types.js';
import { SchedulesRepository, type ScheduleAdvance } from './schedules.repository.js';

/** A domain event as the scheduler sees it. */
export interface DomainEvent {
  id: string;
  type: string;
  companyId?: string;
  time?: string;
  data: unknown;
}

export { scheduleInputOf, type ScheduleGuard } from '../../../../libs/common/src/schedule/schedule-definitions.js';

/**
 * Schedules: create, change, remove, pause/resume, enable/disable, preview,
 * manual triggers and event-triggered runs. The admin API calls these.
 */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly schedules: SchedulesRepository,
    private readonly definitions: ScheduleDefinitions,
    private readonly tenants: TenantsRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly enqueuer: JobEnqueuer,
    private readonly publisher: EventPublisher,
    firing: FiringService,
    private readonly clock: Clock,
  ) {
    // A schedule created or changed in this process: claim at once, and listen for a new event type.
    definitions.onChange((s) => {
      // Inside an audited change the claim loop must see the committed schedule: wake it after the commit.
      afterCommit(() => firing.wake());
      this.announce(s);
    });
  }

  private readonly eventTypeWatchers: ((type: string) => void)[] = [];

  /** Called with the event type of every event schedule created or changed in this process. */
  watchEventTypes(watcher: (type: string) => void): void {
    this.eventTypeWatchers.push(watcher);
  }

  private announce(s: Schedule): Schedule {
    if (s.kind === 'event' && s.eventType) for (const w of this.eventTypeWatchers) w(s.eventType);
    return s;
  }

  /** Creates a schedule (ScheduleDefinitions.create). */
  create(input: ScheduleInput, source: 'code' | 'api' = 'api', guard: ScheduleGuard = {}): Promise<Schedule> {
    return this.definitions.create(input, source, guard);
  }

  /** Creates or brings up to date by name; an unchanged definition keeps its cursor (ScheduleDefinitions.upsertByName). */
  upsertByName(input: ScheduleInput, source: 'code' | 'api' = 'code'): Promise<Schedule> {
    return this.definitions.upsertByName(input, source);
  }

  get(ref: string): Promise<Schedule> {
    return this.definitions.get(ref);
  }

  list(filter: { companyId?: string; kind?: ScheduleKind; limit?: number; offset?: number } = {}): Promise<Schedule[]> {
    return this.definitions.list(filter);
  }

  /** A page of schedules by name (SchedulesRepository.pageByName). */
  pageByName(filter: { companyId?: string; visibleTo?: string; after?: string; limit: number }): Promise<Schedule[]> {
    return this.definitions.pageByName(filter);
  }

  /** Changes any part but the name (ScheduleDefinitions.change). */
  change(ref: string, patch: SchedulePatch, guard: Pick<ScheduleGuard, 'check'> = {}): Promise<Schedule> {
    return this.definitions.change(ref, patch, guard);
  }

  remove(ref: string): Promise<void> {
    return this.definitions.remove(ref);
  }

  /** Stops firing; occurrences while paused are handled by the missed-run policy on resume. */
  pause(ref: string): Promise<Schedule> {
    return this.definitions.pause(ref);
  }

  /** Fires again; what was missed while paused follows the schedule's missed-run policy. */
  resume(ref: string): Promise<Schedule> {
    return this.definitions.resume(ref);
  }

  /** Turns a schedule off. */
  disable(ref: string): Promise<Schedule> {
    return this.definitions.disable(ref);
  }

  /** Turns a schedule on again from now: nothing from the disabled time fires. */
  enable(ref: string): Promise<Schedule> {
    return this.definitions.enable(ref);
  }

  /**
   * The next `count` firings at or after `options.from` (default now), with
   * their local times and DST marks. A schedule in tenant time is shown in
   * `options.timezone`, else in the timezone of `options.companyId`, else UTC.
   */
  async previewFirings(ref: string, count = 10, options: { timezone?: string; companyId?: string; from?: Date } = {}): Promise<SchedulePreview & { timezone: string }> {
    const s = await this.get(ref);
    let tz = s.timezone;
    if (tz === TENANT_TIMEZONE) {
      const tenant = options.companyId ? await this.tenants.find(options.companyId) : null;
      tz = options.timezone ?? tenant?.timezone ?? 'UTC';
    }
    const n = Math.max(0, Math.min(1_000, Math.floor(count)));
    const p = previewFirings(s, tz, options.from ?? this.clock.now(), n);
    if (s.maxRuns !== null) p.firings = p.firings.slice(0, Math.max(0, s.maxRuns - s.runCount));
    return { ...p, timezone: tz };
  }

  /** The next `count` fire times (see previewFirings). */
  async preview(ref: string, count = 10, options: { timezone?: string; companyId?: string; from?: Date } = {}): Promise<Date[]> {
    return (await this.previewFirings(ref, count, options)).firings.map((f) => f.at);
  }

  /** A manual run now, with an optional payload replacing the schedule's. One per active tenant for per-tenant schedules. */
  async trigger(ref: string, input: { payload?: Record<string, unknown>; companyId?: string } = {}): Promise<EnqueuedRun[]> {
    const s = await this.get(ref);
    let companies: (string | undefined)[];
    if (input.companyId) companies = [input.companyId];
    else if (s.scope === 'tenant') companies = [s.companyId!];
    else if (s.scope === 'per_tenant') companies = [...(await this.tenants.activeByZone()).values()].flat();
    else companies = [undefined];
    const options = runOptions(s);
    return this.enqueuer.enqueueMany(
      companies.map((companyId) => ({ job: s.job, payload: input.payload ?? s.payload, options: { ...options, companyId, scheduleId: s.id } })),
    );
  }

  /**
   * A domain event arrived: plans one run per matching event schedule (for the
   * event's tenant), idempotently — the run id derives from schedule and event
   * id, so a redelivered event plans nothing new.
   */
  async onEvent(event: DomainEvent): Promise<number> {
    const now = this.clock.now();
    const source = this.publisher.source;
    const inserted = await this.schedules.transaction(async (tx) => {
      const matching = await this.schedules.lockEventSchedules(tx, event.type);
      if (matching.length === 0) return [] as PlannedRun[];
      const runs: PlannedRun[] = [];
      const advances: ScheduleAdvance[] = [];
      for (const s of matching) {
        if (s.scope === 'tenant' && s.companyId !== event.companyId) continue;
        if (s.scope === 'per_tenant' && !event.companyId) continue;
        if (s.maxRuns !== null && s.runCount >= s.maxRuns) continue;
        if (s.startsAt && now < s.startsAt) continue;
        if (s.endsAt && now > s.endsAt) continue;
        const companyId = event.companyId ?? null;
        runs.push(
          planRun({
            source,
            job: s.job,
            payload: { ...s.payload, event: { id: event.id, type: event.type, time: event.time, data: event.data } },
            now,
            runId: occurrenceRunId(s.id, event.id, companyId, 'event'),
            companyId,
            scheduleId: s.id,
            scheduledFor: now,
            options: runOptions(s),
          }),
        );
      }
      const created = await this.outbox.insertRuns(tx, runs);
      const counts = new Map<string, number>();
      for (const r of created) counts.set(r.scheduleId!, (counts.get(r.scheduleId!) ?? 0) + 1);
      for (const [id, fired] of counts) advances.push({ id, nextFireAt: null, zoneCursors: null, fired, lastFireAt: now });
      await this.schedules.advance(tx, advances, now);
      return created;
    });
    await this.relay.publishNow(inserted.map(outboxRowOf));
    return inserted.length;
  }

  /** Event types some schedule listens to. */
  eventTypes(): Promise<string[]> {
    return this.schedules.eventTypes();
  }
}
