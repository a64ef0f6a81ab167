import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SignJWT } from 'jose';
import { DocumentsModule } from '../../../apps/documents/src/documents.module.js';
import { RecurrenceModule } from '../../../apps/recurrence/src/recurrence.module.js';
import { SchedulerModule } from '../../../apps/scheduler/src/scheduler.module.js';
import { CONSUMER_DECLARATIONS, EventPublisher, EVENT_TYPES, provision, STREAM_DECLARATIONS, subjects } from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { runState } from '../../support/runs.js';
import { startServiceApp } from '../../support/service-app.js';
import { waitFor } from '../../support/wait.js';

const JWT_SECRET = 'tenant-settings-flow-secret-0123456789';
const DAY = 86_400_000;

const localHour = (at: string | Date, timeZone: string) => Number(new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(new Date(at)));

async function bearer(role: string, companyId?: string): Promise<Record<string, string>> {
  const jwt = await new SignJWT({ role, ...(companyId ? { companyId } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`${role}-${companyId ?? 'all'}`)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET));
  return { Authorization: `Bearer ${jwt}` };
}

/**
 * The scheduler (tenant registry), documents and recurrence, each as in
 * production, on one private nats-server and database: a tenant's timezone
 * set through the registry reaches all three, and documents' scan hour moves
 * the tenant's expiry scan.
 */
