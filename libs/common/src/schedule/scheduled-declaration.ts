import type { JobHandlerOptions } from '../jobs/job-handler.decorator.js';
import type { MetronomeJobOptions } from './metronome-job.decorator.js';
import { zoneOfUtcOffset, type NestScheduledMethod } from './nest-schedule-metadata.js';
import { draftSchedule } from './schedule-timing.js';
import { ScheduleValidationError, TENANT_TIMEZONE, type ScheduleInput } from './schedule.types.js';

/** A method's schedule as Metronome runs it. */
export interface ScheduledDeclaration {
  /** `Class.method`, for messages. */
  owner: string;
  kind: NestScheduledMethod['kind'];
  /** The name given to @Cron/@Interval/@Timeout (what SchedulerRegistry calls it), else `Class.method`. */
  localName: string;
  /** The Metronome schedule (its name is unique across services). */
  schedule: ScheduleInput;
  /** The job each occurrence runs. */
  job: string;
  /** False when the method is already a @JobHandler of that job (the runtime registers it as such), or names another job (@MetronomeJob({ job })). */
  ownHandler: boolean;
  /** The job's options when this module registers the handler. */
  handlerOptions: JobHandlerOptions;
}

/** Where a decorated method sits, and what else decorates it. */
export interface ScheduledMethodSite {
  service: string;
  className: string;
  methodName: string;
  nest: NestScheduledMethod;
  metronome?: MetronomeJobOptions;
  /** The method's own @JobHandler, if it has one. */
  jobHandler?: { job: string; options: JobHandlerOptions };
}

const SCHEDULE_NAME_CHARS = /[^A-Za-z0-9_.:-]+/g;
const TOKEN_CHARS = /[^A-Za-z0-9_-]+/g;

/** A job name made of subject tokens (`Reports.every 2s` -> `Reports.every-2s`). */
export function jobTokenOf(name: string): string {
  return name
    .split('.')
    .map((t) => t.replace(TOKEN_CHARS, '-').replace(/^-+|-+$/g, ''))
    .filter((t) => t.length > 0)
    .join('.');
}

/** The schedule name of a declaration, unique across services: `<service>.<name>`. */
export function scheduleNameOf(service: string, localName: string): string {
  return `${service}.${localName}`.replace(SCHEDULE_NAME_CHARS, '-');
}

/** The job a declaration without its own @JobHandler runs: `<service>.<name as tokens>`. */
export function scheduledJobName(service: string, localName: string): string {
  return `${service}.${jobTokenOf(localName)}`;
}

function isDateLike(v: unknown): v is { toJSDate(): Date } {
  return typeof v === 'object' && v !== null && typeof (v as { toJSDate?: unknown }).toJSDate === 'function';
}

/**
 * Turns one decorated method into a Metronome schedule and job, or throws
 * ScheduleDeclarationError-ready problems (returned as `problems`). Pure: the
 * module validates every method before anything is written.
 */
