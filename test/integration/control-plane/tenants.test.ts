import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { waitFor } from '../../support/wait.js';
import { apiKey, bearer, ControlPlaneEnv, token } from './support.js';

/** The hour of an instant on the wall clock of a zone. */
const localHour = (iso: string, timeZone: string) => Number(new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(new Date(iso)));

const env = new ControlPlaneEnv('tenants');
let nc: NatsConnection;
const as: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  await env.start({ API_RATE_LIMIT_BURST: '100000', API_RATE_LIMIT_PER_SECOND: '100000' });
  nc = await connect({ servers: env.nats.url });
  as.admin = bearer(await token('system-admin'));
  as.acmeAdmin = bearer(await token('tenant-admin', 'acme'));
  as.acmeViewer = bearer(await token('viewer', 'acme'));
  as.globexAdmin = bearer(await token('tenant-admin', 'globex'));
  as.service = apiKey();
  for (const [companyId, timezone] of [['acme', 'Europe/Berlin'], ['globex', 'America/New_York'], ['initech', 'Asia/Tokyo']]) {
    const res = await env.call('POST', '/api/v1/tenants', { auth: as.admin, body: { companyId, timezone, name: companyId.toUpperCase() } });
    expect(res.status).toBe(201);
  }
});

afterAll(async () => {
  await nc?.close();
  await env.stop();
});

/** The tenant.upserted events stored for a tenant, oldest first. */
async function announced(companyId: string): Promise<{ id: string; data: Record<string, unknown> }[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get('EVENTS', { filter_subjects: `events.${companyId}.tenant.upserted`, deliver_policy: DeliverPolicy.All });
  const out: { id: string; data: Record<string, unknown> }[] = [];
  const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
  for await (const m of batch) out.push(JSON.parse(new TextDecoder().decode(m.data)));
  return out;
}

