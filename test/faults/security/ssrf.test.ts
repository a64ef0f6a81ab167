import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { EVENT_TYPES } from '../../../libs/common/src/index.js';
import { HostResolver, type ResolvedAddress } from '../../../apps/notifier/src/webhooks/host-resolver.js';
import { NotifierHarness } from '../../integration/notifier/harness.js';
import { waitFor } from '../../support/wait.js';
import { scenario } from '../support/recorder.js';

/** DNS as the test says: answers per lookup (the last repeats); unknown names do not resolve. */
class TestResolver extends HostResolver {
  readonly answers = new Map<string, string[][]>();
  readonly lookups = new Map<string, number>();

  override async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    const list = this.answers.get(name);
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const n = this.lookups.get(name) ?? 0;
    this.lookups.set(name, n + 1);
    return list[Math.min(n, list.length - 1)].map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }
}

/** IPv4 ranges no webhook may reach: [first octets fixed, prefix bits]. */
const BLOCKED_V4: [number[], number][] = [
  [[127], 8], [[10], 8], [[172, 16], 12], [[192, 168], 16], [[100, 64], 10], [[169, 254], 16], [[0], 8], [[224], 4], [[240], 4], [[198, 18], 15],
];
const PUBLIC_V4 = ['93.184.216.34', '8.8.4.4', '1.1.1.1', '151.101.1.69', '172.32.0.5', '100.128.3.4'];

