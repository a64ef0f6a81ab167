import type { JobOptions } from '../jobs/job.types.js';
import type { BackoffPolicy } from '../messaging/backoff.js';
import type { Priority } from '../messaging/subjects.js';
import type { PriorityInput } from '../jobs/priority.js';
import type { MissedRunPolicy } from '../time/index.js';

export const SCHEDULE_KINDS = ['cron', 'interval', 'once', 'event', 'manual'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** global: one run; per_tenant: one run per active tenant; tenant: one run for `companyId`. */
export const SCHEDULE_SCOPES = ['global', 'per_tenant', 'tenant'] as const;
export type ScheduleScope = (typeof SCHEDULE_SCOPES)[number];

/** Read the schedule in each tenant's own timezone (tenants.timezone). */
export const TENANT_TIMEZONE = 'tenant';

export type ScheduleJobOptions = Pick<JobOptions, 'priority' | 'maxAttempts'> & {
  backoff: BackoffPolicy | null;
  timeoutMs: number | null;
  concurrency: number | null;
};

/** A schedule as stored. Times are instants (UTC); `timezone` gives them local meaning. */
export interface Schedule {
  id: string;
  name: string;
  kind: ScheduleKind;
  job: string;
  cron: string | null;
  intervalMs: number | null;
  runAt: Date | null;
  eventType: string | null;
  /** An IANA name, or "tenant". */
  timezone: string;
  scope: ScheduleScope;
  companyId: string | null;
  payload: Record<string, unknown>;
  options: ScheduleJobOptions;
  missedPolicy: MissedRunPolicy;
  /** fire_all: the most missed occurrences fired after an outage. */
  maxCatchUp: number;
  startsAt: Date | null;
  endsAt: Date | null;
  maxRuns: number | null;
  runCount: number;
  enabled: boolean;
  paused: boolean;
  nextFireAt: Date | null;
  /** Per tenant timezone: the next fire instant there (timezone "tenant" only). */
  zoneCursors: Record<string, string> | null;
  lastFireAt: Date | null;
  source: 'code' | 'api';
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a caller gives to create or replace a schedule. */
export interface ScheduleInput {
  name: string;
  kind: ScheduleKind;
  job: string;
  cron?: string;
  /** interval: period in ms (>= 1000), or a duration string ("90s", "PT15M"). */
  every?: number | string;
  /** once: the instant to fire… */
  runAt?: Date | string;
  /** …or a delay from now. */
  delayMs?: number;
  eventType?: string;
  timezone?: string;
  scope?: ScheduleScope;
  companyId?: string;
  payload?: Record<string, unknown>;
  /** A name or the seeds' number (1, 5, 10, 15). */
  priority?: PriorityInput;
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  timeoutMs?: number;
  concurrency?: number;
  missedPolicy?: MissedRunPolicy;
  maxCatchUp?: number;
  startsAt?: Date | string;
  endsAt?: Date | string;
  maxRuns?: number;
  enabled?: boolean;
  description?: string;
}

/** A change: any subset of the input except the name. */
export type SchedulePatch = Partial<Omit<ScheduleInput, 'name'>>;

export class ScheduleValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid schedule: ${problems.join('; ')}`);
    this.name = 'ScheduleValidationError';
  }
}

/** A tenant already has the most schedules it may have (SCHEDULES_MAX_PER_TENANT). */
export class ScheduleLimitError extends Error {
  constructor(readonly companyId: string, readonly limit: number) {
    super(`tenant "${companyId}" already has ${limit} schedules, the most allowed (SCHEDULES_MAX_PER_TENANT); remove one first`);
    this.name = 'ScheduleLimitError';
  }
}

export class ScheduleNotFoundError extends Error {
  constructor(readonly ref: string) {
    super(`No schedule "${ref}"`);
    this.name = 'ScheduleNotFoundError';
  }
}
