import { parseDuration } from '../../../../libs/common/src/time/index.js';

const MINUTE = 60_000;
export const MIN_REMINDER_OFFSET_MS = MINUTE;
export const MAX_REMINDER_OFFSET_MS = 366 * 24 * 60 * MINUTE;
export const MAX_REMINDER_OFFSETS = 10;

/** A reminder offset as the template stores it: the text it was given and its length. */
export interface ReminderOffset {
  text: string;
  ms: number;
}

/**
 * Reads a template's reminder offsets: ISO 8601 durations before the due
 * time (`PT1H`, `P1D`; compact `90m` too), each an exact length (P1D is 24
 * real hours, also across a DST change), between one minute and 366 days.
 * Offsets of the same length count once. Throws RangeError naming the bad one.
 */
export function reminderOffsets(texts: readonly string[]): ReminderOffset[] {
  if (texts.length > MAX_REMINDER_OFFSETS) throw new RangeError(`reminderOffsets: at most ${MAX_REMINDER_OFFSETS}`);
  const byMs = new Map<number, ReminderOffset>();
  for (const text of texts) {
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch {
      throw new RangeError(`reminderOffsets: "${text}" is not a duration such as PT1H or P1D`);
    }
    if (ms < MIN_REMINDER_OFFSET_MS || ms > MAX_REMINDER_OFFSET_MS) throw new RangeError(`reminderOffsets: "${text}" must be between PT1M and P366D`);
    if (!byMs.has(ms)) byMs.set(ms, { text: text.trim(), ms });
  }
  return [...byMs.values()].sort((a, b) => b.ms - a.ms);
}

export interface PlannedTaskReminder {
  /** `${taskId}:${offsetMs}`: one per task and offset, re-planned in place. */
  id: string;
  companyId: string;
  taskId: string;
  offsetText: string;
  offsetMs: number;
  /** The due time the reminder is for; a task due at another time no longer gets it. */
  taskDueAt: Date;
  /** When it fires. */
  dueAt: Date;
}

export function taskReminderId(taskId: string, offsetMs: number): string {
  return `${taskId}:${offsetMs}`;
}

/** One reminder per task and offset, `offset` before its due time; those whose instant already passed are not planned. */
export function planTaskReminders(
  companyId: string,
  tasks: readonly { id: string; dueAt: Date }[],
  offsets: readonly ReminderOffset[],
  now: Date,
): PlannedTaskReminder[] {
  return tasks.flatMap((t) =>
    offsets
      .map((o) => ({
        id: taskReminderId(t.id, o.ms),
        companyId,
        taskId: t.id,
        offsetText: o.text,
        offsetMs: o.ms,
        taskDueAt: t.dueAt,
        dueAt: new Date(t.dueAt.getTime() - o.ms),
      }))
      .filter((r) => r.dueAt.getTime() > now.getTime()),
  );
}

/** The job idempotency key and event id of one plan of a reminder. */
export function taskReminderKey(r: { id: string; plan: number }): string {
  return `task-reminder:${r.id}:p${r.plan}`;
}
