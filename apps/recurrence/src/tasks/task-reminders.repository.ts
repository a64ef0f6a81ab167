import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PlannedTaskReminder } from './task-reminder-plan.js';

/** TypeORM's postgres driver answers UPDATE/DELETE … RETURNING with [rows, rowCount]; INSERT with rows. */
function returned<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

export interface TaskReminder extends PlannedTaskReminder {
  plan: number;
  state: 'planned' | 'sent' | 'cancelled';
  sentAt: Date | null;
}

/** A reminder claimed for sending, with what the assignee is told. */
export interface ClaimedTaskReminder extends TaskReminder {
  templateId: string;
  title: string;
  assigneeUserId: string | null;
}

type Row = Record<string, unknown>;
const toReminder = (r: Row): TaskReminder => ({
  id: r.id as string,
  companyId: r.company_id as string,
  taskId: r.task_id as string,
  offsetText: r.offset_text as string,
  offsetMs: Number(r.offset_ms),
  taskDueAt: r.task_due_at as Date,
  dueAt: r.due_at as Date,
  plan: r.plan as number,
  state: r.state as TaskReminder['state'],
  sentAt: r.sent_at as Date | null,
});

/** The only file touching task_reminders. */
@Injectable()
export class TaskRemindersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Plans reminders; returns those that need a job: new ones, and ones
   * cancelled before or planned for another due time (their plan counter goes
   * up, so the job of the earlier plan sends nothing). A reminder already sent
   * for the same due time is not planned again.
   */
  async plan(tx: EntityManager, rows: PlannedTaskReminder[]): Promise<TaskReminder[]> {
    if (rows.length === 0) return [];
    const out: Row[] = await tx.query(
      `INSERT INTO task_reminders (id, company_id, task_id, offset_text, offset_ms, task_due_at, due_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::bigint[], $6::timestamptz[], $7::timestamptz[])
       ON CONFLICT (id) DO UPDATE SET task_due_at = EXCLUDED.task_due_at, due_at = EXCLUDED.due_at, offset_text = EXCLUDED.offset_text,
         state = 'planned', sent_at = NULL, plan = task_reminders.plan + 1
       WHERE task_reminders.state = 'cancelled' OR task_reminders.task_due_at <> EXCLUDED.task_due_at
       RETURNING *`,
      [
        rows.map((r) => r.id), rows.map((r) => r.companyId), rows.map((r) => r.taskId), rows.map((r) => r.offsetText),
        rows.map((r) => r.offsetMs), rows.map((r) => r.taskDueAt), rows.map((r) => r.dueAt),
      ],
    );
    return out.map(toReminder);
  }

  /** Cancels the planned reminders of these tasks. */
  async cancelForTasks(companyId: string, taskIds: string[], tx?: EntityManager): Promise<number> {
    if (taskIds.length === 0) return 0;
    const rows = returned<unknown>(await (tx ?? this.dataSource).query(
      `UPDATE task_reminders SET state = 'cancelled' WHERE company_id = $1 AND task_id = ANY($2::uuid[]) AND state = 'planned' RETURNING id`,
      [companyId, taskIds],
    ));
    return rows.length;
  }

  /**
   * Claims a reminder of the given plan for sending: only while it is planned,
   * its task is still open or started and still due at the time it was planned
   * for. Undefined otherwise (completed, moved, re-planned, sent).
   */
  async claim(companyId: string, id: string, plan: number): Promise<ClaimedTaskReminder | undefined> {
    const rows = returned<Row>(await this.dataSource.query(
      `UPDATE task_reminders r SET state = 'sent', sent_at = now()
         FROM task_instances t
        WHERE r.company_id = $1 AND r.id = $2 AND r.plan = $3 AND r.state = 'planned'
          AND t.id = r.task_id AND t.company_id = r.company_id AND t.status IN ('open', 'started') AND t.due_at = r.task_due_at
        RETURNING r.*, t.template_id, t.title, t.assignee_user_id`,
      [companyId, id, plan],
    ));
    const r = rows[0];
    return r ? { ...toReminder(r), templateId: r.template_id as string, title: r.title as string, assigneeUserId: r.assignee_user_id as string | null } : undefined;
  }

  /** Gives a claim back when its event could not be published, so the retry sends it. */
  async unclaim(companyId: string, id: string, plan: number): Promise<void> {
    await this.dataSource.query(`UPDATE task_reminders SET state = 'planned', sent_at = NULL WHERE company_id = $1 AND id = $2 AND plan = $3 AND state = 'sent'`, [companyId, id, plan]);
  }

  async ofTask(companyId: string, taskId: string): Promise<TaskReminder[]> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM task_reminders WHERE company_id = $1 AND task_id = $2 ORDER BY due_at`, [companyId, taskId]);
    return rows.map(toReminder);
  }

  /** Cleanup: reminders sent or cancelled before `before`. */
  async deleteFinishedBefore(companyId: string, before: Date): Promise<number> {
    const rows = returned<unknown>(await this.dataSource.query(
      `DELETE FROM task_reminders WHERE company_id = $1 AND state <> 'planned' AND due_at < $2 RETURNING id`,
      [companyId, before],
    ));
    return rows.length;
  }
}
