import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { keysetPage, type KeysetPage, type PageRequest } from '../../../../libs/common/src/util/keyset-page.js';

/** TypeORM's postgres driver answers UPDATE/DELETE … RETURNING with [rows, rowCount]; INSERT with rows. */
function returned<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

export interface CalendarEvent {
  id: string;
  companyId: string;
  title: string;
  rule: string | null;
  timezone: string;
  /** No timezone of its own: it follows the tenant's. */
  zoneFromTenant: boolean;
  startLocal: string;
  durationMinutes: number;
  attendeeUserIds: string[];
  reminderOffsetsMinutes: number[];
  revision: number;
}

export interface Reminder {
  id: string;
  companyId: string;
  eventId: string;
  eventRevision: number;
  occurrenceAt: Date;
  offsetMinutes: number;
  dueAt: Date;
  state: 'planned' | 'sent' | 'cancelled';
}

type Row = Record<string, unknown>;
const toEvent = (r: Row): CalendarEvent => ({
  id: r.id as string,
  companyId: r.company_id as string,
  title: r.title as string,
  rule: r.rule as string | null,
  timezone: r.timezone as string,
  zoneFromTenant: r.zone_from_tenant as boolean,
  startLocal: r.start_local as string,
  durationMinutes: r.duration_minutes as number,
  attendeeUserIds: r.attendee_user_ids as string[],
  reminderOffsetsMinutes: r.reminder_offsets_minutes as number[],
  revision: r.revision as number,
});
const toReminder = (r: Row): Reminder => ({
  id: r.id as string,
  companyId: r.company_id as string,
  eventId: r.event_id as string,
  eventRevision: r.event_revision as number,
  occurrenceAt: r.occurrence_at as Date,
  offsetMinutes: r.offset_minutes as number,
  dueAt: r.due_at as Date,
  state: r.state as Reminder['state'],
});

