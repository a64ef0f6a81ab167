import { InvalidRecurrenceRuleError, occurrencesBetweenInSlices, type RecurrenceRule, type SlicedExpansionOptions } from '../../../../libs/common/src/time/index.js';

const DAY = 24 * 3600_000;

/** Most occurrences one template may produce inside one horizon; more is refused as a rule that cannot work. */
export const MAX_OCCURRENCES_PER_HORIZON = 5_000;

/**
 * The occurrences of a rule in [from, to), `horizonDays` naming the window in
 * errors. A rule that would produce more than MAX_OCCURRENCES_PER_HORIZON
 * there (FREQ=MINUTELY, say) is refused with InvalidRecurrenceRuleError
 * instead of flooding the table; one whose expansion exceeds its budget with
 * RecurrenceTooExpensiveError (one too). Expanded in slices (`options.turn`).
 */
export async function occurrencesInWindow(rule: RecurrenceRule, from: Date, to: Date, horizonDays: number, options: Omit<SlicedExpansionOptions, 'limit'> = {}): Promise<Date[]> {
  try {
    return await occurrencesBetweenInSlices(rule, from, to, { ...options, limit: MAX_OCCURRENCES_PER_HORIZON });
  } catch (e) {
    if (e instanceof RangeError) {
      throw new InvalidRecurrenceRuleError(rule.rule, `it produces more than ${MAX_OCCURRENCES_PER_HORIZON} occurrences within ${horizonDays} days; use a coarser FREQ or INTERVAL`);
    }
    throw e;
  }
}

/** The occurrences of a rule in [now, now + horizonDays) (occurrencesInWindow). */
export function occurrencesInHorizon(rule: RecurrenceRule, now: Date, horizonDays: number, options: Omit<SlicedExpansionOptions, 'limit'> = {}): Promise<Date[]> {
  return occurrencesInWindow(rule, now, new Date(now.getTime() + horizonDays * DAY), horizonDays, options);
}

/**
 * The event id of `task.generated` for an occurrence: `${templateId}:${occurrenceIso}`
 * so JetStream dedup absorbs a repeat. An edit replaces future instances with new
 * ones (new task ids) at possibly the same instants, so from revision 2 on the
 * revision is appended: the regenerated instance is announced, not deduplicated
 * against the one it replaced.
 */
export function taskGeneratedEventId(templateId: string, occurrenceAt: Date, templateRevision: number): string {
  const base = `${templateId}:${occurrenceAt.toISOString()}`;
  return templateRevision > 1 ? `${base}:r${templateRevision}` : base;
}

/** The event id of `task.assigned`: one per instance and assignee. */
export function taskAssignedEventId(taskId: string, assigneeUserId: string): string {
  return `${taskId}:assigned:${assigneeUserId}`;
}

/**
 * Round-robin: the next `n` assignees from a stable pool, starting at the
 * template's stored cursor. Because the cursor persists across runs, every
 * member gets ⌊total/pool⌋ or ⌈total/pool⌉ of a template's instances.
 */
export function roundRobin(pool: readonly string[], cursor: number, n: number): (string | null)[] {
  if (pool.length === 0) return Array<string | null>(n).fill(null);
  return Array.from({ length: n }, (_, i) => pool[(cursor + i) % pool.length]);
}
