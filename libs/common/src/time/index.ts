/** Time engines: cron, intervals, missed-run policy and RRULE recurrences, all in IANA timezones with the DST policy of ARCHITECTURE.md invariant 6. */
export {
  CronSpec,
  InvalidCronError,
  InvalidTimezoneError,
  describeTimezone,
  isValidTimezone,
  nextFireTime,
  nextFireTimes,
  parseCron,
} from './cron-expression.js';
export type { CronFieldName, TimezoneDescription, TimezoneTransition } from './cron-expression.js';
export {
  InvalidIntervalError,
  MIN_INTERVAL_MS,
  createInterval,
  nextIntervalFire,
  parseDuration,
  previousIntervalFire,
} from './interval.js';
export type { IntervalSpec } from './interval.js';
export {
  DEFAULT_MAX_MISSED_RUNS,
  DEFAULT_MISSED_RUN_GRACE_MS,
  MISSED_RUN_POLICIES,
  missedOccurrences,
} from './missed-runs.js';
export type { MissedOccurrences, MissedOccurrencesInput, MissedRunPolicy } from './missed-runs.js';
export {
  DEFAULT_EXPANSION_BUDGET_MS,
  InvalidRecurrenceRuleError,
  RecurrenceRule,
  RecurrenceTooExpensiveError,
  expandsNearWindow,
  occurrencesBetweenInSlices,
  instantToLocalDateTime,
  localDateTimeToInstant,
  nextOccurrence,
  occurrencesBetween,
  parseRecurrenceRule,
} from './recurrence-rule.js';
export type { ExpansionOptions, ExpansionTurn, RecurrenceFrequency, RecurrenceRuleOptions, SlicedExpansionOptions } from './recurrence-rule.js';
export { localTimeOf, previewCron } from './cron-preview.js';
export type { CronFiring, CronFiringDst, CronPreview, SkippedWallTime } from './cron-preview.js';
