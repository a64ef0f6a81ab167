import { TEST_JWT_SECRET, testToken } from '../../support/auth.js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { createCloudEvent, encodeCloudEvent, EVENT_TYPES, subjects } from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';
import { TestSmtp } from './harness.js';

/** The built notifier as its own process: provisions its consumers, takes SMTP_URL from the environment, mails a member. */
describe('notifier as a real process', () => {
  const nats = new TestNatsServer();
  const database = new TestDatabase();
  const smtp = new TestSmtp();
  let nc: NatsConnection;
  let p: ServiceProcess;

  beforeAll(async () => {
    await Promise.all([nats.start(), database.create(), smtp.start()]);
    nc = await connect({ servers: nats.url });
  }, 60_000);
  afterAll(async () => {
    await p?.stop();
    await nc?.close();
    await smtp.stop();
    await nats.destroy();
    await database.drop();
  }, 60_000);

  it('starts, provisions notifier-events and its job consumers, and mails a tenant admin about a dead job', async () => {
    const port = await freePort();
    p = new ServiceProcess('apps/notifier/src/main.js', {
      NATS_URLS: nats.url,
      DATABASE_URL: database.url,
      NOTIFIER_PORT: String(port),
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      MAIL_FROM: 'ops@metronome.test',
      JWT_SECRET: TEST_JWT_SECRET,
    }).start();
    await p.waitForLog('notifier started');
    const js = jetstream(nc);
    const send = (type: string, data: Record<string, unknown>, id: string) =>
      js.publish(subjects.event('proc', type), encodeCloudEvent(createCloudEvent({ type, source: 'test', data, companyId: 'proc', id })), { msgID: id });
    await send(EVENT_TYPES.memberUpserted, { companyId: 'proc', userId: 'u1', roles: ['tenant-admin'], email: 'u1@proc.test', version: 1 }, 'm-1');
    await waitFor(async () => (await database.query("SELECT 1 FROM notifier_members WHERE user_id = 'u1'")).length === 1, { what: 'member projected' });
    await send(EVENT_TYPES.jobDead, { runId: 'r-9', job: 'documents.expiry-scan', error: 'boom' }, 'dead-1');
    const mail = (await waitFor(() => smtp.to('u1@proc.test')[0], { what: 'mail' }))!;
    expect(mail.subject).toBe('Job failed: documents.expiry-scan');
    expect(mail.raw).toContain('From: ops@metronome.test');
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/notifications/unread-count`, { headers: { Authorization: `Bearer ${await testToken('user', 'proc', { sub: 'u1' })}` } });
    expect(await res.json()).toEqual({ unread: 1 });
  }, 60_000);
});
