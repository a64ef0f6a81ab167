import 'reflect-metadata';
import { Cron, CronExpression, Interval, Timeout } from '@nestjs/schedule';
import { JobHandler, jobHandlerMetadata } from '../jobs/job-handler.decorator.js';
import { MetronomeJob, metronomeJobOptions } from './metronome-job.decorator.js';
import { readNestSchedule, zoneOfUtcOffset } from './nest-schedule-metadata.js';
import { declareScheduledMethod, duplicateProblems, type ScheduledDeclaration } from './scheduled-declaration.js';

const NOW = new Date('2026-03-01T12:00:00Z');

class Reports {
  @Cron('*/2 * * * * *')
  everyTwo() {}

  @Cron('0 8 * * 1', { name: 'weekly digest', timeZone: 'Europe/Berlin' })
  @MetronomeJob({ perTenant: true, priority: 'low', maxAttempts: 3, missedRunPolicy: 'skip' })
  weekly() {}

  @Interval(1500)
  poll() {}

  @Interval('sync', 60_000)
  sync() {}

  @Timeout(1000)
  warmUp() {}

  @Cron(CronExpression.EVERY_30_SECONDS, { disabled: true })
  off() {}

  @Cron('0 9 * * *', { utcOffset: 120 })
  east() {}

  @Cron('17 3 * * *', { name: 'retention', timeZone: 'UTC' })
  @MetronomeJob({ schedule: 'metronome.retention' })
  @JobHandler('scheduler.retention', { maxAttempts: 3, priority: 'low' })
  retention() {}

  @Cron(new Date('2026-03-02T00:00:00Z'))
  onceAt() {}

  plain() {}
}

function declare(method: keyof Reports, service = 'reports') {
  const fn = Reports.prototype[method] as object;
  const nest = readNestSchedule(fn);
  if (!nest) return undefined;
  const handler = jobHandlerMetadata(fn);
  return declareScheduledMethod({ service, className: 'Reports', methodName: method, nest, metronome: metronomeJobOptions(fn), jobHandler: handler && { job: handler.job, options: handler.options } }, NOW);
}

function refusal(decorate: MethodDecorator): string[] {
  class Bad {
    run() {}
  }
  decorate(Bad.prototype, 'run', Object.getOwnPropertyDescriptor(Bad.prototype, 'run')!);
  const nest = readNestSchedule(Bad.prototype.run)!;
  return declareScheduledMethod({ service: 'svc', className: 'Bad', methodName: 'run', nest }, NOW).problems;
}

