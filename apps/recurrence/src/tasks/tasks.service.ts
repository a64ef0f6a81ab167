import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock, EVENT_TYPES, EventPublisher } from '../../../../libs/common/src/index.js';
import { InvalidRecurrenceRuleError, parseRecurrenceRule, type RecurrenceRule } from '../../../../libs/common/src/time/index.js';
import { RecurrenceLimits, TenantLimitError } from '../limits/recurrence-limits.js';
import { MembersRepository } from '../members/members.repository.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import { reminderOffsets } from './task-reminder-plan.js';
import { TaskRemindersService } from './task-reminders.service.js';
import { TasksRepository } from './tasks.repository.js';
import type { KeysetPage, PageRequest } from '../../../../libs/common/src/util/keyset-page.js';
import { occurrencesInHorizon, roundRobin, taskAssignedEventId, taskGeneratedEventId } from './task-plan.js';
import { TemplateNotFoundError, type Assignment, type TaskInstance, type TaskTemplate } from './tasks.types.js';

const DAY = 24 * 3600_000;
const PUBLISH_BATCH = 250;

export interface TemplateInput {
  title: string;
  rule: string;
  timezone?: string;
  startLocal: string;
  exdates?: string[];
  dueOffsetMinutes?: number;
  assignment?: Assignment;
  assigneeUserId?: string | null;
  assigneeRole?: string | null;
  /** ISO 8601 durations before the due time (PT1H, P1D); an invalid one throws RangeError. */
  reminderOffsets?: string[];
}

/** The input that reproduces a template; its timezone only when it has one of its own. */
export function templateInputOf(t: TaskTemplate): TemplateInput {
  return {
    title: t.title,
    rule: t.rule,
    ...(t.zoneFromTenant ? {} : { timezone: t.timezone }),
    startLocal: t.startLocal,
    exdates: t.exdates,
    dueOffsetMinutes: t.dueOffsetMinutes,
    assignment: t.assignment,
    assigneeUserId: t.assigneeUserId,
    assigneeRole: t.assigneeRole,
    reminderOffsets: t.reminderOffsets,
  };
}

/**
 * Recurring task templates and the instances they produce: generation up to
 * the tenant's horizon (unique per template and occurrence, so a rerun adds
 * nothing), assignment, and events published with ids derived from the
 * occurrence so a crash between commit and publish is repaired by the next run.
 */
