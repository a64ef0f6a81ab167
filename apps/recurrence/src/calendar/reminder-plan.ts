/** Which reminders a calendar event needs: one per occurrence and offset, due offset minutes before the start. */

export interface PlannedReminder {
  /** `${eventId}:${occurrenceIso}:${offsetMinutes}`: stable across re-plans, so a moved event updates the same row. */
  id: string;
  companyId: string;
  eventId: string;
  eventRevision: number;
  occurrenceAt: Date;
  offsetMinutes: number;
  dueAt: Date;
}

export interface ReminderSource {
  id: string;
  companyId: string;
  revision: number;
  reminderOffsetsMinutes: number[];
}

export function reminderId(eventId: string, occurrenceAt: Date, offsetMinutes: number): string {
  return `${eventId}:${occurrenceAt.toISOString()}:${offsetMinutes}`;
}

/**
 * Reminders for the given occurrence instants. An offset is an exact duration
 * (1440 minutes is 24 real hours, also across a DST change); reminders whose
 * instant already passed are not planned.
 */
export function planReminders(event: ReminderSource, occurrences: Date[], now: Date): PlannedReminder[] {
  return occurrences.flatMap((occurrenceAt) =>
    event.reminderOffsetsMinutes
      .map((offsetMinutes) => ({
        id: reminderId(event.id, occurrenceAt, offsetMinutes),
        companyId: event.companyId,
        eventId: event.id,
        eventRevision: event.revision,
        occurrenceAt,
        offsetMinutes,
        dueAt: new Date(occurrenceAt.getTime() - offsetMinutes * 60_000),
      }))
      .filter((r) => r.dueAt.getTime() > now.getTime()),
  );
}

/** The job idempotency key (and so the run id's seed) of a reminder at one event revision. */
export function reminderJobKey(reminder: Pick<PlannedReminder, 'id' | 'eventRevision'>): string {
  return `${reminder.id}:r${reminder.eventRevision}`;
}
