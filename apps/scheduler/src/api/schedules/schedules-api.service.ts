import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../../../libs/common/src/index.js';
import { InvalidCronError, InvalidTimezoneError } from '../../../../../libs/common/src/time/index.js';
import { AuditLog, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { can, tenantScope, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { problems } from '../../http/problems.js';
import { draftSchedule, preview, previewFirings, shortestPeriodMs, type SchedulePreview } from '../../schedules/schedule-timing.js';
import { ScheduleLimitError, ScheduleNotFoundError, ScheduleValidationError, type Schedule, type ScheduleInput, type SchedulePatch } from '../../schedules/schedule.types.js';
import { SchedulesService, type ScheduleGuard } from '../../schedules/schedules.service.js';
import type { PreviewBody, PreviewQuery, ScheduleCreateBody, SchedulePatchBody } from '../dto/api.dto.js';
import { JobAccess } from '../job-access.js';

/** Turns the schedule service's typed errors into problems; anything else propagates (500 without internals). */
async function mapped<T>(work: () => Promise<T>, ref?: string): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof ScheduleValidationError) throw problems.unprocessable('The schedule is invalid', e.problems);
    if (e instanceof ScheduleNotFoundError) throw problems.notFound(`Schedule "${ref ?? e.ref}"`);
    if (e instanceof ScheduleLimitError) throw problems.conflict(e.message);
    if (e instanceof InvalidCronError || e instanceof InvalidTimezoneError) throw problems.unprocessable(e.message, [e.message]);
    if ((e as { code?: string }).code === '23505') throw problems.conflict('A schedule with that name already exists');
    throw e;
  }
}