export function declareScheduledMethod(site: ScheduledMethodSite, now: Date): { declaration?: ScheduledDeclaration; problems: string[] } {
  const { nest, metronome = {} } = site;
  const owner = `${site.className}.${site.methodName}`;
  const at = (p: string) => `${owner} (@${nest.kind === 'cron' ? 'Cron' : nest.kind === 'interval' ? 'Interval' : 'Timeout'}): ${p}`;
  const problems: string[] = [];
  const localName = nest.name ?? owner;
  const scheduleName = metronome.schedule ?? scheduleNameOf(site.service, localName);
  const job = metronome.job ?? site.jobHandler?.job ?? scheduledJobName(site.service, localName);
  const handlerDefaults = site.jobHandler?.options ?? {};
  const input: ScheduleInput = {
    name: scheduleName,
    kind: 'cron',
    job,
    payload: {},
    scope: metronome.perTenant ? 'per_tenant' : 'global',
    priority: metronome.priority ?? handlerDefaults.priority,
    maxAttempts: metronome.maxAttempts ?? handlerDefaults.maxAttempts,
    backoff: metronome.backoff,
    timeoutMs: metronome.timeoutMs,
    concurrency: metronome.concurrency,
    missedPolicy: metronome.missedRunPolicy,
    maxCatchUp: metronome.maxCatchUp,
    description: metronome.description ?? `${owner} (@${nest.kind === 'cron' ? 'Cron' : nest.kind === 'interval' ? 'Interval' : 'Timeout'} in ${site.service})`,
  };
  const defaultZone = metronome.perTenant ? TENANT_TIMEZONE : 'UTC';

  if (nest.kind === 'cron') {
    const o = nest.options;
    let timezone = defaultZone;
    if (o.timeZone !== undefined && o.utcOffset !== undefined) {
      problems.push(at('give timeZone or utcOffset, not both (@nestjs/schedule warns "weird things may happen"; Metronome refuses)'));
    } else if (o.timeZone !== undefined) {
      if (typeof o.timeZone !== 'string') problems.push(at(`timeZone must be an IANA name (got ${JSON.stringify(o.timeZone)})`));
      else timezone = o.timeZone;
    } else if (o.utcOffset !== undefined) {
      const z = zoneOfUtcOffset(o.utcOffset);
      if ('problem' in z) problems.push(at(z.problem));
      else timezone = z.zone;
    }
    const time = nest.cronTime;
    if (typeof time === 'string') {
      input.cron = time;
      input.timezone = timezone;
    } else if (time instanceof Date || isDateLike(time)) {
      input.kind = 'once';
      input.runAt = time instanceof Date ? time : time.toJSDate();
    } else problems.push(at(`the cron time must be a cron expression or a Date (got ${JSON.stringify(time)})`));
    // disabled: true turns the schedule off, false on; unsaid, an operator's pause or disable survives restarts.
    if (typeof o.disabled === 'boolean') input.enabled = !o.disabled;
  } else if (nest.kind === 'interval') {
    input.kind = 'interval';
    input.every = nest.ms;
    input.timezone = defaultZone;
    if (typeof nest.ms !== 'number' || nest.ms < 1000) {
      problems.push(at(`${JSON.stringify(nest.ms)} ms: a Metronome schedule fires at most once a second (1000 ms or more)`));
    }
  } else {
    input.kind = 'once';
    input.delayMs = nest.ms;
    if (typeof nest.ms !== 'number' || nest.ms < 0) problems.push(at(`${JSON.stringify(nest.ms)} ms is not a delay`));
  }
  if (metronome.job && site.jobHandler && site.jobHandler.job !== metronome.job) problems.push(at(`@MetronomeJob names job "${metronome.job}", the @JobHandler "${site.jobHandler.job}"`));
  if (metronome.perTenant && site.jobHandler?.options.platform) problems.push(at('perTenant runs one run per tenant; the @JobHandler says platform'));
  if (jobTokenOf(job) !== job) problems.push(at(`job name "${job}" is not made of subject tokens`));

  if (problems.length === 0) {
    try {
      draftSchedule(input, now);
    } catch (e) {
      if (e instanceof ScheduleValidationError) problems.push(...e.problems.map(at));
      else throw e;
    }
  }
  if (problems.length) return { problems };
  const handlerOptions: JobHandlerOptions = {
    priority: metronome.priority,
    maxAttempts: metronome.maxAttempts,
    backoff: metronome.backoff,
    timeoutMs: metronome.timeoutMs,
    concurrency: metronome.concurrency,
    platform: metronome.platform,
  };
  for (const k of Object.keys(handlerOptions) as (keyof JobHandlerOptions)[]) if (handlerOptions[k] === undefined) delete handlerOptions[k];
  for (const k of Object.keys(input) as (keyof ScheduleInput)[]) if (input[k] === undefined) delete input[k];
  return {
    declaration: { owner, kind: nest.kind, localName, schedule: input, job, ownHandler: !site.jobHandler && !metronome.job, handlerOptions },
    problems,
  };
}

/** Problems across declarations: two methods with one schedule name, job or local name. */
export function duplicateProblems(declarations: ScheduledDeclaration[]): string[] {
  const problems: string[] = [];
  const seen = (key: (d: ScheduledDeclaration) => string, what: string) => {
    const by = new Map<string, string[]>();
    for (const d of declarations) by.set(key(d), [...(by.get(key(d)) ?? []), d.owner]);
    for (const [k, owners] of by) if (owners.length > 1) problems.push(`${owners.join(' and ')} declare the same ${what} "${k}"`);
  };
  seen((d) => `${d.kind}:${d.localName}`, 'name');
  seen((d) => d.schedule.name, 'schedule');
  seen((d) => (d.ownHandler ? d.job : `${d.owner}:${d.job}`), 'job');
  return [...new Set(problems)];
}
