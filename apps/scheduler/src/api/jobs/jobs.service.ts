import { Injectable } from '@nestjs/common';
import { JobEnqueuer, PRIORITIES, type EnqueuedRun, type Priority } from '../../../../../libs/common/src/index.js';
import { AuditLog, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { tenantScope, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { problems } from '../../http/problems.js';
import { ControlStore, controlKey, type ControlTarget, type PauseState } from '../control/control.store.js';
import { JobsRepository, type JobRow } from './jobs.repository.js';
import { JobAccess } from '../job-access.js';

export interface JobView extends JobRow {
  status: 'active' | 'paused';
  paused: PauseState | null;
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
  ) {}

  async list(principal: Principal, windowHours = 24, page: { after?: string; limit: number }): Promise<JobView[]> {
    const [rows, control] = await Promise.all([
      this.repository.list(tenantScope(principal), new Date(Date.now() - windowHours * HOUR), undefined, page),
      this.control.all(),
    ]);
    return rows.map((r) => this.view(r, control));
  }

  async get(principal: Principal, job: string, windowHours = 24): Promise<JobView> {
    const [rows, control] = await Promise.all([
      this.repository.list(tenantScope(principal), new Date(Date.now() - windowHours * HOUR), job),
      this.control.all(),
    ]);
    if (!rows[0]) throw problems.notFound(`Job "${job}"`);
    return this.view(rows[0], control);
  }

  private view(r: JobRow, control: Map<string, PauseState>): JobView {
    const paused = control.get(controlKey('job', r.job));
    return { ...r, status: paused?.paused ? 'paused' : 'active', paused: paused?.paused ? paused : null };
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
        priority: body.priority,
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