function inputOf(body: SchedulePatchBody): SchedulePatch {
  const { every, ...rest } = body;
  const out: SchedulePatch = { ...rest, backoff: body.backoff ? { jitter: 0, ...body.backoff } as SchedulePatch['backoff'] : undefined };
  if (every !== undefined) out.every = /^\d+$/.test(every) ? Number(every) : every;
  for (const k of Object.keys(out) as (keyof SchedulePatch)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** The admin API over SchedulesService: tenant scoping, problems, audit. */
@Injectable()
export class SchedulesApiService {
  constructor(
    private readonly schedules: SchedulesService,
    private readonly audit: AuditLog,
    private readonly access: JobAccess,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The limits a caller's schedules keep: at most SCHEDULES_MAX_PER_TENANT per
   * tenant, and, for callers without the platform permission, no period
   * shorter than SCHEDULE_MIN_INTERVAL_MS.
   */
  private guard(p: Principal): ScheduleGuard {
    const min = this.config.schedules.minIntervalMs;
    return {
      maxPerTenant: this.config.schedules.maxPerTenant,
      check: can(p, 'platform') ? undefined : (draft, now) => {
        const period = shortestPeriodMs(draft, now);
        if (period !== null && period < min) {
          const field = draft.kind === 'cron' ? 'cron' : 'every';
          throw new ScheduleValidationError([`${field}: fires every ${period / 1000} s; the shortest period allowed is ${min / 1000} s (SCHEDULE_MIN_INTERVAL_MS)`]);
        }
      },
    };
  }

  /** Tenant callers see their tenant's schedules and the per-tenant ones that run for them. */
  private visible(p: Principal, s: Schedule): boolean {
    const own = tenantScope(p);
    return own === null || s.scope === 'per_tenant' || (s.scope === 'tenant' && s.companyId === own);
  }

  /** Schedules from code (a tenant's expiry scan, say) are the platform's: tenant callers change them through their settings. */
  private writable(p: Principal, s: Schedule): boolean {
    const own = tenantScope(p);
    return own === null || (s.scope === 'tenant' && s.companyId === own && s.source !== 'code');
  }

  /** Schedules by name after `page.after`, at most `page.limit`; tenant callers: theirs and the per-tenant ones. */
  async list(p: Principal, companyId: string | undefined, page: { after?: string; limit: number }): Promise<Schedule[]> {
    const own = tenantScope(p);
    if (own === null) return this.schedules.pageByName({ companyId, ...page });
    if (companyId && companyId !== own) return [];
    return this.schedules.pageByName({ visibleTo: own, ...page });
  }

  async get(p: Principal, ref: string): Promise<Schedule> {
    const s = await mapped(() => this.schedules.get(ref), ref);
    if (!this.visible(p, s)) throw problems.notFound(`Schedule "${ref}"`);
    return s;
  }

  private async getWritable(p: Principal, ref: string): Promise<Schedule> {
    const s = await this.get(p, ref);
    if (!this.writable(p, s)) throw problems.forbidden('Only platform administrators change schedules shared by every tenant or declared by the platform');
    return s;
  }

  async create(ctx: AuditContext, body: ScheduleCreateBody): Promise<Schedule> {
    return this.audit.transaction(ctx, async (record) => {
      const own = tenantScope(ctx.principal);
      const input = { ...inputOf(body), name: body.name, kind: body.kind, job: body.job } as ScheduleInput;
      if (own !== null) {
        if (input.scope && input.scope !== 'tenant') throw problems.forbidden('Tenant administrators create schedules of scope "tenant" only');
        if (input.companyId && input.companyId !== own) throw problems.notFound('Tenant');
        input.scope = 'tenant';
        input.companyId = own;
      }
      this.access.assert(ctx.principal, input.job, 'schedule');
      const created = await mapped(() => this.schedules.create(input, 'api', this.guard(ctx.principal)));
      await record({ action: 'schedule.create', targetType: 'schedule', targetId: created.id, companyId: created.companyId, after: created });
      return created;
    });
  }

  async change(ctx: AuditContext, ref: string, body: SchedulePatchBody): Promise<Schedule> {
    return this.audit.transaction(ctx, async (record) => {
      const before = await this.getWritable(ctx.principal, ref);
      const patch = inputOf(body);
      const own = tenantScope(ctx.principal);
      if (own !== null) {
        if (patch.scope && patch.scope !== 'tenant') throw problems.forbidden('Tenant administrators keep schedules of scope "tenant"');
        if (patch.companyId && patch.companyId !== own) throw problems.notFound('Tenant');
      }
      // Any change re-arms the schedule (payload, timing): the caller must be allowed its job.
      this.access.assert(ctx.principal, patch.job ?? before.job, 'schedule');
      const after = await mapped(() => this.schedules.change(before.id, patch, this.guard(ctx.principal)), ref);
      await record({ action: 'schedule.change', targetType: 'schedule', targetId: before.id, companyId: before.companyId, before, after });
      return after;
    });
  }

  async remove(ctx: AuditContext, ref: string): Promise<void> {
    return this.audit.transaction(ctx, async (record) => {
      const before = await this.getWritable(ctx.principal, ref);
      await mapped(() => this.schedules.remove(before.id), ref);
      await record({ action: 'schedule.delete', targetType: 'schedule', targetId: before.id, companyId: before.companyId, before });
    });
  }

  async setPaused(ctx: AuditContext, ref: string, paused: boolean): Promise<Schedule> {
    return this.audit.transaction(ctx, async (record) => {
      const before = await this.getWritable(ctx.principal, ref);
      if (before.paused === paused) throw problems.conflict(`Schedule "${ref}" is already ${paused ? 'paused' : 'running'}`);
      if (!paused) this.access.assert(ctx.principal, before.job, 'schedule');
      const after = await mapped(() => (paused ? this.schedules.pause(before.id) : this.schedules.resume(before.id)), ref);
      await record({ action: paused ? 'schedule.pause' : 'schedule.resume', targetType: 'schedule', targetId: before.id, companyId: before.companyId, before: { paused: before.paused }, after: { paused: after.paused } });
      return after;
    });
  }

  async trigger(ctx: AuditContext, ref: string, body: { payload?: Record<string, unknown>; companyId?: string }) {
    return this.audit.transaction(ctx, async (record) => {
      const s = await this.get(ctx.principal, ref);
      const own = tenantScope(ctx.principal);
      if (own !== null && body.companyId && body.companyId !== own) throw problems.notFound('Tenant');
      this.access.assert(ctx.principal, s.job, 'trigger');
      const companyId = own ?? body.companyId;
      const runs = await mapped(() => this.schedules.trigger(s.id, { payload: body.payload, companyId }), ref);
      await record({ action: 'schedule.trigger', targetType: 'schedule', targetId: s.id, companyId: companyId ?? s.companyId, after: { runs, payload: body.payload ?? null } });
      return { runs };
    });
  }

  async previewOf(p: Principal, ref: string, q: PreviewQuery): Promise<PreviewResponse> {
    const s = await this.get(p, ref);
    const own = tenantScope(p);
    const from = q.from ? new Date(q.from) : new Date();
    const r = await mapped(() => this.schedules.previewFirings(s.id, q.count ?? 10, { timezone: q.timezone, companyId: own ?? s.companyId ?? undefined, from }), ref);
    return previewResponse(r.timezone, from, r);
  }

  /** Validates a cron expression or interval in a timezone and returns its firings from `from` (422 listing what is wrong). */
  previewDraft(body: PreviewBody): PreviewResponse {
    const now = new Date();
    const from = body.from ? new Date(body.from) : now;
    const timezone = body.timezone ?? 'UTC';
    const kind = body.kind ?? 'cron';
    try {
      const draft = draftSchedule({
        name: 'preview', job: 'preview', kind, timezone,
        ...(kind === 'cron' ? { cron: body.cron } : { every: body.every && /^\d+$/.test(body.every) ? Number(body.every) : body.every }),
      }, now);
      return previewResponse(timezone, from, previewFirings({ ...draft, createdAt: now }, timezone, from, body.count ?? 10));
    } catch (e) {
      if (e instanceof ScheduleValidationError) throw problems.unprocessable('The schedule is invalid', e.problems);
      throw e;
    }
  }
}

export interface PreviewResponse extends SchedulePreview {
  timezone: string;
  from: Date;
  /** The firing instants alone (what `firings[].at` holds). */
  next: Date[];
}

function previewResponse(timezone: string, from: Date, p: SchedulePreview): PreviewResponse {
  return { timezone, from, policy: p.policy, next: p.firings.map((f) => f.at), firings: p.firings, skipped: p.skipped, nextTransition: p.nextTransition };
}