const u32 = (o: number[]) => ((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3];

/** An address inside a blocked range. */
const blockedV4 = fc.tuple(fc.constantFrom(...BLOCKED_V4), fc.integer({ min: 0, max: 2 ** 32 - 1 })).map(([[fixed, bits], r]) => {
  const base = u32([...fixed, 0, 0, 0, 0].slice(0, 4));
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const n = ((base & mask) | (r & ~mask)) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
});

/** Every way a URL can spell an IPv4 address that the URL parser (and the OS resolver) accept. */
const spellings: ((o: number[]) => string)[] = [
  (o) => o.join('.'),
  (o) => String(u32(o)), // decimal
  (o) => `0x${u32(o).toString(16)}`, // hex
  (o) => o.map((x) => `0${x.toString(8)}`).join('.'), // octal parts
  (o) => o.map((x) => `0x${x.toString(16)}`).join('.'), // hex parts
  (o) => `${o[0]}.${(o[1] << 16) + (o[2] << 8) + o[3]}`, // a.bcd
  (o) => `${o[0]}.${o[1]}.${(o[2] << 8) + o[3]}`, // a.b.cd
  (o) => `[::ffff:${o.join('.')}]`, // IPv4-mapped
  (o) => `[::ffff:${((o[0] << 8) + o[1]).toString(16)}:${((o[2] << 8) + o[3]).toString(16)}]`,
  (o) => `[64:ff9b::${o.join('.')}]`, // NAT64
  (o) => `[2002:${((o[0] << 8) + o[1]).toString(16)}:${((o[2] << 8) + o[3]).toString(16)}::1]`, // 6to4
];
const BLOCKED_V6 = ['::1', '::', 'fe80::1', 'fe80::abcd:1234', 'fc00::1', 'fd12:3456:789a::1', 'ff02::1', 'fd00:ec2::254', 'fd20:ce::254', 'fec0::1', '100::1'];
const INTERNAL_NAMES = ['localhost', 'localhost.', 'LOCALHOST', 'api.localhost', 'metadata', 'metadata.google.internal', 'metadata.google.internal.', 'instance-data', 'kubernetes.default.svc', 'db.cluster.local', 'nas.local', 'router.home.arpa', 'redis'];

/**
 * Security: SSRF through tenant webhooks, with production settings (https
 * only, no trusted ranges), against the notifier in-process on real NATS and
 * Postgres with a test resolver. Thousands of generated private, loopback,
 * link-local, CGNAT, multicast and metadata addresses in every spelling, and
 * names resolving to them, are refused at registration and nothing is
 * stored; public ones are accepted; names that answer public at registration
 * and private later are refused at connect time and no connection is made.
 */
describe('security: webhook SSRF', () => {
  const resolver = new TestResolver();
  // Production webhook settings; the API's rate limit raised (thousands of registrations from one caller are the test, not abuse).
  const h = new NotifierHarness({ resolver, env: { WEBHOOK_ALLOW_HTTP: 'false', WEBHOOK_ALLOWED_CIDRS: '', API_RATE_LIMIT_BURST: '1000000', API_RATE_LIMIT_PER_SECOND: '100000' } });
  let trap: Server;
  let trapPort = 0;
  let connections = 0;

  beforeAll(async () => {
    await h.start();
    // Where a rebinding name points when called: any TCP connection reaching it is a failure.
    trap = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', () => resolve()));
    trapPort = (trap.address() as AddressInfo).port;
  }, 60_000);
  afterAll(async () => {
    await new Promise((r) => trap.close(r));
    await h.stop();
  }, 60_000);

  const put = (companyId: string, url: string) => h.http('PUT', '/api/v1/webhooks', { companyId, body: { url, secret: 'whsec_ssrf_0123456789' } });

  it('refuses every private, loopback, link-local, metadata and internal target in every spelling at registration', async () => {
    await scenario('S9 ssrf-registration', async (c) => {
      const problems: string[] = [];
      const literal = fc.oneof(
        fc.tuple(blockedV4, fc.integer({ min: 0, max: spellings.length - 1 })).map(([o, s]) => ({ host: spellings[s](o), what: o.join('.') })),
        fc.constantFrom(...BLOCKED_V6).map((a) => ({ host: `[${a}]`, what: a })),
        fc.constantFrom(...INTERNAL_NAMES).map((n) => ({ host: n, what: n })),
      );
      // A name of ours that resolves to blocked addresses (alone, or mixed with a public one).
      let names = 0;
      const named = fc.tuple(blockedV4, fc.boolean()).map(([o, mixed]) => {
        const name = `n${names++}.attacker.example`;
        resolver.answers.set(name, [mixed ? ['93.184.216.34', o.join('.')] : [o.join('.')]]);
        return { host: name, what: `${name} -> ${o.join('.')}` };
      });
      const target = fc.tuple(fc.oneof(literal, named), fc.constantFrom('', ':443', ':8443', ':80'), fc.constantFrom('/hook', '/', '/latest/meta-data/?x=1'));
      const samples = fc.sample(target, { numRuns: 1_500, seed: Number(process.env.FUZZ_SEED ?? 20261201) });
      for (const [{ host, what }, port, path] of samples) {
        const url = `https://${host}${port}${path}`;
        const res = await put('ssrf', url);
        c.faults++;
        c.messages++;
        if (res.status !== 422 || !res.type.startsWith('application/problem+json')) problems.push(`${url} (${what}): ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
      }
      const stored = await h.database.query(`SELECT url FROM notifier_webhooks WHERE company_id = 'ssrf'`);
      c.lost = problems.length + stored.length;
      c.notes = `${samples.length} generated targets refused; stored: ${stored.length}`;
      expect(problems.slice(0, 20)).toEqual([]);
      expect(stored).toEqual([]);
      // Plain http is refused outside development, even to a public address.
      expect((await put('ssrf', 'http://93.184.216.34/hook')).status).toBe(422);
    });
  }, 300_000);

  it('accepts public addresses in the same spellings (no false alarm)', async () => {
    for (const address of PUBLIC_V4) {
      const o = address.split('.').map(Number);
      for (const spell of spellings) {
        const url = `https://${spell(o)}/hook`;
        const res = await put('public', url);
        expect({ url, status: res.status }).toEqual({ url, status: 200 });
      }
    }
  }, 120_000);

  it('refuses names that answer public at registration and private when called; nothing connects', async () => {
    await scenario('S9 ssrf-dns-rebinding', async (c) => {
      await h.member('rebind', { userId: 'ops', roles: ['safety'] });
      const targets = ['127.0.0.1', '169.254.169.254', '10.0.0.8', '::ffff:127.0.0.1'];
      let n = 0;
      for (const inside of targets) {
        const name = `rebind${n}.attacker.example`;
        // Public when the tenant registers, then the address inside on every later lookup.
        resolver.answers.set(name, [['93.184.216.34'], [inside]]);
        expect((await put('rebind', `https://${name}:${trapPort}/hook`)).status).toBe(200);
        await h.event(EVENT_TYPES.notificationRequested, 'rebind', { title: `Rebind ${n}`, roles: ['safety'] }, `evt-rebind-${n}`);
        c.faults++;
        c.messages++;
        const failed = await waitFor(async () => (await h.database.query<{ error: string; run_id: string }>(
          `SELECT d.error, d.run_id FROM notification_deliveries d JOIN job_runs r ON r.id = d.run_id
            WHERE d.company_id = 'rebind' AND d.outcome = 'failed' AND r.payload::text LIKE $1`, [`%evt-rebind-${n}%`]))[0], { what: `delivery ${n} refused`, timeoutMs: 20_000 });
        expect(failed!.error).toMatch(/resolves to a (loopback|cloud metadata|private) address/);
        expect(failed!.error).not.toMatch(/attacker|127\.0\.0\.1|169\.254|10\.0\.0\.8|93\.184/);
        expect(resolver.lookups.get(name)).toBeGreaterThanOrEqual(2);
        n++;
      }
      c.lost = connections;
      c.notes = `${targets.length} rebinding names; connections reaching the inside address: ${connections}`;
      expect(connections).toBe(0);
    });
  }, 120_000);
});