@Injectable()
export class TasksService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly members: MembersRepository,
    private readonly settings: SettingsRepository,
    private readonly reminders: TaskRemindersService,
    private readonly publisher: EventPublisher,
    private readonly clock: Clock,
    private readonly limits: RecurrenceLimits,
  ) {}

  /** Parses the rule in its zone; throws InvalidRecurrenceRuleError with the reason. */
  compile(t: Pick<TaskTemplate, 'rule' | 'timezone' | 'startLocal' | 'exdates'>): RecurrenceRule {
    return parseRecurrenceRule(t.rule, { timezone: t.timezone, start: t.startLocal, exdates: t.exdates });
  }

  private async resolve(companyId: string, input: TemplateInput, id: string): Promise<Omit<TaskTemplate, 'revision' | 'deletedAt'>> {
    const settings = await this.settings.get(companyId);
    const t = {
      id,
      companyId,
      title: input.title,
      rule: input.rule,
      timezone: input.timezone ?? settings.timezone,
      zoneFromTenant: input.timezone === undefined,
      startLocal: input.startLocal,
      exdates: input.exdates ?? [],
      dueOffsetMinutes: input.dueOffsetMinutes ?? 0,
      assignment: input.assignment ?? 'none',
      assigneeUserId: input.assigneeUserId ?? null,
      assigneeRole: input.assigneeRole ?? null,
      reminderOffsets: reminderOffsets(input.reminderOffsets ?? []).map((o) => o.text),
    };
    // Refuses a start outside the window, a rule, zone or start that cannot work, one that would flood the horizon or take too long to expand.
    const now = this.clock.now();
    this.limits.checkStart(t.rule, t.startLocal, t.timezone, now);
    await occurrencesInHorizon(this.compile(t), now, settings.horizonDays, this.limits.expansion);
    return t;
  }

  async createTemplate(companyId: string, input: TemplateInput): Promise<TaskTemplate> {
    const template = await this.tasks.insertTemplate(await this.resolve(companyId, input, randomUUID()), this.limits.maxTemplates);
    if (!template) throw new TenantLimitError('task templates', this.limits.maxTemplates, 'RECURRENCE_MAX_TEMPLATES_PER_TENANT');
    await this.generateTemplate(template);
    return template;
  }

  /** Future instances nobody started are replaced; past and started ones stay as they were. */
  async changeTemplate(companyId: string, id: string, input: TemplateInput): Promise<TaskTemplate> {
    const existing = await this.tasks.getTemplate(companyId, id);
    if (!existing) throw new TemplateNotFoundError(id);
    const next = await this.resolve(companyId, input, id);
    const changed = await this.tasks.transaction(async (tx) => {
      await this.tasks.getTemplate(companyId, id, tx, true);
      // The replaced instances' reminders go with them; the regenerated ones get their own.
      await this.reminders.cancelForTasks(companyId, await this.tasks.dropFutureOpen(tx, companyId, id, this.clock.now(), 'delete'), tx);
      return this.tasks.updateTemplate({ ...next, revision: existing.revision, deletedAt: null }, tx);
    });
    await this.generateTemplate(changed);
    return changed;
  }

  /**
   * The tenant's timezone changed: every template without a timezone of its own
   * is re-expanded in the new one, as an edit would (future instances nobody
   * started are replaced). Returns how many templates moved.
   */
  async followTenantZone(companyId: string, timezone: string): Promise<number> {
    let moved = 0;
    for (const t of await this.tasks.listTemplates(companyId)) {
      if (!t.zoneFromTenant || t.timezone === timezone) continue;
      await this.changeTemplate(companyId, t.id, templateInputOf(t));
      moved++;
    }
    return moved;
  }

  async deleteTemplate(companyId: string, id: string): Promise<void> {
    // One transaction: a crash can never leave a deleted template with open future instances.
    await this.tasks.transaction(async (tx) => {
      if (!(await this.tasks.markTemplateDeleted(companyId, id, tx))) throw new TemplateNotFoundError(id);
      await this.reminders.cancelForTasks(companyId, await this.tasks.dropFutureOpen(tx, companyId, id, this.clock.now(), 'cancel'), tx);
    });
  }

  getTemplate(companyId: string, id: string): Promise<TaskTemplate | undefined> {
    return this.tasks.getTemplate(companyId, id);
  }

  listTemplates(companyId: string, page: PageRequest): Promise<KeysetPage<TaskTemplate>> {
    return this.tasks.pageTemplates(companyId, page);
  }

  listInstances(companyId: string, filter: { from?: Date; to?: Date; templateId?: string }, page: PageRequest): Promise<KeysetPage<TaskInstance>> {
    return this.tasks.listInstances(companyId, filter, page);
  }

  /**
   * Moves an instance to a status and publishes task.status_changed (the notifier
   * tells the assignee unless they made the change). Unchanged status: nothing
   * published. If the publish fails the previous status is restored, so the
   * caller's retry changes and announces it again. Answers the instance and the status it had before.
   */
  async setStatus(companyId: string, id: string, status: TaskInstance['status'], changedBy: string): Promise<{ instance: TaskInstance; previous: TaskInstance['status'] } | undefined> {
    const changed = await this.tasks.setStatus(companyId, id, status);
    if (!changed || changed.previous === status) return changed;
    const i = changed.instance;
    await this.rescheduleReminders(i, changed.previous);
    try {
      await this.publisher.publishEvent(EVENT_TYPES.taskStatusChanged, companyId, {
        taskId: i.id, templateId: i.templateId, status, previousStatus: changed.previous, assigneeUserId: i.assigneeUserId, changedBy, title: i.title,
      });
    } catch (e) {
      await this.tasks.restoreStatus(companyId, id, status, changed.previous);
      throw e;
    }
    return changed;
  }

  /** A finished task's reminders are cancelled; a reopened one's still ahead are planned again. */
  private async rescheduleReminders(i: TaskInstance, previous: TaskInstance['status']): Promise<void> {
    const live = (s: TaskInstance['status']) => s === 'open' || s === 'started';
    if (!live(i.status)) {
      await this.reminders.cancelForTasks(i.companyId, [i.id]);
      return;
    }
    if (live(previous)) return;
    const template = await this.tasks.getTemplate(i.companyId, i.templateId);
    if (!template) return;
    const publish = await this.tasks.transaction((tx) => this.reminders.planFor(tx, template, [{ id: i.id, dueAt: i.dueAt }]));
    await publish();
  }

  remindersOf(companyId: string, taskId: string) {
    return this.reminders.ofTask(companyId, taskId);
  }

  /** The recurrence.generate job: every template of the tenant up to its horizon. */
  async generateForTenant(companyId: string, horizonDays?: number): Promise<{ created: number; skipped: string[] }> {
    let created = 0;
    const skipped: string[] = [];
    for (const template of await this.tasks.activeTemplates(companyId)) {
      try {
        created += await this.generateTemplate(template, horizonDays, false);
      } catch (e) {
        // One template whose rule floods a longer horizon must not stop the tenant's others.
        if (!(e instanceof InvalidRecurrenceRuleError)) throw e;
        skipped.push(`${template.id}: ${e.message}`);
      }
    }
    await this.publishPending(companyId);
    return { created, skipped };
  }

  private async generateTemplate(template: TaskTemplate, horizonDays?: number, publish = true): Promise<number> {
    const horizon = horizonDays ?? (await this.settings.get(template.companyId)).horizonDays;
    const { created, publishReminders } = await this.tasks.transaction(async (tx) => {
      // Expanded from the locked row, so a concurrent edit never pairs the old rule with the new revision.
      const locked = await this.tasks.getTemplate(template.companyId, template.id, tx, true);
      if (!locked) return { created: 0, publishReminders: async () => {} };
      const occurrences = await occurrencesInHorizon(this.compile(locked), this.clock.now(), horizon, this.limits.expansion);
      const fresh = await this.tasks.insertInstances(
        tx,
        locked,
        occurrences.map((o) => ({ id: randomUUID(), occurrenceAt: o, dueAt: new Date(o.getTime() + locked.dueOffsetMinutes * 60_000) })),
      );
      await this.tasks.assign(tx, fresh.map((f) => f.id), await this.assignees(tx, locked, fresh.length));
      // Reminders and their one-off jobs commit with the instances they are for.
      return { created: fresh.length, publishReminders: await this.reminders.planFor(tx, locked, fresh) };
    });
    await publishReminders();
    if (publish) await this.publishPending(template.companyId);
    return created;
  }

  private async assignees(tx: Parameters<TasksRepository['advanceCursor']>[0], t: TaskTemplate, n: number): Promise<(string | null)[]> {
    if (n === 0) return [];
    if (t.assignment === 'fixed') return Array(n).fill(t.assigneeUserId);
    if (t.assignment !== 'round_robin' || !t.assigneeRole) return Array(n).fill(null);
    const pool = await this.members.withRole(t.companyId, t.assigneeRole);
    if (pool.length === 0) return Array(n).fill(null);
    return roundRobin(pool, await this.tasks.advanceCursor(tx, t.id, n), n);
  }

  /** Publishes task.generated (and task.assigned) for every instance not yet announced. */
  async publishPending(companyId: string): Promise<void> {
    const pending = await this.tasks.unpublished(companyId);
    // In batches: thousands of publishes started at once would hold the event loop (and /healthz) while they are encoded.
    for (let at = 0; at < pending.length; at += PUBLISH_BATCH) await Promise.all(pending.slice(at, at + PUBLISH_BATCH).map(async (i) => {
      const occurrence = i.occurrenceAt.toISOString();
      const data = { taskId: i.id, templateId: i.templateId, title: i.title, occurrenceAt: occurrence, dueAt: i.dueAt.toISOString(), assigneeUserId: i.assigneeUserId };
      await this.publisher.publishEvent(EVENT_TYPES.taskGenerated, companyId, data, { id: taskGeneratedEventId(i.templateId, i.occurrenceAt, i.templateRevision) });
      if (i.assigneeUserId) {
        await this.publisher.publishEvent(EVENT_TYPES.taskAssigned, companyId, data, { id: taskAssignedEventId(i.id, i.assigneeUserId) });
      }
    }));
    await this.tasks.markPublished(pending.map((i) => i.id));
  }

  async cleanup(companyId: string): Promise<number> {
    const { cleanupAfterDays } = await this.settings.get(companyId);
    if (!cleanupAfterDays) return 0;
    const before = new Date(this.clock.now().getTime() - cleanupAfterDays * DAY);
    return (await this.tasks.deleteFinishedBefore(companyId, before)) + (await this.reminders.deleteFinishedBefore(companyId, before));
  }
}