describe('tenant registry API', () => {
  it('lets only system admins register tenants, and refuses bad input with problem+json', async () => {
    const body = { companyId: 'hooli', timezone: 'Europe/Paris' };
    expect((await env.call('POST', '/api/v1/tenants', { body })).status).toBe(401);
    for (const who of ['acmeAdmin', 'acmeViewer', 'service']) expect((await env.call('POST', '/api/v1/tenants', { auth: as[who], body })).status).toBe(403);

    const bad = await env.call('POST', '/api/v1/tenants', { auth: as.admin, body: { companyId: 'hooli', timezone: 'Mars/Olympus', locale: 'not a locale!' } });
    expect(bad.status).toBe(422);
    expect(bad.type).toMatch(/^application\/problem\+json/);
    expect(bad.json.errors.join('\n')).toMatch(/timezone: "Mars\/Olympus" is not an IANA timezone[\s\S]*locale: "not a locale!" is not a BCP 47/);

    const shape = await env.call('POST', '/api/v1/tenants', { auth: as.admin, body: { companyId: 'has space', timezone: 'UTC', plan: 'gold' } });
    expect(shape.status).toBe(400);
    expect(shape.type).toMatch(/^application\/problem\+json/);
    expect(shape.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(['companyId', 'plan']);

    const dup = await env.call('POST', '/api/v1/tenants', { auth: as.admin, body: { companyId: 'acme', timezone: 'UTC' } });
    expect(dup.status).toBe(409);
    expect(dup.json.detail).toBe('Tenant "acme" is registered already');

    const created = await env.call('POST', '/api/v1/tenants', { auth: as.admin, body: { ...body, locale: 'fr-fr' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ companyId: 'hooli', timezone: 'Europe/Paris', locale: 'fr-FR', active: true, paused: false, version: 1, name: null });
  });

  it('lists tenants in pages for platform callers and only their own for tenant callers; another tenant is 404', async () => {
    const first = await env.call('GET', '/api/v1/tenants?limit=2', { auth: as.admin });
    expect(first.status).toBe(200);
    expect(first.json.items.map((t: { companyId: string }) => t.companyId)).toEqual(['acme', 'globex']);
    const second = await env.call('GET', `/api/v1/tenants?limit=2&cursor=${first.json.nextCursor}`, { auth: as.admin });
    expect(second.json.items.map((t: { companyId: string }) => t.companyId)).toEqual(['hooli', 'initech']);
    expect((await env.call('GET', '/api/v1/tenants?cursor=Zm9vIGJhcg', { auth: as.admin })).status).toBe(422);

    for (const who of ['acmeAdmin', 'acmeViewer']) {
      const mine = await env.call('GET', '/api/v1/tenants', { auth: as[who] });
      expect(mine.json).toEqual({ items: [expect.objectContaining({ companyId: 'acme', timezone: 'Europe/Berlin', name: 'ACME' })], nextCursor: null });
      expect((await env.call('GET', '/api/v1/tenants/acme', { auth: as[who] })).status).toBe(200);
      const foreign = await env.call('GET', '/api/v1/tenants/globex', { auth: as[who] });
      expect(foreign.status).toBe(404);
      expect(foreign.type).toMatch(/^application\/problem\+json/);
    }
    expect((await env.call('GET', '/api/v1/tenants/nobody', { auth: as.admin })).status).toBe(404);
  });

  it('lets a tenant admin change its own timezone and locale only; system admins change anything; every change is audited and announced', async () => {
    const own = await env.call('PATCH', '/api/v1/tenants/acme', { auth: as.acmeAdmin, body: { timezone: 'Europe/London', locale: 'en-GB' } });
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ companyId: 'acme', timezone: 'Europe/London', locale: 'en-GB', version: 2 });

    const paused = await env.call('PATCH', '/api/v1/tenants/acme', { auth: as.acmeAdmin, body: { paused: true, locale: 'de' } });
    expect(paused.status).toBe(403);
    expect(paused.json.detail).toMatch(/timezone and locale only \(not paused\)/);
    expect((await env.call('PATCH', '/api/v1/tenants/globex', { auth: as.acmeAdmin, body: { timezone: 'UTC' } })).status).toBe(404);
    expect((await env.call('PATCH', '/api/v1/tenants/acme', { auth: as.acmeViewer, body: { timezone: 'UTC' } })).status).toBe(403);
    expect((await env.call('PATCH', '/api/v1/tenants/acme', { auth: as.service, body: { timezone: 'UTC' } })).status).toBe(403);
    const badZone = await env.call('PATCH', '/api/v1/tenants/acme', { auth: as.acmeAdmin, body: { timezone: 'Europe/Atlantis' } });
    expect(badZone.status).toBe(422);
    expect((await env.call('PATCH', '/api/v1/tenants/nobody', { auth: as.admin, body: { paused: true } })).status).toBe(404);

    const admin = await env.call('PATCH', '/api/v1/tenants/acme', { auth: as.admin, body: { paused: true, name: 'Acme Corp' } });
    expect(admin.json).toMatchObject({ paused: true, name: 'Acme Corp', version: 3 });
    // The same values again change nothing: no new version, no event.
    expect((await env.call('PATCH', '/api/v1/tenants/acme', { auth: as.admin, body: { paused: true } })).json.version).toBe(3);

    const log = await env.call('GET', '/api/v1/audit?targetType=tenant&targetId=acme', { auth: as.acmeViewer });
    expect(log.json.items.map((e: { action: string; actor: string; before: { timezone?: string } | null; after: { timezone: string } }) => [e.action, e.actor, e.before?.timezone ?? null, e.after.timezone])).toEqual([
      ['tenant.change', 'system-admin-all', 'Europe/London', 'Europe/London'],
      ['tenant.change', 'tenant-admin-acme', 'Europe/Berlin', 'Europe/London'],
      ['tenant.create', 'system-admin-all', null, 'Europe/Berlin'],
    ]);

    let events: Awaited<ReturnType<typeof announced>> = [];
    await waitFor(async () => (events = await announced('acme')).length === 3, { what: 'three tenant.upserted events for acme' });
    expect(events.map((e) => [e.id, e.data.version, e.data.timezone, e.data.locale, e.data.paused])).toEqual([
      ['tenant:acme:v1', 1, 'Europe/Berlin', 'en', false],
      ['tenant:acme:v2', 2, 'Europe/London', 'en-GB', false],
      ['tenant:acme:v3', 3, 'Europe/London', 'en-GB', true],
    ]);
  });

  it('gives a new tenant its platform schedules at once, in its own timezone', async () => {
    const res = await env.call('POST', '/api/v1/tenants', { auth: as.admin, body: { companyId: 'kiwi', timezone: 'Pacific/Auckland' } });
    expect(res.status).toBe(201);
    // Its own expiry scan, at 08:00 in Auckland by default, which its admin sees but may not change.
    const kiwiAdmin = bearer(await token('tenant-admin', 'kiwi'));
    const scan = await env.call('GET', '/api/v1/schedules/platform.documents-expiry-scan.kiwi/preview?count=2', { auth: kiwiAdmin });
    expect(scan.status).toBe(200);
    expect(scan.json.next.map((at: string) => localHour(at, 'Pacific/Auckland'))).toEqual([8, 8]);
    expect((await env.call('PATCH', '/api/v1/schedules/platform.documents-expiry-scan.kiwi', { auth: kiwiAdmin, body: { cron: '0 3 * * *' } })).status).toBe(403);
    // The claim loop places the shared per-tenant schedules' cursors in the new zone without a restart.
    let cursors: { name: string; zone_cursors: Record<string, string> | null }[] = [];
    await waitFor(async () => {
      cursors = await env.database.query(`SELECT name, zone_cursors FROM schedules WHERE name IN ('platform.recurrence-generate', 'platform.documents-expiry-scan.kiwi')`);
      return cursors.length === 2 && cursors.every((r) => r.zone_cursors?.['Pacific/Auckland']);
    }, { what: 'cursors in Pacific/Auckland' });
    const at = Object.fromEntries(cursors.map((r) => [r.name, r.zone_cursors!['Pacific/Auckland']]));
    expect(localHour(at['platform.recurrence-generate'], 'Pacific/Auckland')).toBe(1);
    expect(localHour(at['platform.documents-expiry-scan.kiwi'], 'Pacific/Auckland')).toBe(8);
  });
});
