import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { keysetPage, type KeysetPage, type PageRequest } from '../../../../libs/common/src/util/keyset-page.js';
import type { Assignment, TaskInstance, TaskTemplate } from './tasks.types.js';

/** TypeORM's postgres driver answers UPDATE/DELETE … RETURNING with [rows, rowCount]; INSERT with rows. */
function returned<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

type Row = Record<string, unknown>;

const toTemplate = (r: Row): TaskTemplate => ({
  id: r.id as string,
  companyId: r.company_id as string,
  title: r.title as string,
  rule: r.rule as string,
  timezone: r.timezone as string,
  zoneFromTenant: r.zone_from_tenant as boolean,
  startLocal: r.start_local as string,
  exdates: r.exdates as string[],
  dueOffsetMinutes: r.due_offset_minutes as number,
  assignment: r.assignment as Assignment,
  assigneeUserId: r.assignee_user_id as string | null,
  assigneeRole: r.assignee_role as string | null,
  reminderOffsets: (r.reminder_offsets as string[] | null) ?? [],
  revision: r.revision as number,
  deletedAt: r.deleted_at as Date | null,
});

const toInstance = (r: Row): TaskInstance => ({
  id: r.id as string,
  companyId: r.company_id as string,
  templateId: r.template_id as string,
  templateRevision: r.template_revision as number,
  occurrenceAt: r.occurrence_at as Date,
  dueAt: r.due_at as Date,
  title: r.title as string,
  assigneeUserId: r.assignee_user_id as string | null,
  status: r.status as TaskInstance['status'],
});

export interface NewInstance {
  id: string;
  occurrenceAt: Date;
  dueAt: Date;
}