describe('reading @nestjs/schedule declarations', () => {
  it('reads the metadata the real decorators write', () => {
    expect(readNestSchedule(Reports.prototype.everyTwo)).toEqual({ kind: 'cron', name: undefined, cronTime: '*/2 * * * * *', options: {} });
    expect(readNestSchedule(Reports.prototype.sync)).toEqual({ kind: 'interval', name: 'sync', ms: 60_000, options: {} });
    expect(readNestSchedule(Reports.prototype.warmUp)).toEqual({ kind: 'timeout', name: undefined, ms: 1000, options: {} });
    expect(readNestSchedule(Reports.prototype.plain)).toBeUndefined();
  });

  it('turns each into a stored schedule and a job named after the service and the method (or its name)', () => {
    expect(declare('everyTwo')!.declaration).toMatchObject({
      localName: 'Reports.everyTwo',
      job: 'reports.Reports.everyTwo',
      ownHandler: true,
      schedule: { name: 'reports.Reports.everyTwo', kind: 'cron', cron: '*/2 * * * * *', timezone: 'UTC', scope: 'global' },
    });
    expect(declare('poll')!.declaration!.schedule).toMatchObject({ kind: 'interval', every: 1500 });
    expect(declare('sync')!.declaration).toMatchObject({ localName: 'sync', job: 'reports.sync', schedule: { name: 'reports.sync' } });
    expect(declare('warmUp')!.declaration!.schedule).toMatchObject({ kind: 'once', delayMs: 1000 });
    expect(declare('onceAt')!.declaration!.schedule).toMatchObject({ kind: 'once', runAt: new Date('2026-03-02T00:00:00Z') });
  });

  it('keeps name, timeZone and disabled, and reads a whole-hour utcOffset as a fixed zone', () => {
    expect(declare('weekly')!.declaration).toMatchObject({
      localName: 'weekly digest',
      job: 'reports.weekly-digest',
      schedule: { name: 'reports.weekly-digest', timezone: 'Europe/Berlin', scope: 'per_tenant', priority: 'low', maxAttempts: 3, missedPolicy: 'skip' },
      handlerOptions: { priority: 'low', maxAttempts: 3 },
    });
    expect(declare('off')!.declaration!.schedule).toMatchObject({ cron: '*/30 * * * * *', enabled: false });
    expect(declare('east')!.declaration!.schedule.timezone).toBe('Etc/GMT-2');
  });

  it('fires the job of a method that is a @JobHandler already, under the schedule name @MetronomeJob gives', () => {
    expect(declare('retention')!.declaration).toMatchObject({
      job: 'scheduler.retention',
      ownHandler: false,
      schedule: { name: 'metronome.retention', job: 'scheduler.retention', maxAttempts: 3, priority: 'low', timezone: 'UTC' },
    });
  });

  it('declares only the schedule when @MetronomeJob names another job (handled elsewhere)', () => {
    class P {
      @Cron('0 8 * * 1', { name: 'notifier-weekly-digest' })
      @MetronomeJob({ schedule: 'platform.notifier-weekly-digest', job: 'notifier.weekly-digest', perTenant: true, priority: 'low' })
      weeklyDigest() {}
    }
    const nest = readNestSchedule(P.prototype.weeklyDigest)!;
    const { declaration } = declareScheduledMethod({ service: 'scheduler', className: 'P', methodName: 'weeklyDigest', nest, metronome: metronomeJobOptions(P.prototype.weeklyDigest) }, NOW);
    expect(declaration).toMatchObject({
      ownHandler: false,
      job: 'notifier.weekly-digest',
      schedule: { name: 'platform.notifier-weekly-digest', timezone: 'tenant', scope: 'per_tenant', priority: 'low', cron: '0 8 * * 1' },
    });
    expect(declaration!.schedule.enabled).toBeUndefined();
  });

  it('reads perTenant as each tenant\'s own timezone unless @Cron names one', () => {
    class T {
      @Cron('0 1 * * *', { name: 'generate' })
      @MetronomeJob({ perTenant: true })
      generate() {}
    }
    const nest = readNestSchedule(T.prototype.generate)!;
    const { declaration } = declareScheduledMethod({ service: 'recurrence', className: 'T', methodName: 'generate', nest, metronome: metronomeJobOptions(T.prototype.generate) }, NOW);
    expect(declaration!.schedule).toMatchObject({ timezone: 'tenant', scope: 'per_tenant' });
  });
});

describe('declarations Metronome refuses, with a message naming the method', () => {
  it('an ambiguous or unzoned utcOffset, or both timeZone and utcOffset', () => {
    expect(refusal(Cron('0 9 * * *', { utcOffset: 5 }))).toEqual([expect.stringMatching(/^Bad\.run \(@Cron\): utcOffset 5 is ambiguous \(hours in cron 1\.x, minutes since cron 2\); give minutes as a multiple of 60 \(300 for UTC\+5\)/)]);
    expect(refusal(Cron('0 9 * * *', { utcOffset: 330 }))).toEqual([expect.stringContaining('utcOffset 330 minutes has no fixed IANA zone')]);
    expect(refusal(Cron('0 9 * * *', { timeZone: 'UTC', utcOffset: 60 } as never))).toEqual([expect.stringContaining('give timeZone or utcOffset, not both')]);
    expect(zoneOfUtcOffset(-300)).toEqual({ zone: 'Etc/GMT+5' });
    expect(zoneOfUtcOffset(0)).toEqual({ zone: 'UTC' });
  });

  it('an unknown timezone, a bad cron expression, an interval under a second', () => {
    expect(refusal(Cron('0 9 * * *', { timeZone: 'Mars/Olympus' }))).toEqual([expect.stringMatching(/^Bad\.run \(@Cron\): timezone: "Mars\/Olympus" is not an IANA timezone/)]);
    expect(refusal(Cron('not a cron'))).toEqual([expect.stringMatching(/^Bad\.run \(@Cron\): cron: /)]);
    expect(refusal(Interval(500))).toEqual([expect.stringContaining('500 ms: a Metronome schedule fires at most once a second')]);
  });

  it('two methods with one name', () => {
    const a = declare('sync')!.declaration!;
    const b: ScheduledDeclaration = { ...a, owner: 'Other.sync' };
    expect(duplicateProblems([a, b])).toContain('Reports.sync and Other.sync declare the same schedule "reports.sync"');
  });
});