@Injectable()
export class CalendarRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /**
   * Serialises a tenant's calendar writes for the rest of `tx` (so its caps cannot be passed by
   * concurrent requests) and counts its live events and its reminders still planned, other than `eventId`'s.
   */
  async lockTenantCounts(companyId: string, tx: EntityManager, eventId?: string): Promise<{ events: number; plannedReminders: number }> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`calendar:${companyId}`]);
    const [r]: { events: number; reminders: number }[] = await tx.query(
      `SELECT (SELECT count(*)::int FROM calendar_events WHERE company_id=$1 AND deleted_at IS NULL) AS events,
              (SELECT count(*)::int FROM calendar_reminders WHERE company_id=$1 AND state='planned' AND ($2::uuid IS NULL OR event_id <> $2::uuid)) AS reminders`,
      [companyId, eventId ?? null],
    );
    return { events: r.events, plannedReminders: r.reminders };
  }

  async insert(e: Omit<CalendarEvent, 'revision'>, tx: EntityManager): Promise<CalendarEvent> {
    const rows: Row[] = await tx.query(
      `INSERT INTO calendar_events (id, company_id, title, rule, timezone, start_local, duration_minutes, attendee_user_ids, reminder_offsets_minutes, zone_from_tenant)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING *`,
      [e.id, e.companyId, e.title, e.rule, e.timezone, e.startLocal, e.durationMinutes, e.attendeeUserIds, e.reminderOffsetsMinutes, e.zoneFromTenant],
    );
    return toEvent(rows[0]);
  }

  async update(e: Omit<CalendarEvent, 'revision'>, tx: EntityManager): Promise<CalendarEvent | undefined> {
    const rows: Row[] = returned<Row>(await tx.query(`UPDATE calendar_events SET title=$3, rule=$4, timezone=$5, start_local=$6, duration_minutes=$7, attendee_user_ids=$8,
         reminder_offsets_minutes=$9, zone_from_tenant=$10, revision = revision + 1, updated_at = now()
       WHERE company_id=$1 AND id=$2 AND deleted_at IS NULL RETURNING *`,
      [e.companyId, e.id, e.title, e.rule, e.timezone, e.startLocal, e.durationMinutes, e.attendeeUserIds, e.reminderOffsetsMinutes, e.zoneFromTenant],
    ));
    return rows[0] ? toEvent(rows[0]) : undefined;
  }

  async markDeleted(companyId: string, id: string, tx: EntityManager): Promise<boolean> {
    const rows: unknown[] = returned<unknown>(await tx.query(`UPDATE calendar_events SET deleted_at = now() WHERE company_id=$1 AND id=$2 AND deleted_at IS NULL RETURNING id`, [companyId, id]));
    return rows.length === 1;
  }

  async get(companyId: string, id: string): Promise<CalendarEvent | undefined> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM calendar_events WHERE company_id=$1 AND id=$2 AND deleted_at IS NULL`, [companyId, id]);
    return rows[0] ? toEvent(rows[0]) : undefined;
  }

  /** One page of the tenant's live events by creation (ms precision, the cursor's), then id. */
  async list(companyId: string, page: PageRequest): Promise<KeysetPage<CalendarEvent>> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT *, date_trunc('milliseconds', created_at) AS page_at FROM calendar_events
        WHERE company_id=$1 AND deleted_at IS NULL
          AND ($2::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) > ($2::timestamptz, $3::uuid))
        ORDER BY date_trunc('milliseconds', created_at), id LIMIT $4`,
      [companyId, page.after?.at ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return keysetPage(rows, page.limit, toEvent, (r) => ({ at: r.page_at as Date, id: r.id as string }));
  }

  /** Every live event id of a tenant (the generate job plans each one's reminders). */
  async liveIds(companyId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(`SELECT id FROM calendar_events WHERE company_id=$1 AND deleted_at IS NULL ORDER BY id`, [companyId]);
    return rows.map((r) => r.id);
  }

  /** The live event, row-locked for the transaction, so planning never races a move or delete. */
  async getLocked(companyId: string, id: string, tx: EntityManager): Promise<CalendarEvent | undefined> {
    const rows: Row[] = await tx.query(`SELECT * FROM calendar_events WHERE company_id=$1 AND id=$2 AND deleted_at IS NULL FOR UPDATE`, [companyId, id]);
    return rows[0] ? toEvent(rows[0]) : undefined;
  }

  /** One-time live events of a tenant (cleanup decides which have ended). */
  async oneTime(companyId: string): Promise<CalendarEvent[]> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM calendar_events WHERE company_id=$1 AND deleted_at IS NULL AND rule IS NULL`, [companyId]);
    return rows.map(toEvent);
  }

  /**
   * Cleanup: reminders sent or cancelled before `before`, then events deleted
   * before it or listed in `endedIds` (one-time events that ended), with their
   * remaining reminders. Returns how many rows went.
   */
  async purge(companyId: string, before: Date, endedIds: string[]): Promise<number> {
    return this.transaction(async (tx) => {
      const reminders = returned<unknown>(await tx.query(
        `DELETE FROM calendar_reminders WHERE company_id=$1 AND state IN ('sent','cancelled') AND due_at < $2 RETURNING id`, [companyId, before],
      ));
      const events: { id: string }[] = await tx.query(
        `SELECT id FROM calendar_events WHERE company_id=$1 AND ((deleted_at IS NOT NULL AND deleted_at < $2) OR id = ANY($3::uuid[])) FOR UPDATE`,
        [companyId, before, endedIds],
      );
      const ids = events.map((e) => e.id);
      if (ids.length === 0) return reminders.length;
      const orphans = returned<unknown>(await tx.query(`DELETE FROM calendar_reminders WHERE company_id=$1 AND event_id = ANY($2::uuid[]) RETURNING id`, [companyId, ids]));
      await tx.query(`DELETE FROM calendar_events WHERE company_id=$1 AND id = ANY($2::uuid[])`, [companyId, ids]);
      return reminders.length + orphans.length + ids.length;
    });
  }

  async cancelPlanned(eventId: string, tx: EntityManager): Promise<void> {
    await tx.query(`UPDATE calendar_reminders SET state='cancelled' WHERE event_id=$1 AND state='planned'`, [eventId]);
  }

  /** Plans reminders; returns those newly planned (or re-planned for a new revision) that need a job. */
  async plan(tx: EntityManager, rows: Omit<Reminder, 'state'>[]): Promise<Reminder[]> {
    if (rows.length === 0) return [];
    const out: Row[] = await tx.query(
      `INSERT INTO calendar_reminders (id, company_id, event_id, event_revision, occurrence_at, offset_minutes, due_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::int[], $5::timestamptz[], $6::int[], $7::timestamptz[])
       ON CONFLICT (id) DO UPDATE SET event_revision = EXCLUDED.event_revision, due_at = EXCLUDED.due_at, state = 'planned'
       WHERE calendar_reminders.event_revision < EXCLUDED.event_revision
       RETURNING *`,
      [
        rows.map((r) => r.id), rows.map((r) => r.companyId), rows.map((r) => r.eventId), rows.map((r) => r.eventRevision),
        rows.map((r) => r.occurrenceAt), rows.map((r) => r.offsetMinutes), rows.map((r) => r.dueAt),
      ],
    );
    return out.map(toReminder);
  }

  /** Claims a planned reminder of the given revision for sending; undefined when it was moved, cancelled or sent. */
  async claim(companyId: string, id: string, revision: number): Promise<(Reminder & { event: CalendarEvent }) | undefined> {
    const rows: Row[] = returned<Row>(await this.dataSource.query(`UPDATE calendar_reminders r SET state='sent', sent_at=now()
       FROM calendar_events e
       WHERE r.company_id=$1 AND r.id=$2 AND r.event_revision=$3 AND r.state='planned'
         AND e.id = r.event_id AND e.company_id = r.company_id AND e.deleted_at IS NULL AND e.revision = r.event_revision
       RETURNING r.*, e.title, e.attendee_user_ids, e.rule, e.timezone, e.start_local, e.duration_minutes, e.reminder_offsets_minutes, e.revision`,
      [companyId, id, revision],
    ));
    if (!rows[0]) return undefined;
    const r = rows[0];
    return { ...toReminder(r), event: toEvent({ ...r, id: r.event_id, company_id: r.company_id }) };
  }

  async unclaim(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE calendar_reminders SET state='planned', sent_at=NULL WHERE id=$1`, [id]);
  }

  /** One page of an event's reminders by due time (ms precision, the cursor's), then id. */
  async reminders(companyId: string, eventId: string, page: PageRequest): Promise<KeysetPage<Reminder>> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT *, date_trunc('milliseconds', due_at) AS page_at FROM calendar_reminders
        WHERE company_id=$1 AND event_id=$2
          AND ($3::timestamptz IS NULL OR (date_trunc('milliseconds', due_at), id) > ($3::timestamptz, $4::text))
        ORDER BY date_trunc('milliseconds', due_at), id LIMIT $5`,
      [companyId, eventId, page.after?.at ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return keysetPage(rows, page.limit, toReminder, (r) => ({ at: r.page_at as Date, id: r.id as string }));
  }
}
