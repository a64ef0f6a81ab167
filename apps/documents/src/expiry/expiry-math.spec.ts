import {
  alertEventId,
  dueAlert,
  escalationEventId,
  escalationLevelAt,
  horizonDays,
  isValidTimeZone,
  localDaysUntil,
  thresholdCrossing,
  thresholdsFor,
} from './expiry-math.js';

const T = [30, 14, 7, 1];
const d = (iso: string) => new Date(iso);

describe('localDaysUntil', () => {
  it('counts calendar days on the tenant wall clock, not 24-hour periods', () => {
    // 23:30 UTC on the 1st is already the 2nd in Tokyo.
    expect(localDaysUntil(d('2025-03-10T12:00:00Z'), d('2025-03-01T23:30:00Z'), 'UTC')).toBe(9);
    expect(localDaysUntil(d('2025-03-10T12:00:00Z'), d('2025-03-01T23:30:00Z'), 'Asia/Tokyo')).toBe(8);
    // Three hours apart but across local midnight in New York.
    expect(localDaysUntil(d('2025-03-02T06:00:00Z'), d('2025-03-02T03:00:00Z'), 'America/New_York')).toBe(1);
  });

  it('is unaffected by a DST change between the two dates', () => {
    // Europe/Berlin springs forward on 2025-03-30.
    expect(localDaysUntil(d('2025-04-05T10:00:00+02:00'), d('2025-03-29T10:00:00+01:00'), 'Europe/Berlin')).toBe(7);
    expect(localDaysUntil(d('2025-11-03T00:30:00-05:00'), d('2025-11-01T23:30:00-04:00'), 'America/New_York')).toBe(2);
  });
});

describe('dueAlert', () => {
  const expires = d('2025-06-30T12:00:00Z');

  it('raises nothing before the largest threshold', () => {
    expect(dueAlert(expires, d('2025-05-30T12:00:00Z'), 'UTC', T)).toBeNull(); // 31 days left
  });

  it('raises a threshold from the local midnight of its day', () => {
    expect(dueAlert(expires, d('2025-05-30T23:59:59Z'), 'UTC', T)).toBeNull();
    expect(dueAlert(expires, d('2025-05-31T00:00:00Z'), 'UTC', T)).toEqual({ kind: 'expiring', threshold: 30, daysLeft: 30 });
    expect(dueAlert(expires, d('2025-06-10T00:00:00Z'), 'UTC', T)).toEqual({ kind: 'expiring', threshold: 30, daysLeft: 20 });
    expect(dueAlert(expires, d('2025-06-16T00:00:00Z'), 'UTC', T)).toEqual({ kind: 'expiring', threshold: 14, daysLeft: 14 });
    expect(dueAlert(expires, d('2025-06-29T08:00:00Z'), 'UTC', T)).toEqual({ kind: 'expiring', threshold: 1, daysLeft: 1 });
    expect(dueAlert(expires, d('2025-06-30T11:59:59Z'), 'UTC', T)).toEqual({ kind: 'expiring', threshold: 1, daysLeft: 0 });
  });

  it('crosses the same threshold at different instants in different zones', () => {
    // 14 days before 2025-06-30 is 2025-06-16: midnight in Tokyo is 15:00Z on the 15th; in Los Angeles 07:00Z on the 16th.
    const at = d('2025-06-15T15:30:00Z');
    expect(dueAlert(expires, at, 'Asia/Tokyo', T)?.threshold).toBe(14);
    expect(dueAlert(expires, at, 'UTC', T)?.threshold).toBe(30);
    expect(dueAlert(expires, at, 'America/Los_Angeles', T)?.threshold).toBe(30);
    expect(dueAlert(expires, d('2025-06-16T07:00:00Z'), 'America/Los_Angeles', T)?.threshold).toBe(14);
  });

  it('raises only the nearest threshold when several were crossed since the last look', () => {
    expect(dueAlert(expires, d('2025-06-25T09:00:00Z'), 'UTC', T)).toEqual({ kind: 'expiring', threshold: 7, daysLeft: 5 });
  });

  it('raises expired at the expiry instant, whatever the zone', () => {
    expect(dueAlert(expires, d('2025-06-30T12:00:00Z'), 'Pacific/Kiritimati', T)).toEqual({ kind: 'expired', threshold: 0, daysLeft: 0 });
    expect(dueAlert(expires, d('2025-07-09T12:00:00Z'), 'UTC', T)?.kind).toBe('expired');
  });

  it('follows a per-type override', () => {
    const overrides = { passport: [90, 60], permit: [] as number[] };
    expect(thresholdsFor('passport', T, overrides)).toEqual([90, 60]);
    expect(thresholdsFor('contract', T, overrides)).toBe(T);
    expect(thresholdsFor(null, T, overrides)).toBe(T);
    expect(dueAlert(expires, d('2025-04-15T00:00:00Z'), 'UTC', thresholdsFor('passport', T, overrides))?.threshold).toBe(90);
    expect(dueAlert(expires, d('2025-06-29T00:00:00Z'), 'UTC', thresholdsFor('permit', T, overrides))).toBeNull();
    expect(horizonDays(T, overrides)).toBe(90);
    expect(horizonDays([], {})).toBe(0);
  });
});

