import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APP_CONFIG, EVENT_TYPES, loadConfig, type AppConfig } from '../../../libs/common/src/index.js';
import { HostResolver, type ResolvedAddress } from '../../../apps/notifier/src/webhooks/host-resolver.js';
import { WebhookTargetError, WebhookTargets } from '../../../apps/notifier/src/webhooks/webhook-targets.js';
import { WebhooksService } from '../../../apps/notifier/src/webhooks/webhooks.service.js';
import { freePort } from '../../support/nats-server.js';
import { runState } from '../../support/runs.js';
import { waitFor } from '../../support/wait.js';
import { NotifierHarness, verifySignature } from './harness.js';

/** DNS as the test says: each name has a list of answers, one per lookup (the last repeats). */
class TestResolver extends HostResolver {
  readonly answers = new Map<string, string[][]>();
  readonly lookups = new Map<string, number>();

  override async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const name = hostname.toLowerCase();
    const list = this.answers.get(name);
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const n = this.lookups.get(name) ?? 0;
    this.lookups.set(name, n + 1);
    return list[Math.min(n, list.length - 1)].map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as AddressInfo).port };
}

const SECRET = 'whsec_targets_0123456789';
const KEY = randomBytes(32).toString('base64');

/**
 * Outbound safety of tenant webhooks, against the notifier in-process on real
 * NATS and Postgres, a real HTTP receiver and a test resolver: every private,
 * loopback, link-local, metadata and internal target refused at registration
 * (422) in every spelling; a rebinding name refused at connect time; the
 * request goes to the checked address with the name as Host; no redirect
 * followed; the answer read only up to WEBHOOK_MAX_RESPONSE_BYTES; errors
 * stored without hosts or addresses; secrets encrypted at rest.
 */