@Injectable()
export class TasksRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** Inserts the template unless the tenant already has `maxPerTenant` live ones (then null); concurrent inserts of a tenant queue on its lock. */
  async insertTemplate(t: Omit<TaskTemplate, 'revision' | 'deletedAt'>, maxPerTenant = Number.MAX_SAFE_INTEGER): Promise<TaskTemplate | null> {
    return this.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`task_templates:${t.companyId}`]);
      const [{ n }]: { n: number }[] = await tx.query(`SELECT count(*)::int AS n FROM task_templates WHERE company_id=$1 AND deleted_at IS NULL`, [t.companyId]);
      if (n >= maxPerTenant) return null;
      const rows: Row[] = await tx.query(
        `INSERT INTO task_templates (id, company_id, title, rule, timezone, start_local, exdates, due_offset_minutes, assignment, assignee_user_id, assignee_role, zone_from_tenant, reminder_offsets)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING *`,
        [t.id, t.companyId, t.title, t.rule, t.timezone, t.startLocal, t.exdates, t.dueOffsetMinutes, t.assignment, t.assigneeUserId, t.assigneeRole, t.zoneFromTenant, t.reminderOffsets],
      );
      return toTemplate(rows[0]);
    });
  }

  async updateTemplate(t: TaskTemplate, tx?: EntityManager): Promise<TaskTemplate> {
    const rows: Row[] = returned<Row>(await (tx ?? this.dataSource).query(`UPDATE task_templates SET title=$3, rule=$4, timezone=$5, start_local=$6, exdates=$7, due_offset_minutes=$8, assignment=$9,
         assignee_user_id=$10, assignee_role=$11, zone_from_tenant=$12, reminder_offsets=$13, revision = revision + 1, updated_at = now()
       WHERE company_id=$1 AND id=$2 AND deleted_at IS NULL RETURNING *`,
      [t.companyId, t.id, t.title, t.rule, t.timezone, t.startLocal, t.exdates, t.dueOffsetMinutes, t.assignment, t.assigneeUserId, t.assigneeRole, t.zoneFromTenant, t.reminderOffsets],
    ));
    return toTemplate(rows[0]);
  }

  async getTemplate(companyId: string, id: string, tx?: EntityManager, lock = false): Promise<TaskTemplate | undefined> {
    const rows: Row[] = await (tx ?? this.dataSource).query(
      `SELECT * FROM task_templates WHERE company_id=$1 AND id=$2 AND deleted_at IS NULL ${lock ? 'FOR UPDATE' : ''}`,
      [companyId, id],
    );
    return rows[0] ? toTemplate(rows[0]) : undefined;
  }

  async listTemplates(companyId: string): Promise<TaskTemplate[]> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM task_templates WHERE company_id=$1 AND deleted_at IS NULL ORDER BY created_at, id`, [companyId]);
    return rows.map(toTemplate);
  }

  /** One page of the tenant's live templates by creation (ms precision, the cursor's), then id. */
  async pageTemplates(companyId: string, page: PageRequest): Promise<KeysetPage<TaskTemplate>> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT *, date_trunc('milliseconds', created_at) AS page_at FROM task_templates
        WHERE company_id=$1 AND deleted_at IS NULL
          AND ($2::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) > ($2::timestamptz, $3::uuid))
        ORDER BY date_trunc('milliseconds', created_at), id LIMIT $4`,
      [companyId, page.after?.at ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return keysetPage(rows, page.limit, toTemplate, (r) => ({ at: r.page_at as Date, id: r.id as string }));
  }

  async markTemplateDeleted(companyId: string, id: string, tx?: EntityManager): Promise<boolean> {
    const rows: unknown[] = returned<unknown>(await (tx ?? this.dataSource).query(`UPDATE task_templates SET deleted_at = now() WHERE company_id=$1 AND id=$2 AND deleted_at IS NULL RETURNING id`,
      [companyId, id],
    ));
    return rows.length === 1;
  }

  /** Future instances nobody started: removed on a change (then regenerated), cancelled on a delete. Returns their ids. */
  async dropFutureOpen(tx: EntityManager, companyId: string, templateId: string, after: Date, how: 'delete' | 'cancel'): Promise<string[]> {
    const sql = how === 'delete'
      ? `DELETE FROM task_instances WHERE company_id=$1 AND template_id=$2 AND occurrence_at > $3 AND status='open' RETURNING id`
      : `UPDATE task_instances SET status='cancelled' WHERE company_id=$1 AND template_id=$2 AND occurrence_at > $3 AND status='open' RETURNING id`;
    const rows = returned<{ id: string }>(await tx.query(sql, [companyId, templateId, after]));
    return rows.map((r) => r.id);
  }

  /** Inserts the occurrences not yet planned; returns only the new ones (a rerun inserts nothing). */
  async insertInstances(tx: EntityManager, template: TaskTemplate, instances: NewInstance[]): Promise<NewInstance[]> {
    if (instances.length === 0) return [];
    const rows: { id: string; occurrence_at: Date; due_at: Date }[] = await tx.query(
      `INSERT INTO task_instances (id, company_id, template_id, template_revision, occurrence_at, due_at, title)
       SELECT i, $1, $2, $3, o, d, $4 FROM unnest($5::uuid[], $6::timestamptz[], $7::timestamptz[]) AS x(i, o, d)
       ON CONFLICT (template_id, occurrence_at) DO NOTHING RETURNING id, occurrence_at, due_at`,
      [template.companyId, template.id, template.revision, template.title, instances.map((i) => i.id), instances.map((i) => i.occurrenceAt), instances.map((i) => i.dueAt)],
    );
    return rows.map((r) => ({ id: r.id, occurrenceAt: r.occurrence_at, dueAt: r.due_at })).sort((a, b) => a.occurrenceAt.getTime() - b.occurrenceAt.getTime());
  }

  /** Takes n positions of the template's round-robin cursor (row locked by the caller). */
  async advanceCursor(tx: EntityManager, templateId: string, n: number): Promise<number> {
    const rows: { start: string }[] = returned<{ start: string }>(await tx.query(`UPDATE task_templates SET round_robin_cursor = round_robin_cursor + $2 WHERE id=$1 RETURNING round_robin_cursor - $2 AS start`,
      [templateId, n],
    ));
    return Number(rows[0].start);
  }

  async assign(tx: EntityManager, ids: string[], assignees: (string | null)[]): Promise<void> {
    if (ids.length === 0) return;
    await tx.query(
      `UPDATE task_instances t SET assignee_user_id = x.a FROM unnest($1::uuid[], $2::text[]) AS x(i, a) WHERE t.id = x.i`,
      [ids, assignees],
    );
  }

  async unpublished(companyId: string): Promise<TaskInstance[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM task_instances WHERE company_id=$1 AND published_at IS NULL AND status <> 'cancelled' ORDER BY occurrence_at LIMIT 5000`,
      [companyId],
    );
    return rows.map(toInstance);
  }

  async markPublished(ids: string[]): Promise<void> {
    if (ids.length) await this.dataSource.query(`UPDATE task_instances SET published_at = now() WHERE id = ANY($1::uuid[])`, [ids]);
  }

  /** One page of instances in [from, to), by occurrence (ms precision, the cursor's), then id. */
  async listInstances(companyId: string, filter: { from?: Date; to?: Date; templateId?: string }, page: PageRequest): Promise<KeysetPage<TaskInstance>> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT *, date_trunc('milliseconds', occurrence_at) AS page_at FROM task_instances WHERE company_id=$1 AND ($2::timestamptz IS NULL OR occurrence_at >= $2)
         AND ($3::timestamptz IS NULL OR occurrence_at < $3) AND ($4::uuid IS NULL OR template_id = $4)
         AND ($5::timestamptz IS NULL OR (date_trunc('milliseconds', occurrence_at), id) > ($5::timestamptz, $6::uuid))
       ORDER BY date_trunc('milliseconds', occurrence_at), id LIMIT $7`,
      [companyId, filter.from ?? null, filter.to ?? null, filter.templateId ?? null, page.after?.at ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return keysetPage(rows, page.limit, toInstance, (r) => ({ at: r.page_at as Date, id: r.id as string }));
  }

  /** Sets an instance's status; answers the row and the status it had before (undefined: no such instance in the tenant). */
  async setStatus(companyId: string, id: string, status: TaskInstance['status']): Promise<{ instance: TaskInstance; previous: TaskInstance['status'] } | undefined> {
    const rows: Row[] = returned<Row>(await this.dataSource.query(
      `UPDATE task_instances t SET status=$3 FROM (SELECT id, status AS previous FROM task_instances WHERE company_id=$1 AND id=$2 FOR UPDATE) p
       WHERE t.id = p.id RETURNING t.*, p.previous`,
      [companyId, id, status],
    ));
    return rows[0] ? { instance: toInstance(rows[0]), previous: rows[0].previous as TaskInstance['status'] } : undefined;
  }

  /** Undoes setStatus when its event could not be published (only if nobody changed it since). */
  async restoreStatus(companyId: string, id: string, from: TaskInstance['status'], to: TaskInstance['status']): Promise<void> {
    await this.dataSource.query(`UPDATE task_instances SET status=$4 WHERE company_id=$1 AND id=$2 AND status=$3`, [companyId, id, from, to]);
  }

  async activeTemplates(companyId: string): Promise<TaskTemplate[]> {
    return this.listTemplates(companyId);
  }

  async deleteFinishedBefore(companyId: string, before: Date): Promise<number> {
    const rows: unknown[] = returned<unknown>(await this.dataSource.query(`DELETE FROM task_instances WHERE company_id=$1 AND status IN ('done','cancelled') AND due_at < $2 RETURNING id`,
      [companyId, before],
    ));
    return rows.length;
  }
}