describe('thresholdCrossing', () => {
  it('is local midnight of the threshold day', () => {
    expect(thresholdCrossing(d('2025-06-30T12:00:00Z'), 14, 'Asia/Tokyo').toISOString()).toBe('2025-06-15T15:00:00.000Z');
    expect(thresholdCrossing(d('2025-06-30T12:00:00Z'), 7, 'America/New_York').toISOString()).toBe('2025-06-23T04:00:00.000Z');
  });

  it('agrees with dueAlert on either side of the crossing', () => {
    for (const zone of ['UTC', 'Asia/Kolkata', 'America/Sao_Paulo', 'Australia/Lord_Howe', 'Pacific/Chatham']) {
      const expires = d('2025-10-20T05:00:00Z');
      for (const t of T) {
        const at = thresholdCrossing(expires, t, zone);
        expect(dueAlert(expires, at, zone, [t])?.threshold).toBe(t);
        expect(dueAlert(expires, new Date(at.getTime() - 1), zone, [t])).toBeNull();
      }
    }
  });
});

describe('escalationLevelAt', () => {
  const raised = d('2025-06-01T08:00:00Z');
  it('climbs one level per full period and stops at the end of the chain', () => {
    expect(escalationLevelAt(raised, d('2025-06-04T07:59:59Z'), 3, 2)).toBe(0);
    expect(escalationLevelAt(raised, d('2025-06-04T08:00:00Z'), 3, 2)).toBe(1);
    expect(escalationLevelAt(raised, d('2025-06-07T08:00:00Z'), 3, 2)).toBe(2);
    expect(escalationLevelAt(raised, d('2025-07-01T08:00:00Z'), 3, 2)).toBe(2);
  });
  it('never escalates without a chain', () => {
    expect(escalationLevelAt(raised, d('2026-01-01T00:00:00Z'), 3, 0)).toBe(0);
  });
});

describe('event ids', () => {
  it('are deterministic per document, expiry and threshold', () => {
    const e = d('2025-06-30T12:00:00Z');
    expect(alertEventId('acme', 'doc-1', e, 7)).toBe('acme:doc-1:2025-06-30T12:00:00.000Z:7');
    expect(alertEventId('acme', 'doc-1', e, 0)).toBe('acme:doc-1:2025-06-30T12:00:00.000Z:expired');
    expect(escalationEventId('acme', 'doc-1', e, 7, 2)).toBe('acme:doc-1:2025-06-30T12:00:00.000Z:7:escalation-2');
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA names and rejects anything else', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('localDayNumber', () => {
  it('matches luxon for every hour around DST changes, including half-hour and 45-minute zones', async () => {
    const { DateTime } = await import('luxon');
    const { localDayNumber } = await import('./expiry-math.js');
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kolkata', 'America/St_Johns'];
    for (const zone of zones) {
      for (let ms = Date.parse('2025-03-01T00:00:00Z'); ms < Date.parse('2025-11-15T00:00:00Z'); ms += 7 * 60_000 + 13_000) {
        const l = DateTime.fromMillis(ms, { zone });
        const expected = Math.round(Date.UTC(l.year, l.month - 1, l.day) / 86_400_000);
        if (localDayNumber(new Date(ms), zone) !== expected) throw new Error(`${zone} ${new Date(ms).toISOString()}`);
      }
    }
  });
});
