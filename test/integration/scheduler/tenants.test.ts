import { createCloudEvent, encodeCloudEvent, EVENT_TYPES, ManualClock, subjects } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { InProcessScheduler, SchedulerTestEnv } from './scheduler-support.js';

describe('per-tenant schedules fire at each tenant\'s local time', () => {
  const env = new SchedulerTestEnv();
  const clock = new ManualClock('2026-06-01T00:00:00Z');
  let scheduler: InProcessScheduler;

  beforeAll(async () => {
    await env.start({ SCHEDULER_POLL_MS: '60000' });
    scheduler = await new InProcessScheduler(clock).start();
  });

  afterAll(async () => {
    await scheduler?.stop();
    await env.stop();
  });

  it('one run per active tenant at 09:00 in its own timezone, carrying its companyId', async () => {
    await scheduler.tenants.upsertTenant({ companyId: 'acme', timezone: 'Europe/Berlin' });
    await scheduler.tenants.upsertTenant({ companyId: 'globex', timezone: 'America/New_York' });
    await scheduler.tenants.upsertTenant({ companyId: 'initech', timezone: 'Australia/Sydney' });
    await scheduler.tenants.upsertTenant({ companyId: 'hooli', timezone: 'Europe/Berlin' });
    await scheduler.tenants.upsertTenant({ companyId: 'gone', timezone: 'Asia/Tokyo', active: false });

    const local = await scheduler.schedules.create({ name: 'digest', kind: 'cron', cron: '0 9 * * *', timezone: 'tenant', scope: 'per_tenant', job: 'tenants.digest' });
    const utc = await scheduler.schedules.create({ name: 'sync', kind: 'cron', cron: '0 6 * * *', timezone: 'UTC', scope: 'per_tenant', job: 'tenants.sync' });
    const one = await scheduler.schedules.create({ name: 'acme-only', kind: 'cron', cron: '0 9 * * *', timezone: 'tenant', scope: 'tenant', companyId: 'globex', job: 'tenants.one' });

    // A tenant announced by event joins with its own timezone (India, +05:30).
    const event = createCloudEvent({ type: EVENT_TYPES.tenantUpserted, source: 'test', companyId: 'umbrella', data: { timezone: 'Asia/Kolkata' } });
    const { jetstream } = await import('@nats-io/jetstream');
    await jetstream(env.nc).publish(subjects.event('umbrella', EVENT_TYPES.tenantUpserted), encodeCloudEvent(event), { msgID: event.id });
    await waitFor(async () => (await env.database.query(`SELECT 1 FROM tenants WHERE company_id = 'umbrella'`)).length === 1, { what: 'tenant from event' });

    const end = new Date('2026-06-03T00:00:00Z').getTime();
    while (clock.now().getTime() < end) {
      clock.advance(15 * 60_000);
      await scheduler.claim();
    }

    const runs = async (id: string) => (await env.runs(id)).map((r) => `${r.company_id}@${r.occurrence_at.toISOString().slice(0, 16)}`).sort();
    expect(await runs(local.id)).toEqual([
      'acme@2026-06-01T07:00', 'acme@2026-06-02T07:00',
      'globex@2026-06-01T13:00', 'globex@2026-06-02T13:00',
      'hooli@2026-06-01T07:00', 'hooli@2026-06-02T07:00',
      'initech@2026-06-01T23:00', 'initech@2026-06-02T23:00',
      'umbrella@2026-06-01T03:30', 'umbrella@2026-06-02T03:30',
    ]);
    expect(await runs(utc.id)).toEqual(
      ['acme', 'globex', 'hooli', 'initech', 'umbrella'].flatMap((c) => [`${c}@2026-06-01T06:00`, `${c}@2026-06-02T06:00`]),
    );
    expect(await runs(one.id)).toEqual(['globex@2026-06-01T13:00', 'globex@2026-06-02T13:00']);

    // The job message carries the tenant, in the envelope and the body.
    const messages = await env.messages('jobs.normal.tenants.digest');
    expect(messages).toHaveLength(10);
    for (const m of messages) expect((m as unknown as { companyid: string }).companyid).toBe(m.data.companyId);
  }, 120_000);

  it('a paused tenant gets no scheduled runs until it is resumed; its own expiry scan follows its timezone', async () => {
    const digest = await scheduler.schedules.get('digest');
    await scheduler.tenants.change('hooli', { paused: true });
    const scan = await scheduler.schedules.get('platform.documents-expiry-scan.hooli');
    expect(scan).toMatchObject({ cron: '0 8 * * *', timezone: 'tenant', scope: 'tenant', companyId: 'hooli', job: 'documents.expiry-scan' });
    const walk = async (until: string) => {
      while (clock.now().getTime() < new Date(until).getTime()) {
        clock.advance(15 * 60_000);
        await scheduler.claim();
      }
    };
    const hooli = async (id: string) => (await env.runs(id)).filter((r) => r.company_id === 'hooli').map((r) => r.occurrence_at.toISOString().slice(0, 16));
    await walk('2026-06-04T00:00:00Z');
    expect(await hooli(digest.id)).toEqual(['2026-06-01T07:00', '2026-06-02T07:00']);
    expect(await hooli(scan.id)).toEqual(['2026-06-01T06:00', '2026-06-02T06:00']); // 08:00 Berlin, before the pause

    // Resumed and moved to Tokyo: 09:00 and 08:00 Tokyo time from then on.
    await scheduler.tenants.change('hooli', { paused: false, timezone: 'Asia/Tokyo' });
    await walk('2026-06-05T00:00:00Z');
    expect(await hooli(digest.id)).toEqual(['2026-06-01T07:00', '2026-06-02T07:00', '2026-06-05T00:00']);
    expect(await hooli(scan.id)).toEqual(['2026-06-01T06:00', '2026-06-02T06:00', '2026-06-04T23:00']);
  }, 120_000);
});