describe('tenant settings reach every service', () => {
  const nats = new TestNatsServer();
  const database = new TestDatabase();
  let nc: NatsConnection;
  const apps: Record<'scheduler' | 'documents' | 'recurrence', { app: INestApplication; baseUrl: string }> = {} as never;

  beforeAll(async () => {
    await Promise.all([nats.start(), database.create()]);
    nc = await connect({ servers: nats.url });
    await provision(await jetstreamManager(nc), STREAM_DECLARATIONS, CONSUMER_DECLARATIONS, { replicas: 1, ackWaitMs: 30_000 });
    Object.assign(process.env, {
      NATS_URLS: nats.url,
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      NATS_PROVISION_ON_START: 'false',
      JWT_SECRET,
      SCHEDULER_POLL_MS: '100',
      TICK_INTERVAL_MS: '3600000',
    });
    apps.documents = await startServiceApp(Test.createTestingModule({ imports: [DocumentsModule] }));
    apps.recurrence = await startServiceApp(Test.createTestingModule({ imports: [RecurrenceModule] }));
    apps.scheduler = await startServiceApp(Test.createTestingModule({ imports: [SchedulerModule] }));
  }, 90_000);

  afterAll(async () => {
    for (const a of [apps.scheduler, apps.recurrence, apps.documents]) await a?.app.close();
    await nc?.close();
    await nats.destroy();
    await database.drop();
  });

  async function call<T = any>(service: keyof typeof apps, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${apps[service].baseUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
  /** A tenant administrator of the company (every route takes the tenant from the verified credential, never from a header). */
  const asTenant = (companyId: string) => bearer('tenant-admin', companyId);
  const scanSchedule = async () =>
    (await database.query<{ cron: string; zone_cursors: Record<string, string> | null }>(`SELECT cron, zone_cursors FROM schedules WHERE name = 'platform.documents-expiry-scan.acme'`))[0];

  it('a timezone set in the registry reaches documents, recurrence and the scheduler; documents\' scan hour moves the scan', async () => {
    const created = await call('scheduler', 'POST', '/api/v1/tenants', await bearer('system-admin'), { companyId: 'acme', timezone: 'Europe/Berlin' });
    expect(created.status).toBe(201);
    await waitFor(async () => (await call('documents', 'GET', '/api/v1/expiry-settings', await asTenant('acme'))).body.timezone === 'Europe/Berlin', { what: 'documents in Berlin' });
    await waitFor(async () => (await call('recurrence', 'GET', '/api/v1/recurrence-settings', await asTenant('acme'))).body.timezone === 'Europe/Berlin', { what: 'recurrence in Berlin' });

    const start = new Date(Date.now() + 2 * DAY).toISOString().slice(0, 10);
    const template = await call('recurrence', 'POST', '/api/v1/task-templates', await asTenant('acme'), { title: 'Opening round', rule: 'FREQ=DAILY;COUNT=3', startLocal: `${start}T09:00` });
    expect(template.status).toBe(201);
    const occurrences = async () => (await database.query<{ occurrence_at: Date }>(`SELECT occurrence_at FROM task_instances WHERE template_id = $1 ORDER BY occurrence_at`, [template.body.id])).map((r) => r.occurrence_at);
    expect((await occurrences()).map((d) => localHour(d, 'Europe/Berlin'))).toEqual([9, 9, 9]);

    // The tenant's own administrator moves it to New York.
    const moved = await call('scheduler', 'PATCH', '/api/v1/tenants/acme', await bearer('tenant-admin', 'acme'), { timezone: 'America/New_York' });
    expect(moved.status).toBe(200);

    await waitFor(async () => (await call('documents', 'GET', '/api/v1/expiry-settings', await asTenant('acme'))).body.timezone === 'America/New_York', { what: 'documents in New York' });
    await waitFor(async () => (await occurrences()).every((d) => localHour(d, 'America/New_York') === 9), { what: 'the template re-expanded at 09:00 New York' });
    expect((await call('recurrence', 'GET', '/api/v1/recurrence-settings', await asTenant('acme'))).body.timezone).toBe('America/New_York');
    await waitFor(async () => {
      const cursors = (await scanSchedule())?.zone_cursors ?? {};
      return Object.keys(cursors).join() === 'America/New_York' && localHour(cursors['America/New_York'], 'America/New_York') === 8;
    }, { what: 'the expiry scan at 08:00 New York' });

    // Documents' scan hour moves the tenant's scan to 06:00, in its timezone.
    const put = await call('documents', 'PUT', '/api/v1/expiry-settings', await asTenant('acme'), { scanHour: 6 });
    expect(put.status).toBe(200);
    await waitFor(async () => (await scanSchedule())?.cron === '0 6 * * *', { what: 'scan schedule at 06:00' });
    // The changed cron drops the cursors; the next claim places the new one.
    await waitFor(async () => {
      const at = (await scanSchedule())?.zone_cursors?.['America/New_York'];
      return at !== undefined && localHour(at, 'America/New_York') === 6;
    }, { what: 'next scan at 06:00 New York' });
    const preview = await call('scheduler', 'GET', '/api/v1/schedules/platform.documents-expiry-scan.acme/preview?count=3', await bearer('viewer', 'acme'));
    expect(preview.body.next.map((at: string) => localHour(at, 'America/New_York'))).toEqual([6, 6, 6]);

    // A run of that schedule is a documents scan that counts days in New York.
    const publisher = apps.documents.app.get(EventPublisher);
    await publisher.publishEvent(EVENT_TYPES.documentUpserted, 'acme', { id: 'lease', companyId: 'acme', title: 'Lease', expiresAt: new Date(Date.now() + 10 * DAY).toISOString(), version: 1 });
    await waitFor(async () => (await database.query(`SELECT 1 FROM documents WHERE company_id = 'acme' AND id = 'lease'`)).length === 1, { what: 'document projected' });
    const trigger = await call('scheduler', 'POST', '/api/v1/schedules/platform.documents-expiry-scan.acme/trigger', await bearer('system-admin'), {});
    expect(trigger.status).toBe(202);
    const runId = trigger.body.runs[0].runId;
    await waitFor(async () => (await runState(database, runId))?.state === 'succeeded', { what: 'scan run succeeded' });
    const alert = await database.query<{ payload: { timezone: string; thresholdDays: number } }>(`SELECT payload FROM document_alerts WHERE company_id = 'acme' AND document_id = 'lease'`);
    expect(alert).toEqual([{ payload: expect.objectContaining({ timezone: 'America/New_York', thresholdDays: 14 }) }]);
  });

  it('the registry announces a new tenant only once it is committed: whoever hears tenant.upserted finds the tenant', async () => {
    await database.query(`SELECT 1`); // a connection ready, so the check below runs the moment the event arrives
    const heard = nc.subscribe(subjects.event('initech', EVENT_TYPES.tenantUpserted), { max: 1 });
    const visibleOnArrival = (async () => {
      for await (const _ of heard) return (await database.query(`SELECT 1 FROM tenants WHERE company_id = 'initech'`)).length === 1;
      return false;
    })();
    const created = await call('scheduler', 'POST', '/api/v1/tenants', await bearer('system-admin'), { companyId: 'initech', timezone: 'Europe/Paris' });
    expect(created.status).toBe(201);
    expect(await visibleOnArrival).toBe(true);
  });

  it('a scan hour saved before the tenant was registered is applied when the registry announces it', async () => {
    expect((await call('documents', 'PUT', '/api/v1/expiry-settings', await asTenant('globex'), { scanHour: 22 })).status).toBe(200);
    const created = await call('scheduler', 'POST', '/api/v1/tenants', await bearer('system-admin'), { companyId: 'globex', timezone: 'Asia/Tokyo' });
    expect(created.status).toBe(201);
    await waitFor(
      async () => (await database.query<{ cron: string }>(`SELECT cron FROM schedules WHERE name = 'platform.documents-expiry-scan.globex'`))[0]?.cron === '0 22 * * *',
      { what: 'globex scan at 22:00' },
    );
  });
});
