import { Injectable } from '@nestjs/common';
import { JobCatalog, JobEnqueuer, LiveRuns, PRIORITIES, type EnqueuedRun, type JobDeclaration, type Priority } from '../../../../../libs/common/src/index.js';
import { AuditLog, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { can, tenantScope, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { problems } from '../../http/problems.js';
import { ControlStore, controlKey, type ControlTarget, type PauseState } from '../control/control.store.js';
import { JobsRepository, type JobRow } from './jobs.repository.js';
import { JobAccess } from '../job-access.js';

/** What a service's handler declares about the job (the job catalog), as the list shows it. */
export type JobDeclarationView = Pick<JobDeclaration, 'service' | 'platform' | 'tenantSchedulable' | 'priority' | 'maxAttempts' | 'timeoutMs' | 'concurrency' | 'announcedAt'>;

export interface JobView extends JobRow {
  status: 'active' | 'paused';
  paused: PauseState | null;
  /** Null: no running service declared it (seen only in schedules or history). */
  declaration: JobDeclarationView | null;
  /** Whether this caller may trigger it (POST /api/v1/jobs/{job}/trigger). */
  triggerable: boolean;
}

export interface QueueView {
  name: Priority;
  status: 'active' | 'paused';
  paused: PauseState | null;
}

const HOUR = 3_600_000;

/** Jobs and queues: status, last and next run, counts, trigger, pause and resume. */
@Injectable()
export class JobsService {
  constructor(
    private readonly repository: JobsRepository,
    private readonly control: ControlStore,
    private readonly enqueuer: JobEnqueuer,
    private readonly audit: AuditLog,
    private readonly access: JobAccess,
    private readonly catalog: JobCatalog,
    private readonly live: LiveRuns,
  ) {}

  /**
   * Every job a running service declared (the job catalog: so a handler with no
   * schedule and no recent run is listed and can be triggered) and every job
   * seen in schedules or over the window in history, with counts from the
   * history rollup and live ones: running from the workers' heartbeats, queued
   * from JetStream (platform callers; tenants see their planned runs).
   * Tenant roles are not shown platform jobs they have no schedule or run of.
   */
  async list(principal: Principal, windowHours = 24, page: { after?: string; limit: number }): Promise<JobView[]> {
    const scope = tenantScope(principal);
    const declared = this.catalog.all().filter((d) => scope === null || !d.platform).map((d) => d.job);
    const [rows, control, live] = await Promise.all([
      this.repository.list(scope, new Date(Date.now() - windowHours * HOUR), undefined, page, declared),
      this.control.all(),
      this.liveCounts(scope),
    ]);
    return rows.map((r) => this.view(principal, r, control, live));
  }

  async get(principal: Principal, job: string, windowHours = 24): Promise<JobView> {
    const scope = tenantScope(principal);
    const d = this.catalog.get(job);
    const declared = d && (scope === null || !d.platform) ? [job] : [];
    const [rows, control, live] = await Promise.all([
      this.repository.list(scope, new Date(Date.now() - windowHours * HOUR), job, { limit: 1 }, declared),
      this.control.all(),
      this.liveCounts(scope, job),
    ]);
    if (!rows[0]) throw problems.notFound(`Job "${job}"`);
    return this.view(principal, rows[0], control, live);
  }

  /** Running attempts per job (heartbeats, the caller's tenant only) and, for platform callers, waiting jobs per job (JOBS subjects, LiveRuns.depth). */
  private async liveCounts(scope: string | null, job?: string): Promise<{ running: Map<string, number>; waiting: Map<string, number> | null }> {
    const running = new Map<string, number>();
    const waiting = scope === null ? new Map<string, number>() : null;
    const [runs, depth] = await Promise.all([
      this.live.running({ job, companyId: scope }).catch(() => []),
      waiting ? this.live.depth().catch(() => ({}) as Record<string, number>) : Promise.resolve({} as Record<string, number>),
    ]);
    for (const r of runs) running.set(r.job, (running.get(r.job) ?? 0) + 1);
    for (const [subject, n] of Object.entries(depth)) {
      const name = subject.split('.').slice(2).join('.');
      if (!job || name === job) waiting!.set(name, (waiting!.get(name) ?? 0) + n);
    }
    return { running, waiting };
  }

  private view(principal: Principal, r: JobRow, control: Map<string, PauseState>, live: { running: Map<string, number>; waiting: Map<string, number> | null }): JobView {
    const paused = control.get(controlKey('job', r.job));
    const d = this.catalog.get(r.job);
    const counts = { ...r.counts };
    const running = live.running.get(r.job) ?? 0;
    if (running) counts.running = running;
    // JOBS holds every job message not yet acked: the running ones too.
    const waiting = live.waiting ? Math.max(0, (live.waiting.get(r.job) ?? 0) - running) : undefined;
    if (waiting !== undefined) {
      if (waiting) counts.queued = waiting;
      else delete counts.queued;
    }
    return {
      ...r,
      counts,
      status: paused?.paused ? 'paused' : 'active',
      paused: paused?.paused ? paused : null,
      declaration: d
        ? { service: d.service, platform: d.platform, tenantSchedulable: d.tenantSchedulable, priority: d.priority, maxAttempts: d.maxAttempts, timeoutMs: d.timeoutMs,
            ...(d.concurrency !== undefined ? { concurrency: d.concurrency } : {}), announcedAt: d.announcedAt }
        : null,
      triggerable: can(principal, 'write') && this.access.refusal(principal, r.job, 'trigger') === null,
    };
  }

  /** Runs the job now (or after delayMs) for one tenant, or platform-wide for platform callers. */
  async trigger(
    ctx: AuditContext,
    job: string,
    body: { payload?: Record<string, unknown>; companyId?: string; priority?: Priority; delayMs?: number; idempotencyKey?: string },
  ): Promise<EnqueuedRun> {
    return this.audit.transaction(ctx, async (record) => {
      this.access.assert(ctx.principal, job, 'trigger');
      // 404 unless the job exists for the caller: declared by a service, or seen in its schedules and runs.
      if (!this.access.declared(job)) await this.get(ctx.principal, job);
      const companyId = body.companyId;
      const run = await this.enqueuer.enqueue(job, body.payload ?? {}, {
        companyId,
        // Unless the caller chose, the priority its handler declares.
        priority: body.priority ?? this.catalog.get(job)?.priority,
        delayMs: body.delayMs,
        idempotencyKey: body.idempotencyKey,
      });
      await record({ action: 'job.trigger', targetType: 'job', targetId: job, companyId: companyId ?? null, after: { ...run, payload: body.payload ?? {} } });
      return run;
    });
  }

  async queues(): Promise<QueueView[]> {
    const control = await this.control.all();
    return PRIORITIES.map((name) => {
      const p = control.get(controlKey('queue', name));
      return { name, status: p?.paused ? 'paused' : 'active', paused: p?.paused ? p : null };
    });
  }

  async setPaused(ctx: AuditContext, target: ControlTarget, name: string, paused: boolean, reason?: string): Promise<PauseState> {
    return this.audit.transaction(ctx, async (record) => {
      if (target === 'queue' && !(PRIORITIES as readonly string[]).includes(name)) throw problems.notFound(`Queue "${name}"`);
      if (target === 'job') await this.get(ctx.principal, name);
      const before = await this.control.get(target, name);
      if ((before?.paused ?? false) === paused) throw problems.conflict(`${target} "${name}" is already ${paused ? 'paused' : 'running'}`);
      const state: PauseState = { paused, by: ctx.principal.id, at: new Date().toISOString(), ...(reason ? { reason } : {}) };
      await this.control.set(target, name, state);
      await record({ action: `${target}.${paused ? 'pause' : 'resume'}`, targetType: target, targetId: name, before, after: state });
      return state;
    });
  }
}
