import { RecurrenceHarness } from './harness.js';

/**
 * Bounded work per request in the recurrence API: a start far in the past is
 * refused at once (it used to hold the event loop for 55 s); rules rrule would
 * iterate for seconds or forever are refused within the expansion budget;
 * per-tenant caps answer 409; /healthz keeps answering while the most
 * expensive requests still allowed run.
 */
const T0 = '2026-03-01T00:00:00Z';

interface Problem { status: number; type: string; title: string; detail: string }

describe('recurrence: bounded work per request', () => {
  const h = new RecurrenceHarness(T0, {
    RECURRENCE_MAX_TEMPLATES_PER_TENANT: '3',
    RECURRENCE_MAX_EVENTS_PER_TENANT: '2',
    RECURRENCE_MAX_REMINDERS_PER_TENANT: '50',
    RECURRENCE_EXPANSION_BUDGET_MS: '200',
  });
  const template = (companyId: string, rule: string, startLocal: string) =>
    h.api<Problem & { id: string }>('POST', '/task-templates', companyId, { title: 't', rule, startLocal, timezone: 'Europe/Berlin' });

  beforeAll(async () => {
    await h.start();
  }, 60_000);
  afterAll(() => h.stop());

  it('refuses a start outside 10 years back / 50 forward at once, with the window in the problem', async () => {
    const t0 = performance.now();
    const old = await template('acme', 'FREQ=MINUTELY', '1990-01-01T00:00');
    const ms = performance.now() - t0;
    expect(old.status).toBe(422);
    expect(old.body.detail).toMatch(/startLocal 1990-01-01T00:00 must lie between 10 years before and 50 years after now \(2016-0[23]-\d\d \.\. 2076-0[23]-\d\d; RECURRENCE_START_MAX_PAST_YEARS/);
    process.stdout.write(`FREQ=MINUTELY from 1990: refused in ${ms.toFixed(0)} ms\n`);
    expect((await template('acme', 'FREQ=DAILY', '2080-01-01T09:00')).status).toBe(422);
    const event = await h.api<Problem>('POST', '/calendar-events', 'acme', { title: 'e', startLocal: '1900-01-01T09:00', timezone: 'UTC' });
    expect(event.status).toBe(422);
  });

  it.each([
    ['rrule loops forever on it (sub-daily, a Monday February 29th: next in 2044)', 'FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=3;BYMINUTE=7', '2026-01-06T00:00'],
    ['it yields nothing until the year 9999', 'FREQ=MINUTELY;INTERVAL=10080;BYDAY=MO', '2026-01-06T00:00'],
    ['COUNT counts ten million seconds from its start', 'FREQ=SECONDLY;COUNT=9999999', '2016-06-01T00:00'],
  ])('refuses a rule whose expansion exceeds the budget: %s', async (_why, rule, start) => {
    const res = await template('acme', rule, start);
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/expanding it takes longer than 200 ms/);
  });

  it('answers 400 problem+json, not 500, for text Postgres cannot store (a NUL character)', async () => {
    const res = await h.api<Problem>('POST', '/task-templates', 'acme', { title: 'bad\u0000title', rule: 'FREQ=WEEKLY;BYDAY=MO', startLocal: '2026-03-02T08:00', timezone: 'UTC' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(res.body.detail).toMatch(/NUL/);
  });

  it('caps task templates per tenant, also under concurrent creates (409 problem+json)', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => template('capped', `FREQ=WEEKLY;BYDAY=MO;BYHOUR=${8 + i}`, '2026-03-02T08:00')));
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
    const refused = results.find((r) => r.status === 409)!.body;
    expect(refused).toMatchObject({ status: 409, title: 'Tenant limit reached' });
    expect(refused.detail).toMatch(/most task templates allowed \(3, RECURRENCE_MAX_TEMPLATES_PER_TENANT\)/);
    expect((await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_templates WHERE company_id = 'capped'`))[0].n).toBe(3);
  });

  it('caps calendar events and planned reminders per tenant (409)', async () => {
    const event = (title: string, body: Record<string, unknown>) => h.api<Problem>('POST', '/calendar-events', 'cal', { title, timezone: 'UTC', ...body });
    // 30 daily occurrences x 2 offsets = 60 reminders: more than the 50 the tenant may have planned.
    const many = await event('daily', { rule: 'FREQ=DAILY', startLocal: '2026-03-02T09:00', reminderOffsetsMinutes: [10, 60] });
    expect(many.status).toBe(409);
    expect(many.body.detail).toMatch(/planned reminders allowed \(50, RECURRENCE_MAX_REMINDERS_PER_TENANT\)/);
    expect((await event('one', { rule: 'FREQ=DAILY;COUNT=20', startLocal: '2026-03-02T09:00', reminderOffsetsMinutes: [10, 60] })).status).toBe(201);
    // 40 planned now: 20 more would pass the cap.
    expect((await event('two', { rule: 'FREQ=DAILY;COUNT=10', startLocal: '2026-03-02T10:00', reminderOffsetsMinutes: [10, 60] })).status).toBe(409);
    expect((await event('two', { startLocal: '2026-03-03T10:00', reminderOffsetsMinutes: [10] })).status).toBe(201);
    const third = await event('three', { startLocal: '2026-03-04T10:00' });
    expect(third.status).toBe(409);
    expect(third.body.detail).toMatch(/most calendar events allowed \(2, RECURRENCE_MAX_EVENTS_PER_TENANT\)/);
    const [{ n }] = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM calendar_reminders WHERE company_id = 'cal' AND state = 'planned'`);
    expect(n).toBe(41);
  });

  it('answers /healthz while the most expensive requests run (event loop never held past the budget)', async () => {
    const worst = [
      template('probe', 'FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=3;BYMINUTE=7', '2026-01-06T00:00'),
      template('probe', 'FREQ=MINUTELY;INTERVAL=10080;BYDAY=MO', '2026-01-06T00:00'),
      // Allowed: 480 occurrences in the 30-day horizon, from a start ten years back. (It used to be 4,800 —
      // INTERVAL=9 — which a loaded machine pushed past the 200 ms budget, wall-clock time, so it was refused there.)
      template('probe', 'FREQ=MINUTELY;INTERVAL=90', '2016-03-02T00:00'),
    ];
    let running = true;
    const pending = Promise.all(worst).finally(() => (running = false));
    // In this process the server and the probe share the event loop: a probe's latency counts from when it
    // was due (a blocked loop delays the timer too), not from when it could be sent.
    const latencies: number[] = [];
    while (running) {
      const due = performance.now() + 20;
      await new Promise((r) => setTimeout(r, 20));
      const res = await fetch(`${h.baseUrl}/healthz`);
      await res.text();
      latencies.push(performance.now() - due);
    }
    const statuses = (await pending).map((r) => r.status);
    expect(statuses).toEqual([422, 422, 201]);
    const max = Math.max(...latencies);
    process.stdout.write(`/healthz while the worst recurrence requests ran: ${latencies.length} probes, max ${max.toFixed(0)} ms\n`);
    expect(max).toBeLessThan(1_000);
  });
});