describe('notifier: webhook targets', () => {
  const resolver = new TestResolver();
  // Plain http to this loopback receiver (127.0.0.1/32 trusted), a 16 KiB answer cap, secrets under a key.
  const h = new NotifierHarness({
    resolver,
    env: { WEBHOOK_MAX_RESPONSE_BYTES: '16384', ENCRYPTION_KEYS: `k1:${KEY}`, ENCRYPTION_ACTIVE_KEY: 'k1' },
  });
  const servers: Server[] = [];
  let closedPort = 0;

  beforeAll(async () => {
    await h.start();
    closedPort = await freePort();
    const port = new URL(h.receiver.url).port;
    resolver.answers.set('internal.example.com', [['10.1.2.3']]);
    resolver.answers.set('mixed.example.com', [['93.184.216.34', '192.168.0.10']]);
    resolver.answers.set('meta.example.com', [['169.254.169.254']]);
    resolver.answers.set('v6.example.com', [['2606:4700::6810:84e5', 'fd00:ec2::254']]);
    resolver.answers.set('loop6.example.com', [['::1']]);
    resolver.answers.set('mapped.example.com', [['::ffff:127.0.0.2']]);
    resolver.answers.set('hooks.example.com', [['127.0.0.1']]);
    resolver.answers.set('down.example.com', [['127.0.0.1']]);
    resolver.answers.set('rebind.example.com', [['93.184.216.34'], ['10.9.8.7']]);
    for (const tenant of ['named', 'rebind', 'down', 'redirect', 'stream', 'legacy']) await h.member(tenant, { userId: 'ops', roles: ['safety'] });
    expect(port).not.toBe('');
  }, 60_000);
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await h.stop();
  }, 60_000);

  const put = (companyId: string, url: string) => h.http('PUT', '/api/v1/webhooks', { companyId, body: { url, secret: SECRET } });
  const deliveries = (companyId: string) =>
    h.database.query<{ outcome: string; error: string | null; status_code: number | null; run_id: string }>(
      `SELECT outcome, error, status_code, run_id FROM notification_deliveries WHERE company_id = $1 AND channel = 'webhook' ORDER BY id`,
      [companyId],
    );

  it.each([
    ['http://127.0.0.2/hook', /loopback address/],
    ['http://2130706434/hook', /loopback address/], // 127.0.0.2, decimal
    ['http://0x7f.0.0.2/hook', /loopback address/], // hex
    ['http://0177.0.0.2/hook', /loopback address/], // octal
    ['http://[::1]/hook', /loopback address/],
    ['http://[::ffff:127.0.0.2]/hook', /loopback address/], // IPv4-mapped IPv6
    ['http://localhost/hook', /internal host name/],
    ['http://localhost./hook', /internal host name/],
    ['http://LocalHost:8080/hook', /internal host name/],
    ['http://metadata/computeMetadata/v1/', /internal host name/],
    ['http://metadata.google.internal/computeMetadata/v1/', /cloud metadata address/],
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata address/],
    ['http://2852039166/latest/meta-data/', /cloud metadata address/],
    ['http://[fd00:ec2::254]/latest/meta-data/', /cloud metadata address/],
    ['http://[64:ff9b::a9fe:a9fe]/', /cloud metadata address/], // NAT64
    ['http://100.100.100.200/', /cloud metadata address/],
    ['http://10.0.0.1/hook', /private address/],
    ['http://172.16.5.4/hook', /private address/],
    ['http://192.168.1.1/hook', /private address/],
    ['http://100.64.0.1/hook', /shared \(CGNAT\) address/],
    ['http://169.254.3.4/hook', /link-local address/],
    ['http://[fe80::1]/hook', /link-local address/],
    ['http://[fc00::1]/hook', /unique-local address/],
    ['http://224.0.0.1/hook', /multicast address/],
    ['http://0.0.0.0/hook', /unspecified address/],
    ['http://[::]/hook', /unspecified address/],
    ['http://redis:6379/', /internal host name/],
    ['http://internal.example.com/hook', /resolves to a private address/],
    ['http://mixed.example.com/hook', /resolves to a private address/],
    ['http://meta.example.com/hook', /resolves to a cloud metadata address/],
    ['http://v6.example.com/hook', /resolves to a cloud metadata address/],
    ['http://loop6.example.com/hook', /resolves to a loopback address/],
    ['http://mapped.example.com/hook', /resolves to a loopback address/],
    ['http://nowhere.example.com/hook', /does not resolve/],
    ['ftp://hooks.example.com/hook', /http or https only/],
    ['not a url', /not a valid absolute URL/],
  ])('refuses %s at registration with 422 problem+json', async (url, reason) => {
    const res = await put('victim-probe', url);
    expect(res.status).toBe(422);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toMatch(reason);
    expect(res.body.detail).not.toMatch(/10\.1\.2\.3|192\.168\.0\.10|169\.254\.169\.254 |fd00:ec2/); // the resolved addresses are not echoed
    expect((await h.http('GET', '/api/v1/webhooks', { companyId: 'victim-probe' })).status).toBe(404);
  });

  it('allows https only outside development (configuration), whatever the address', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).webhooks.allowHttp).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).webhooks.allowHttp).toBe(false);
    expect(loadConfig({ NODE_ENV: 'development' }).webhooks.allowHttp).toBe(true);
    const config = h.app.get<AppConfig>(APP_CONFIG);
    const strict = new WebhookTargets({ ...config, webhooks: { ...config.webhooks, allowHttp: false } }, resolver);
    expect(() => strict.parse('http://hooks.example.com/x')).toThrow(WebhookTargetError);
    expect(() => strict.parse('http://hooks.example.com/x')).toThrow(/https only/);
    expect(strict.parse('https://hooks.example.com/x').hostname).toBe('hooks.example.com');
  });

  it('connects to the checked address with the name as Host, signs with the secret it stores encrypted', async () => {
    const port = new URL(h.receiver.url).port;
    expect((await put('named', `http://hooks.example.com:${port}/hooks`)).status).toBe(200);
    const [row] = await h.database.query<{ secret: string }>(`SELECT secret FROM notifier_webhooks WHERE company_id = 'named'`);
    expect(row.secret).not.toContain(SECRET);
    expect(JSON.parse(row.secret)).toMatchObject({ $enc: 'v1', kid: 'k1' });
    await h.event(EVENT_TYPES.notificationRequested, 'named', { title: 'By name', roles: ['safety'] }, 'evt-named-1');
    const req = (await waitFor(() => h.receiver.requests.find((r) => r.body.includes('evt-named-1')), { what: 'webhook by name' }))!;
    expect(req.headers.host).toBe(`hooks.example.com:${port}`);
    expect(verifySignature(req.headers['metronome-signature'] as string, req.body, SECRET)).toBe(true);
  });

  it('refuses a rebinding name at connect time: public when registered, private when called', async () => {
    const port = new URL(h.receiver.url).port;
    expect((await put('rebind', `http://rebind.example.com:${port}/hooks`)).status).toBe(200);
    await h.event(EVENT_TYPES.notificationRequested, 'rebind', { title: 'Rebind', roles: ['safety'] }, 'evt-rebind-1');
    const failed = (await waitFor(async () => (await deliveries('rebind')).find((d) => d.outcome === 'failed'), { what: 'refused delivery' }))!;
    expect(failed.error).toMatch(/resolves to a private address/);
    const dead = await waitFor(async () => (await h.database.query<{ reason: string; error: string }>(`SELECT reason, error FROM dead_letters WHERE company_id = 'rebind'`))[0], { what: 'dead letter' });
    expect(dead!.reason).toBe('permanent_error');
    // The run's history (what the runs API shows): its dead attempt, written in a batch that may trail the dead letter.
    const run = (await waitFor(async () => {
      const r = await runState(h.database, failed.run_id);
      return r?.state === 'dead' ? r : undefined;
    }, { what: 'the run dead in its history' }))!;
    expect(run.error).toEqual(expect.any(String));
    for (const text of [failed.error!, dead!.error, run.error]) {
      expect(text).not.toMatch(/10\.9\.8\.7|rebind\.example\.com|127\.0\.0\.1|93\.184/);
    }
    expect(resolver.lookups.get('rebind.example.com')).toBeGreaterThanOrEqual(2);
    expect(h.receiver.requests.some((r) => r.body.includes('evt-rebind-1'))).toBe(false);
  });

  it('stores connection errors without the host or address it tried', async () => {
    expect((await put('down', `http://down.example.com:${closedPort}/hooks`)).status).toBe(200);
    await h.event(EVENT_TYPES.notificationRequested, 'down', { title: 'Down', roles: ['safety'] }, 'evt-down-1');
    const retry = (await waitFor(async () => (await deliveries('down')).find((d) => d.outcome === 'retry'), { what: 'retried delivery' }))!;
    expect(retry.error).toBe('webhook: connection failed (ECONNREFUSED)');
    // The attempt's error as the run history keeps it (written in a batch, so wait for it).
    const run = (await waitFor(async () => {
      const r = await runState(h.database, retry.run_id);
      return r?.state === 'retrying' && r.error ? r : undefined;
    }, { what: 'the retried attempt in the run history' }))!;
    expect(run.error).not.toMatch(/127\.0\.0\.1|down\.example\.com|:\d{4,5}/);
  });

  it('does not follow a redirect (to an internal address or anywhere)', async () => {
    let stolen = 0;
    const target = await listen((_req, res) => {
      stolen++;
      res.end('ok');
    });
    const redirector = await listen((_req, res) => {
      res.writeHead(302, { Location: `http://127.0.0.1:${target.port}/stolen` }).end();
    });
    servers.push(target.server, redirector.server);
    expect((await put('redirect', `http://127.0.0.1:${redirector.port}/hooks`)).status).toBe(200);
    await h.event(EVENT_TYPES.notificationRequested, 'redirect', { title: 'Redirect', roles: ['safety'] }, 'evt-redirect-1');
    const failed = (await waitFor(async () => (await deliveries('redirect')).find((d) => d.outcome === 'failed'), { what: 'failed delivery' }))!;
    expect(failed).toMatchObject({ status_code: 302, error: 'webhook answered 302 (redirects are not followed)' });
    expect(stolen).toBe(0);
  });

  it('reads at most WEBHOOK_MAX_RESPONSE_BYTES of an endless answer and moves on', async () => {
    let written = 0;
    let closed = false;
    const stream = await listen((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        for (;;) {
          if (closed) return;
          written += chunk.length;
          if (!res.write(chunk)) break;
        }
        res.once('drain', pump);
      };
      res.on('close', () => (closed = true));
      pump();
    });
    servers.push(stream.server);
    expect((await put('stream', `http://127.0.0.1:${stream.port}/hooks`)).status).toBe(200);
    await h.event(EVENT_TYPES.notificationRequested, 'stream', { title: 'Stream', roles: ['safety'] }, 'evt-stream-1');
    await waitFor(async () => (await deliveries('stream')).some((d) => d.outcome === 'sent'), { what: 'sent despite the endless body', timeoutMs: 10_000 });
    await waitFor(() => closed, { what: 'the notifier hung up' });
    process.stdout.write(`endless webhook answer: the server had queued ${Math.round(written / 1024)} KiB (socket buffers included) when the notifier hung up\n`);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('encrypts secrets stored in plain text before encryption, and still signs with them', async () => {
    const port = new URL(h.receiver.url).port;
    await h.database.query(
      `INSERT INTO notifier_webhooks (id, company_id, url, secret, types, enabled) VALUES (gen_random_uuid(), 'legacy', $1, $2, '{}', true)`,
      [`http://127.0.0.1:${port}/hooks`, SECRET],
    );
    await h.app.get(WebhooksService).onApplicationBootstrap();
    const [row] = await h.database.query<{ secret: string }>(`SELECT secret FROM notifier_webhooks WHERE company_id = 'legacy'`);
    expect(row.secret).not.toContain(SECRET);
    await h.event(EVENT_TYPES.notificationRequested, 'legacy', { title: 'Legacy', roles: ['safety'] }, 'evt-legacy-1');
    const req = (await waitFor(() => h.receiver.requests.find((r) => r.body.includes('evt-legacy-1')), { what: 'legacy delivery' }))!;
    expect(verifySignature(req.headers['metronome-signature'] as string, req.body, SECRET)).toBe(true);
    expect(JSON.stringify((await h.http('GET', '/api/v1/webhooks', { companyId: 'legacy' })).body)).not.toContain(SECRET);
  });
});
