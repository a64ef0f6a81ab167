import { tenantAuth } from '../../support/auth.js';
import { randomUUID } from 'node:crypto';
import { waitFor } from '../../support/wait.js';
import { runState } from '../../support/runs.js';
import { RecurrenceHarness } from './harness.js';

interface Template { id: string }
const T0 = '2026-03-01T00:00:00Z';

describe('recurring task templates', () => {
  const h = new RecurrenceHarness(T0);

  beforeAll(async () => {
    await h.start();
    await h.tenant('acme', 'Europe/Berlin');
    await h.tenant('globex', 'America/New_York');
    await h.api('PUT', '/recurrence-settings', 'acme', { horizonDays: 366 });
    await h.api('PUT', '/recurrence-settings', 'globex', { horizonDays: 30 });
  }, 60_000);
  afterAll(() => h.stop());

  const create = async (companyId: string, body: Record<string, unknown>) => {
    const res = await h.api<Template>('POST', '/task-templates', companyId, body);
    if (res.status !== 201) console.log('DBG', JSON.stringify(res.body));
    expect(res.status).toBe(201);
    return res.body;
  };
  const occurrences = async (companyId: string, templateId: string) =>
    (await h.instances(companyId)).filter((i) => (i as unknown as { template_id: string }).template_id === templateId).map((i) => i.occurrence_at.toISOString());

  it('keeps 09:00 local across the spring-forward change and puts a 02:30 daily task at 03:00 on the gap day', async () => {
    const weekly = await create('acme', { title: 'Inspection', rule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=6', startLocal: '2026-03-16T09:00' });
    expect(await occurrences('acme', weekly.id)).toEqual([
      '2026-03-16T08:00:00.000Z', '2026-03-23T08:00:00.000Z', // CET, UTC+1
      '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z', '2026-04-13T07:00:00.000Z', '2026-04-20T07:00:00.000Z', // CEST, UTC+2
    ]);
    const nightly = await create('acme', { title: 'Backup check', rule: 'FREQ=DAILY;COUNT=3', startLocal: '2026-03-28T02:30' });
    expect(await occurrences('acme', nightly.id)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('monthly on the 31st skips months without one; the fifth Monday; the last weekday of the month', async () => {
    const on31 = await create('acme', { title: 'Month end', rule: 'FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4', startLocal: '2026-03-31T12:00' });
    expect((await occurrences('acme', on31.id)).map((o) => o.slice(0, 10))).toEqual(['2026-03-31', '2026-05-31', '2026-07-31', '2026-08-31']);
    const fifthMonday = await create('acme', { title: 'Rare', rule: 'FREQ=MONTHLY;BYDAY=5MO;COUNT=3', startLocal: '2026-03-02T10:00' });
    expect((await occurrences('acme', fifthMonday.id)).map((o) => o.slice(0, 10))).toEqual(['2026-03-30', '2026-06-29', '2026-08-31']);
    const lastWeekday = await create('acme', { title: 'Payroll', rule: 'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=4', startLocal: '2026-03-01T16:00' });
    expect((await occurrences('acme', lastWeekday.id)).map((o) => o.slice(0, 10))).toEqual(['2026-03-31', '2026-04-30', '2026-05-29', '2026-06-30']);
  });

  it('refuses a rule or a time zone that cannot work, as problem+json', async () => {
    const bad = await h.api<{ type: string; detail: string; status: number }>('POST', '/task-templates', 'acme', { title: 'x', rule: 'FREQ=SOMETIMES', startLocal: '2026-03-01T09:00' });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toMatch(/FREQ/);
    const zone = await h.api<{ status: number }>('POST', '/task-templates', 'acme', { title: 'x', rule: 'FREQ=DAILY', timezone: 'Mars/Olympus', startLocal: '2026-03-01T09:00' });
    expect(zone.status).toBe(422);
    const missing = await h.api<{ status: number; errors?: unknown }>('POST', '/task-templates', 'acme', { rule: 'FREQ=DAILY' });
    expect(missing.status).toBe(400);
    const flood = await h.api<{ status: number; detail: string }>('POST', '/task-templates', 'acme', { title: 'x', rule: 'FREQ=MINUTELY', startLocal: '2026-03-01T09:00' });
    expect(flood.status).toBe(422);
    expect(flood.body.detail).toMatch(/occurrences/);
    const res = await fetch(`${h.baseUrl}/api/v1/task-templates`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(await tenantAuth('acme', 'u')) }, body: JSON.stringify({ title: 'x', rule: 'BYDAY=MO', startLocal: '2026-03-01T09:00' }),
    });
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    // The tenant's timezone is the registry's: sending one here is refused, saying where it is changed.
    const settings = await h.api<{ status: number; errors: { field: string; messages: string[] }[] }>('PUT', '/recurrence-settings', 'acme', { timezone: 'Europe/Atlantis' });
    expect(settings.status).toBe(400);
    expect(settings.body.errors).toEqual([{ field: 'timezone', messages: [expect.stringMatching(/tenant registry \(PATCH \/api\/v1\/tenants/)] }]);
  });

  it('moves templates without a timezone of their own when the registry moves the tenant; one with its own zone stays', async () => {
    await h.tenant('stark', 'Europe/Berlin');
    const follows = await create('stark', { title: 'Local', rule: 'FREQ=DAILY;COUNT=3', startLocal: '2026-03-02T09:00' });
    const fixed = await create('stark', { title: 'Fixed', rule: 'FREQ=DAILY;COUNT=3', startLocal: '2026-03-02T09:00', timezone: 'Europe/Berlin' });
    const berlin = ['2026-03-02T08:00:00.000Z', '2026-03-03T08:00:00.000Z', '2026-03-04T08:00:00.000Z'];
    expect(await occurrences('stark', follows.id)).toEqual(berlin);

    await h.tenant('stark', 'America/New_York', 2);
    const newYork = ['2026-03-02T14:00:00.000Z', '2026-03-03T14:00:00.000Z', '2026-03-04T14:00:00.000Z'];
    await waitFor(async () => JSON.stringify(await occurrences('stark', follows.id)) === JSON.stringify(newYork), { what: 'template re-expanded in New York' });
    expect(await occurrences('stark', fixed.id)).toEqual(berlin);
    expect((await h.api<{ timezone: string }>('GET', `/task-templates/${follows.id}`, 'stark')).body.timezone).toBe('America/New_York');
    expect((await h.api<{ timezone: string }>('GET', '/recurrence-settings', 'stark')).body.timezone).toBe('America/New_York');

    // A late, older announcement changes nothing.
    await h.publisher.publishEvent('tenant.upserted', 'stark', { companyId: 'stark', timezone: 'Asia/Tokyo', version: 1 }, { id: 'tenant:stark:v1-late' });
    await h.tenant('stark', 'America/New_York', 3);
    expect(await occurrences('stark', follows.id)).toEqual(newYork);
  });

  it('generating twice creates no new instances and no new events', async () => {
    const t = await create('globex', { title: 'Daily round', rule: 'FREQ=DAILY', startLocal: '2026-03-01T08:00' });
    const rows = async () => (await h.instances('globex')).map((i) => `${i.id}@${i.occurrence_at.toISOString()}`);
    const before = await rows();
    expect(before).toHaveLength(30);
    const events = await h.stored('events.globex.task.generated');
    expect(events).toBe(30);
    await h.generate('globex');
    await h.generate('globex', 30);
    expect(await rows()).toEqual(before);
    expect(await h.stored('events.globex.task.generated')).toBe(events);

    // A crash after the rows committed and before their events went out: the next run publishes them, under the same ids.
    await h.database.query(`UPDATE task_instances SET published_at = NULL WHERE company_id = 'globex' AND occurrence_at < '2026-03-05T00:00:00Z'`);
    await h.generate('globex');
    expect(await rows()).toEqual(before);
    expect(await h.stored('events.globex.task.generated')).toBe(events);
    expect(await h.database.query(`SELECT 1 FROM task_instances WHERE company_id = 'globex' AND published_at IS NULL`)).toEqual([]);
    expect(await occurrences('globex', t.id)).toHaveLength(30);
  });

  it('spreads round-robin assignments evenly over the members with the role, inside the tenant', async () => {
    for (const u of ['ana', 'ben', 'cem']) await h.member('initech', u, ['inspector']);
    await h.member('initech', 'dora', ['accountant']);
    await h.member('globex', 'eve', ['inspector']); // another tenant's inspector is never picked
    await h.api('PUT', '/recurrence-settings', 'initech', { horizonDays: 30 });
    const t = await create('initech', { title: 'Walkthrough', rule: 'FREQ=DAILY', startLocal: '2026-03-01T07:00', assignment: 'round_robin', assigneeRole: 'inspector' });
    const rows = (await h.instances('initech')).filter((i) => (i as unknown as { template_id: string }).template_id === t.id);
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.assignee_user_id ?? 'none'] = (counts[r.assignee_user_id ?? 'none'] ?? 0) + 1;
    expect(counts).toEqual({ ana: 10, ben: 10, cem: 10 });
    expect(await h.stored('events.initech.task.assigned')).toBe(30);

    // A removed member is no longer picked; the cursor carries on over who is left.
    await h.publisher.publishEvent('member.removed', 'initech', { companyId: 'initech', userId: 'cem', version: 100 });
    await waitFor(async () => (await h.database.query("SELECT 1 FROM recurrence_members WHERE company_id='initech' AND user_id='cem' AND removed")).length === 1, { what: 'cem removed' });
    const next = await create('initech', { title: 'Second walkthrough', rule: 'FREQ=DAILY;COUNT=4', startLocal: '2026-03-01T08:00', assignment: 'round_robin', assigneeRole: 'inspector' });
    const assignees = (await h.instances('initech')).filter((i) => (i as unknown as { template_id: string }).template_id === next.id).map((i) => i.assignee_user_id);
    expect(assignees).toEqual(['ana', 'ben', 'ana', 'ben']);
  });

  it("a job run for one tenant refuses a payload naming another", async () => {
    const runId = randomUUID();
    await h.publisher.publishJob('recurrence.generate', { runId, companyId: 'globex', payload: { companyId: 'acme' }, scheduledFor: new Date().toISOString() }, { runId, companyId: 'globex' });
    await h.waitForRun(runId, 'dead', 'the mismatched run');
  });

  it('an edit regenerates only future instances nobody started; past and started ones stay', async () => {
    const t = await create('hooli', { title: 'Old title', rule: 'FREQ=DAILY;COUNT=10', startLocal: '2026-03-02T09:00', timezone: 'UTC' });
    const before = await h.instances('hooli');
    expect(before).toHaveLength(10);
    const started = before[7];
    expect((await h.api('PATCH', `/task-instances/${started.id}`, 'hooli', { status: 'started' })).status).toBe(200);

    h.clock!.set('2026-03-06T12:00:00Z'); // four occurrences (2nd..5th) are now in the past
    const changed = await h.api('PUT', `/task-templates/${t.id}`, 'hooli', { title: 'New title', rule: 'FREQ=DAILY;COUNT=10', startLocal: '2026-03-02T10:00', timezone: 'UTC' });
    expect(changed.status).toBe(200);
    const after = await h.instances('hooli');
    const past = after.filter((i) => i.occurrence_at < new Date('2026-03-06T12:00:00Z'));
    expect(past.map((i) => [i.occurrence_at.toISOString(), i.title])).toEqual(
      before.slice(0, 5).map((i) => [i.occurrence_at.toISOString(), 'Old title']),
    );
    expect(after.find((i) => i.id === started.id)).toMatchObject({ title: 'Old title', status: 'started' });
    const future = after.filter((i) => i.occurrence_at > new Date('2026-03-06T12:00:00Z') && i.id !== started.id);
    expect(future.length).toBeGreaterThan(0);
    for (const i of future) {
      expect(i.title).toBe('New title');
      expect(i.occurrence_at.getUTCHours()).toBe(10);
      expect(i.template_revision).toBe(2);
    }
    // The regenerated instances are announced too (their event ids carry the revision), the kept ones are not announced again.
    expect(await h.stored('events.hooli.task.generated')).toBe(10 + future.length);
    h.clock!.set(T0);
  });

  it('a status change is published as task.status_changed with who made it', async () => {
    const t = await create('umbrella', { title: 'Status', rule: 'FREQ=DAILY;COUNT=1', startLocal: '2026-03-02T09:00', timezone: 'UTC', assignment: 'fixed', assigneeUserId: 'ana' });
    const [i] = (await h.instances('umbrella')).filter((x) => (x as unknown as { template_id: string }).template_id === t.id);
    expect(i.assignee_user_id).toBe('ana');
    expect(await h.stored('events.umbrella.task.assigned')).toBe(1);
    expect((await h.api('PATCH', `/task-instances/${i.id}`, 'umbrella', { status: 'done' })).status).toBe(200);
    expect((await h.api('PATCH', `/task-instances/${i.id}`, 'umbrella', { status: 'done' })).status).toBe(200); // unchanged: nothing new
    expect(await h.stored('events.umbrella.task.status_changed')).toBe(1);
    expect((await h.api('PATCH', `/task-instances/${i.id}`, 'globex', { status: 'open' })).status).toBe(404);
  });

  it('lists instances by template, and a template id that is not a UUID is a 400 problem, not a database error', async () => {
    const t = await create('umbrella', { title: 'By template', rule: 'FREQ=DAILY;COUNT=2', startLocal: '2026-03-02T09:00', timezone: 'UTC' });
    const listed = await h.api<{ items: { templateId: string }[] }>('GET', `/task-instances?templateId=${t.id}`, 'umbrella');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((i) => i.templateId)).toEqual([t.id, t.id]);
    const bad = await h.api<{ status: number; detail: string }>('GET', '/task-instances?templateId=not-a-uuid', 'umbrella');
    expect(bad.status).toBe(400);
    expect(bad.body.status).toBe(400);
    expect(bad.body.detail).toContain('templateId must be a task template id');
  });

  it('pages every list: limit at most 500 (400 beyond), nextCursor until the last page, a foreign cursor is a 400', async () => {
    for (let n = 0; n < 3; n++) await create('paged', { title: `Paged ${n}`, rule: 'FREQ=DAILY;COUNT=2', startLocal: '2026-03-02T09:00', timezone: 'UTC' });
    type Page = { items: { id: string; title: string }[]; nextCursor: string | null; limit: number };
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: Page } = await h.api<Page>('GET', `/task-templates?limit=2${cursor ? `&cursor=${cursor}` : ''}`, 'paged');
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((i) => i.title));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 5);
    expect(seen).toEqual(['Paged 0', 'Paged 1', 'Paged 2']);
    expect(pages).toBe(2);
    const instances = await h.api<Page>('GET', '/task-instances?limit=4', 'paged');
    expect(instances.body.items).toHaveLength(4);
    const rest = await h.api<Page>('GET', `/task-instances?limit=4&cursor=${instances.body.nextCursor}`, 'paged');
    expect(rest.body.items).toHaveLength(2);
    expect(rest.body.nextCursor).toBeNull();
    expect(new Set([...instances.body.items, ...rest.body.items].map((i) => i.id)).size).toBe(6);
    for (const path of ['/task-templates', '/task-instances', '/calendar-events']) {
      const over = await h.api<{ status: number; detail: string }>('GET', `${path}?limit=501`, 'paged');
      expect(over.status).toBe(400);
      expect(over.body.detail).toMatch(/limit/);
      expect((await h.api('GET', `${path}?cursor=bm90LWEtY3Vyc29y`, 'paged')).status).toBe(400);
    }
  });

  it('cleanup removes finished instances older than the tenant setting, and nothing without one', async () => {
    await h.api('PUT', '/recurrence-settings', 'wayne', { horizonDays: 30 });
    await create('wayne', { title: 'Sweep', rule: 'FREQ=DAILY;COUNT=5', startLocal: '2026-03-02T09:00' });
    const all = await h.instances('wayne');
    for (const i of all.slice(0, 3)) await h.api('PATCH', `/task-instances/${i.id}`, 'wayne', { status: 'done' });
    h.clock!.set('2026-04-20T00:00:00Z');
    try {
      expect((await h.runJob('recurrence.cleanup', 'wayne')).recordsProcessed).toBe(0); // no cleanupAfterDays: keep everything
      await h.api('PUT', '/recurrence-settings', 'wayne', { horizonDays: 30, cleanupAfterDays: 30 });
      expect((await h.runJob('recurrence.cleanup', 'wayne')).recordsProcessed).toBe(3);
      expect((await h.instances('wayne')).map((i) => i.status)).toEqual(['open', 'open']);
      expect(await h.instances('acme')).not.toHaveLength(0);
    } finally {
      h.clock!.set(T0);
    }
  });

  it('deleting a template cancels its future instances', async () => {
    const t = await create('hooli', { title: 'Doomed', rule: 'FREQ=WEEKLY;COUNT=3', startLocal: '2026-03-10T09:00', timezone: 'UTC' });
    expect((await h.api('DELETE', `/task-templates/${t.id}`, 'hooli')).status).toBe(204);
    const rows = (await h.instances('hooli')).filter((i) => i.title === 'Doomed');
    expect(rows.map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await h.api('GET', `/task-templates/${t.id}`, 'hooli')).status).toBe(404);
  });

  it("never shows or changes another tenant's templates", async () => {
    const t = await create('acme', { title: 'Private', rule: 'FREQ=DAILY;COUNT=2', startLocal: '2026-03-03T09:00' });
    expect((await h.api('GET', `/task-templates/${t.id}`, 'globex')).status).toBe(404);
    expect((await h.api('DELETE', `/task-templates/${t.id}`, 'globex')).status).toBe(404);
    const list = await h.api<{ items: { id: string }[] }>('GET', '/task-templates', 'globex');
    expect(list.body.items.map((x) => x.id)).not.toContain(t.id);
    const instances = await h.api<{ items: { companyId: string }[] }>('GET', '/task-instances', 'globex');
    expect(instances.body.items.every((i) => i.companyId === 'globex')).toBe(true);
    expect((await h.api('GET', '/task-templates', '')).status).toBe(401);
  });
});
