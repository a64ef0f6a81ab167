import { draftSchedule, firstFireAt, planClaim, preview } from './schedule-timing.js';
import { ScheduleValidationError, type Schedule, type ScheduleInput } from './schedule.types.js';

const NOW = new Date('2026-06-01T10:00:00Z');

function schedule(input: Partial<ScheduleInput> & Pick<ScheduleInput, 'kind'>, extra: Partial<Schedule> = {}): Schedule {
  const d = draftSchedule({ name: 'test', job: 'test.job', ...input } as ScheduleInput, NOW);
  const base: Schedule = {
    ...d,
    id: 'sched-1',
    runCount: 0,
    paused: false,
    nextFireAt: null,
    zoneCursors: null,
    lastFireAt: null,
    source: 'api',
    createdAt: NOW,
    updatedAt: NOW,
  };
  base.nextFireAt = firstFireAt(base, base.timezone === 'tenant' ? 'UTC' : base.timezone, NOW);
  return { ...base, ...extra };
}

describe('draftSchedule', () => {
  it('lists every problem at once', () => {
    try {
      draftSchedule({ name: 'bad name!', kind: 'cron', job: 'x', cron: '61 * * * *', timezone: 'Mars/Olympus', priority: 'urgent' as never, maxAttempts: 0 }, NOW);
      throw new Error('expected a validation error');
    } catch (e) {
      expect(e).toBeInstanceOf(ScheduleValidationError);
      const problems = (e as ScheduleValidationError).problems.join('\n');
      for (const key of ['name:', 'cron:', 'timezone:', 'priority:', 'maxAttempts:']) expect(problems).toContain(key);
    }
  });

  it('accepts 5- and 6-field cron, duration strings for intervals, a delay for one-offs', () => {
    expect(draftSchedule({ name: 'a', kind: 'cron', job: 'x', cron: '*/5 * * * * *' }, NOW).cron).toBe('*/5 * * * * *');
    expect(draftSchedule({ name: 'b', kind: 'interval', job: 'x', every: '90s' }, NOW).intervalMs).toBe(90_000);
    expect(draftSchedule({ name: 'c', kind: 'once', job: 'x', delayMs: 5_000 }, NOW).runAt).toEqual(new Date(NOW.getTime() + 5_000));
  });

  it('refuses intervals under a second, "tenant" time for global scope, tenant scope without a company', () => {
    expect(() => draftSchedule({ name: 'a', kind: 'interval', job: 'x', every: 500 }, NOW)).toThrow(/every/);
    expect(() => draftSchedule({ name: 'a', kind: 'cron', job: 'x', cron: '0 9 * * *', timezone: 'tenant' }, NOW)).toThrow(/timezone/);
    expect(() => draftSchedule({ name: 'a', kind: 'cron', job: 'x', cron: '0 9 * * *', scope: 'tenant' }, NOW)).toThrow(/companyId/);
  });
});

describe('planClaim', () => {
  it('fires a due occurrence and moves the cursor to the next one', () => {
    const s = schedule({ kind: 'cron', cron: '*/15 * * * *' });
    const plan = planClaim(s, new Date('2026-06-01T10:00:00.200Z'), 60_000, new Map());
    expect(plan.occurrences).toEqual([{ at: NOW, companyIds: [null] }]);
    expect(plan.nextFireAt).toEqual(new Date('2026-06-01T10:15:00Z'));
  });

  it('stops at the maximum number of runs', () => {
    const s = schedule({ kind: 'interval', every: 1_000, maxRuns: 3, missedPolicy: 'fire_all' }, { runCount: 1 });
    const plan = planClaim(s, new Date(NOW.getTime() + 10_000), 60_000, new Map());
    expect(plan.occurrences.map((o) => o.at.getTime() - NOW.getTime())).toEqual([0, 1_000]);
    expect(plan.nextFireAt).toBeNull();
  });

  it('ends at the end date', () => {
    const s = schedule({ kind: 'interval', every: 60_000, endsAt: new Date(NOW.getTime() + 90_000) });
    const plan = planClaim(s, new Date(NOW.getTime() + 60_000), 60_000, new Map());
    expect(plan.nextFireAt).toBeNull();
  });

  it('fans a per-tenant schedule out to every active tenant', () => {
    const s = schedule({ kind: 'cron', cron: '0 10 * * *', scope: 'per_tenant' });
    const plan = planClaim(s, NOW, 60_000, new Map([['UTC', ['a', 'b']], ['Asia/Tokyo', ['c']]]));
    expect(plan.occurrences).toEqual([{ at: NOW, companyIds: ['a', 'b', 'c'] }]);
  });

  it('keeps one cursor per tenant timezone for schedules in tenant time', () => {
    const s = schedule({ kind: 'cron', cron: '0 9 * * *', scope: 'per_tenant', timezone: 'tenant' }, { nextFireAt: NOW });
    const tenants = new Map([['Europe/Berlin', ['acme']], ['America/New_York', ['globex']]]);
    const first = planClaim(s, NOW, 60_000, tenants);
    expect(first.occurrences).toEqual([]);
    expect(first.zoneCursors).toEqual({ 'Europe/Berlin': '2026-06-02T07:00:00.000Z', 'America/New_York': '2026-06-01T13:00:00.000Z' });
    expect(first.nextFireAt).toEqual(new Date('2026-06-01T13:00:00Z'));
    const second = planClaim({ ...s, zoneCursors: first.zoneCursors, nextFireAt: first.nextFireAt }, new Date('2026-06-01T13:00:00Z'), 60_000, tenants);
    expect(second.occurrences).toEqual([{ at: new Date('2026-06-01T13:00:00Z'), companyIds: ['globex'] }]);
    expect(second.zoneCursors!['America/New_York']).toBe('2026-06-02T13:00:00.000Z');
  });
});

describe('preview', () => {
  it('applies the DST policy: the Berlin spring-forward gap fires when it ends', () => {
    const s = schedule({ kind: 'cron', cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    expect(preview(s, 'Europe/Berlin', new Date('2026-03-28T12:00:00Z'), 2).map((d) => d.toISOString())).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('anchors intervals at their start', () => {
    const s = schedule({ kind: 'interval', every: 3_600_000, startsAt: new Date(0) });
    expect(preview(s, 'UTC', new Date('2026-06-01T10:20:00Z'), 2).map((d) => d.toISOString())).toEqual(['2026-06-01T11:00:00.000Z', '2026-06-01T12:00:00.000Z']);
  });
});
