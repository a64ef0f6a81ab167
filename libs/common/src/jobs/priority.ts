import { PRIORITIES, type Priority } from '../messaging/subjects.js';

/**
 * The seeds' numeric priorities (lower runs first, as in BullMQ): 1 critical,
 * 5 high, 10 normal, 15 low. Every place a priority is accepted (enqueue
 * options, schedules, triggers, @JobHandler) takes the name or the number.
 */
export const PRIORITY_NUMBERS: Readonly<Record<Priority, number>> = { critical: 1, high: 5, normal: 10, low: 15 };

/** A priority as callers may give it: a name or its number (also as a numeric string, e.g. from a query). */
export type PriorityInput = Priority | 1 | 5 | 10 | 15;

/** Names and numbers (as strings) that are priorities, for validation messages and OpenAPI enums. */
export const PRIORITY_INPUTS: readonly (string | number)[] = [...PRIORITIES, ...Object.values(PRIORITY_NUMBERS)];

/** The priority named or numbered by `input`, or undefined when it is neither (so callers list every bad field). */
export function parsePriority(input: unknown): Priority | undefined {
  if (typeof input === 'string' && (PRIORITIES as readonly string[]).includes(input)) return input as Priority;
  const n = typeof input === 'number' ? input : typeof input === 'string' && /^\d{1,2}$/.test(input) ? Number(input) : NaN;
  return PRIORITIES.find((p) => PRIORITY_NUMBERS[p] === n);
}

/** Like parsePriority, but throws a RangeError naming what is accepted. */
export function toPriority(input: unknown): Priority {
  const p = parsePriority(input);
  if (!p) throw new RangeError(`unknown priority ${JSON.stringify(input)} (expected ${PRIORITIES.map((n) => `${n} or ${PRIORITY_NUMBERS[n]}`).join(', ')})`);
  return p;
}
