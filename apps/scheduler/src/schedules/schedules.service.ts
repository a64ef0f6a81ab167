import { randomUUID } from 'node:crypto';
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
import { draftSchedule, firstFireAt, previewFirings, type ScheduleDraft, type SchedulePreview } from './schedule-timing.js';
import {
  ScheduleLimitError,
  ScheduleNotFoundError,
  ScheduleValidationError,
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

/** Limits an API caller's schedule must keep (the admin API sets them per caller). */
export interface ScheduleGuard {
  /** Throws (ScheduleValidationError: 422) to refuse the validated draft. */
  check?: (draft: ScheduleDraft, now: Date) => void;
  /** A tenant's schedules beyond this many are refused (ScheduleLimitError: 409). */
  maxPerTenant?: number;
}

/** The input that reproduces a stored schedule (for changes and comparisons). */
export function scheduleInputOf(s: Schedule): ScheduleInput {
  const input: ScheduleInput = {
    name: s.name,
    kind: s.kind,
    job: s.job,
    timezone: s.timezone,
    scope: s.scope,
    payload: s.payload,
    priority: s.options.priority,
    maxAttempts: s.options.maxAttempts,
    missedPolicy: s.missedPolicy,
    maxCatchUp: s.maxCatchUp,
    enabled: s.enabled,
  };
  if (s.cron !== null) input.cron = s.cron;
  if (s.intervalMs !== null) input.every = s.intervalMs;
  if (s.runAt !== null) input.runAt = s.runAt;
  if (s.eventType !== null) input.eventType = s.eventType;
  if (s.companyId !== null) input.companyId = s.companyId;
  if (s.options.backoff) input.backoff = s.options.backoff;
  if (s.options.timeoutMs !== null) input.timeoutMs = s.options.timeoutMs;
  if (s.options.concurrency !== null) input.concurrency = s.options.concurrency;
  if (s.startsAt !== null) input.startsAt = s.startsAt;
  if (s.endsAt !== null) input.endsAt = s.endsAt;
  if (s.maxRuns !== null) input.maxRuns = s.maxRuns;
  if (s.description !== null) input.description = s.description;
  return input;
}

const TIMING_KEYS: (keyof ScheduleDraft)[] = ['kind', 'cron', 'intervalMs', 'runAt', 'timezone', 'scope', 'companyId', 'startsAt', 'endsAt'];

function sameValue(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v instanceof Date ? v.toISOString() : v);
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

function differs(a: ScheduleDraft, b: ScheduleDraft, keys: (keyof ScheduleDraft)[]): boolean {
  return keys.some((k) => !sameValue(a[k], b[k]));
}

/**
 * Schedules: create, change, remove, pause/resume, enable/disable, preview,
 * manual triggers and event-triggered runs. The admin API calls these.
 */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly schedules: SchedulesRepository,
    private readonly tenants: TenantsRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly enqueuer: JobEnqueuer,
    private readonly publisher: EventPublisher,
    private readonly firing: FiringService,
    private readonly clock: Clock,
  ) {}

  private readonly eventTypeWatchers: ((type: string) => void)[] = [];

  /** Called with the event type of every event schedule created or changed in this process. */
  watchEventTypes(watcher: (type: string) => void): void {
    this.eventTypeWatchers.push(watcher);
  }

  private announce(s: Schedule): Schedule {
    if (s.kind === 'event' && s.eventType) for (const w of this.eventTypeWatchers) w(s.eventType);
    return s;
  }

  /** The first fire instant of a (re)defined schedule; tenant-time schedules place their cursors at the next claim. */
  private initialFireAt(d: ScheduleDraft, createdAt: Date, now: Date): Date | null {
    if (d.timezone === TENANT_TIMEZONE) return d.kind === 'cron' || d.kind === 'interval' ? now : null;
    return firstFireAt({ ...d, createdAt }, d.timezone, now);
  }

  /**
   * Creates a schedule. With `guard`, the validated draft is checked first
   * (`check` throws to refuse it) and a tenant's schedule is refused with
   * ScheduleLimitError once the tenant has `maxPerTenant`.
   */
  async create(input: ScheduleInput, source: 'code' | 'api' = 'api', guard: ScheduleGuard = {}): Promise<Schedule> {
    const now = this.clock.now();
    const draft = draftSchedule(input, now);
    guard.check?.(draft, now);
    if (await this.schedules.findByName(draft.name)) throw new ScheduleValidationError([`name: a schedule named "${draft.name}" already exists`]);
    const id = randomUUID();
    const nextFireAt = this.initialFireAt(draft, now, now);
    let created: Schedule | null;
    if (guard.maxPerTenant !== undefined && draft.companyId) {
      created = await this.schedules.insertCapped(id, { ...draft, companyId: draft.companyId }, source, now, nextFireAt, guard.maxPerTenant);
      if (!created) throw new ScheduleLimitError(draft.companyId, guard.maxPerTenant);
    } else created = await this.schedules.insert(id, draft, source, now, nextFireAt);
    afterCommit(() => this.firing.wake());
    return this.announce(created);
  }

  /**
   * Creates the schedule, or brings an existing one with that name up to date.
   * An unchanged definition keeps its cursor, so restarts neither re-fire nor
   * lose occurrences; a one-off registered with a delay keeps its first instant.
   */
  async upsertByName(input: ScheduleInput, source: 'code' | 'api' = 'code'): Promise<Schedule> {
    const existing = await this.schedules.findByName(input.name);
    if (!existing) {
      try {
        return await this.create(input, source);
      } catch (e) {
        // Another replica registered it at the same moment.
        const now = await this.schedules.findByName(input.name);
        if (now) return now;
        throw e;
      }
    }
    const now = this.clock.now();
    let wanted: ScheduleInput = input.kind === 'once' && input.delayMs !== undefined && existing.kind === 'once'
      ? { ...input, delayMs: undefined, runAt: existing.runAt ?? undefined }
      : input;
    // An operator's disable survives restarts unless the code says otherwise.
    if (wanted.enabled === undefined) wanted = { ...wanted, enabled: existing.enabled };
    const draft = draftSchedule(wanted, now);
    const current = draftSchedule(scheduleInputOf(existing), now);
    if (!differs(draft, current, Object.keys(draft) as (keyof ScheduleDraft)[])) return existing;
    return this.applyDraft(existing, draft, now, source);
  }

  async get(ref: string): Promise<Schedule> {
    const s = (await this.schedules.findById(ref)) ?? (await this.schedules.findByName(ref));
    if (!s) throw new ScheduleNotFoundError(ref);
    return s;
  }

  list(filter: { companyId?: string; kind?: ScheduleKind; limit?: number; offset?: number } = {}): Promise<Schedule[]> {
    return this.schedules.list(filter);
  }

  /** A page of schedules by name (SchedulesRepository.pageByName). */
  pageByName(filter: { companyId?: string; visibleTo?: string; after?: string; limit: number }): Promise<Schedule[]> {
    return this.schedules.pageByName(filter);
  }

  /** Changes any part but the name. A timing change recomputes the next fire time from now. `guard.check` may refuse the result. */
  async change(ref: string, patch: SchedulePatch, guard: Pick<ScheduleGuard, 'check'> = {}): Promise<Schedule> {
    const existing = await this.get(ref);
    const now = this.clock.now();
    const merged: ScheduleInput = { ...scheduleInputOf(existing), ...patch, name: existing.name };
    if (patch.kind && patch.kind !== existing.kind) {
      for (const k of ['cron', 'every', 'runAt', 'eventType'] as const) if (!(k in patch)) delete merged[k];
    }
    if ('delayMs' in patch) delete merged.runAt;
    const draft = draftSchedule(merged, now);
    guard.check?.(draft, now);
    return this.applyDraft(existing, draft, now);
  }

  private async applyDraft(existing: Schedule, draft: ScheduleDraft, now: Date, source?: 'code' | 'api'): Promise<Schedule> {
    const current = draftSchedule(scheduleInputOf(existing), now);
    const timingChanged = differs(draft, current, TIMING_KEYS);
    const nextFireAt = timingChanged ? this.initialFireAt(draft, existing.createdAt, now) : existing.nextFireAt;
    const updated = await this.schedules.replace(existing.id, draft, { nextFireAt, resetCursors: timingChanged, updatedAt: now, source });
    afterCommit(() => this.firing.wake());
    return this.announce(updated);
  }

  async remove(ref: string): Promise<void> {
    const s = await this.get(ref);
    await this.schedules.delete(s.id);
  }

  /** Stops firing; occurrences while paused are handled by the missed-run policy on resume. */
  async pause(ref: string): Promise<Schedule> {
    const s = await this.get(ref);
    return (await this.schedules.setState(s.id, { paused: true }, this.clock.now()))!;
  }

  /** Fires again; what was missed while paused follows the schedule's missed-run policy. */
  async resume(ref: string): Promise<Schedule> {
    const s = await this.get(ref);
    const updated = (await this.schedules.setState(s.id, { paused: false }, this.clock.now()))!;
    afterCommit(() => this.firing.wake());
    return updated;
  }

  /** Turns a schedule off. */
  async disable(ref: string): Promise<Schedule> {
    const s = await this.get(ref);
    return (await this.schedules.setState(s.id, { enabled: false }, this.clock.now()))!;
  }

  /** Turns a schedule on again from now: nothing from the disabled time fires. */
  async enable(ref: string): Promise<Schedule> {
    const s = await this.get(ref);
    const now = this.clock.now();
    const nextFireAt = s.kind === 'once' ? s.runAt && s.runCount === 0 ? s.runAt : null : this.initialFireAt(draftSchedule(scheduleInputOf(s), now), s.createdAt, now);
    const updated = (await this.schedules.setState(s.id, { enabled: true, nextFireAt, resetCursors: true }, now))!;
    afterCommit(() => this.firing.wake());
    return updated;
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
