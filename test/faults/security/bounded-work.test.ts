import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { JWT_SECRET, token } from '../../integration/control-plane/support.js';
import { TestDatabase } from '../../support/database.js';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { scenario } from '../support/recorder.js';

/**
 * Security: one request cannot stall a service. The recurrence service runs as
 * its own process from the build, with its production defaults (expansion
 * budget, start window). A probe polls its /healthz from this process while
 * the most expensive requests still allowed, the rules rrule would iterate
 * forever, and thousands of generated rules run against it.
 */
const nats = new TestNatsServer();
const database = new TestDatabase();
let service: ServiceProcess;
let base = '';
const DAY = 86_400_000;

/** The caller's tenant in the headers the service reads today and in a tenant-admin token (the verified credential). */
async function headersFor(companyId: string): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await token('tenant-admin', companyId, { sub: `user-${companyId}` })}`, 'X-Company-Id': companyId, 'X-User-Id': `user-${companyId}`, 'Content-Type': 'application/json' };
}

async function post(path: string, companyId: string, body: unknown): Promise<{ status: number; ms: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1${path}`, { method: 'POST', headers: await headersFor(companyId), body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - t0, text };
}

/** Polls /healthz every `everyMs` until `until` settles; the slowest answer in ms. */
async function probe(until: Promise<unknown>, everyMs = 50): Promise<{ max: number; probes: number; failures: number }> {
  let done = false;
  void until.finally(() => (done = true));
  let max = 0;
  let probes = 0;
  let failures = 0;
  while (!done) {
    const t0 = performance.now();
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) });
      await res.text();
      if (res.status !== 200) failures++;
    } catch {
      failures++;
    }
    max = Math.max(max, performance.now() - t0);
    probes++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return { max, probes, failures };
}

const local = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString().slice(0, 16);

beforeAll(async () => {
  await Promise.all([nats.start(), database.create()]);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = new ServiceProcess('apps/recurrence/src/main.js', {
    NATS_URLS: nats.url,
    DATABASE_URL: database.url,
    RECURRENCE_PORT: String(port),
    JWT_SECRET,
    LOG_LEVEL: 'warn',
    RECURRENCE_MAX_TEMPLATES_PER_TENANT: '40',
  }).start();
  await service.waitForLog('recurrence started', 60_000).catch(async () => {
    // LOG_LEVEL=warn hides the start line: wait for the port instead.
    for (let i = 0; i < 600; i++) {
      if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`recurrence did not start:\n${service.text.slice(-2000)}`);
  });
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await nats.destroy();
  await database.drop();
});

describe('security: bounded work per request (recurrence, its own process)', () => {
  it('refuses the request that used to hold the event loop for 55 s in well under a second', async () => {
    await scenario('S8 rrule-from-1990', async (c) => {
      const res = await post('/task-templates', 'acme', { title: 'x', rule: 'FREQ=MINUTELY', startLocal: '1990-01-01T00:00', timezone: 'UTC' });
      c.faults = 1;
      c.messages = 1;
      c.notes = `answered ${res.status} in ${res.ms.toFixed(0)} ms`;
      process.stdout.write(`FREQ=MINUTELY from 1990 (recurrence process): ${res.status} in ${res.ms.toFixed(0)} ms\n`);
      expect(res.status).toBe(422);
      expect(res.text).toMatch(/startLocal 1990-01-01T00:00 must lie between 10 years before/);
      expect(res.ms).toBeLessThan(5_000);
    });
  });

  it('answers /healthz within 1 s while the most expensive requests run at once', async () => {
    await scenario('S8 healthz-under-worst-requests', async (c) => {
      const start = local(-30 * DAY);
      const worst: [string, string, unknown][] = [];
      for (let i = 0; i < 3; i++) {
        const tenant = `probe-${i}`;
        // rrule iterates every minute from two years back on this one (a Monday February 29th, next in 2044); this one yields nothing until the year 9999; COUNT from ten years back.
        worst.push(['/task-templates', tenant, { title: 'loop', rule: 'FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=3;BYMINUTE=7', startLocal: local(-2 * 365 * DAY), timezone: 'UTC' }]);
        worst.push(['/task-templates', tenant, { title: 'never', rule: 'FREQ=MINUTELY;INTERVAL=10080;BYDAY=MO', startLocal: start, timezone: 'UTC' }]);
        worst.push(['/task-templates', tenant, { title: 'count', rule: 'FREQ=SECONDLY;COUNT=9999999', startLocal: local(-9 * 365 * DAY), timezone: 'UTC' }]);
        // Allowed and expensive: a sub-daily rule expanded from its start, and nearly 5,000 occurrences in the horizon.
        worst.push(['/task-templates', tenant, { title: 'sub-daily', rule: 'FREQ=SECONDLY;BYHOUR=3;BYMINUTE=7;BYSECOND=1', startLocal: start, timezone: 'UTC' }]);
        worst.push(['/task-templates', tenant, { title: 'dense', rule: 'FREQ=MINUTELY;INTERVAL=9', startLocal: local(-5 * 365 * DAY), timezone: 'UTC' }]);
        worst.push(['/calendar-events', tenant, { title: 'meeting', rule: 'FREQ=HOURLY;INTERVAL=3', startLocal: start, timezone: 'UTC', reminderOffsetsMinutes: [5, 60, 1440] }]);
      }
      const requests = Promise.all(worst.map(([path, tenant, body]) => post(path, tenant, body)));
      const health = await probe(requests);
      const results = await requests;
      c.faults = worst.length;
      c.messages = worst.length + health.probes;
      c.lost = health.failures + results.filter((r) => r.status >= 500).length;
      c.notes = `${worst.length} concurrent worst requests; /healthz ${health.probes} probes, max ${health.max.toFixed(0)} ms; slowest request ${Math.max(...results.map((r) => r.ms)).toFixed(0)} ms`;
      process.stdout.write(`/healthz while ${worst.length} worst requests ran (recurrence process): ${health.probes} probes, max ${health.max.toFixed(0)} ms\n`);
      expect(results.map((r) => r.status).filter((s) => s >= 500)).toEqual([]);
      const by = (title: string) => results.filter((_, i) => (worst[i][2] as { title: string }).title === title).map((r) => r.status);
      // Allowed (sliced, so never near the budget) and refused as too expensive, whatever the load.
      expect([...by('dense'), ...by('meeting')]).toEqual([201, 201, 201, 201, 201, 201]);
      expect([...by('never'), ...by('count')]).toEqual(Array(6).fill(422));
      // Minute by minute from two years back: refused past the budget on a slow or loaded machine, allowed (no
      // occurrence) on a quick one — either way answered, without 5xx, while /healthz kept answering.
      expect(by('loop').every((s) => s === 201 || s === 422)).toBe(true);
      // Expanded from its start in one slice of ~150 ms: allowed, or refused as too expensive on a machine this loaded.
      expect(by('sub-daily').every((s) => s === 201 || s === 422)).toBe(true);
      expect(health.failures).toBe(0);
      expect(health.max).toBeLessThan(1_000);
    });
  }, 120_000);

  it('bounds generated rules: every one answered without 5xx and in bounded time, /healthz within 1 s throughout', async () => {
    await scenario('S8 fuzz-rrule', async (c) => {
      const int = (min: number, max: number) => fc.integer({ min, max });
      const list = (min: number, max: number) => fc.uniqueArray(int(min, max), { minLength: 1, maxLength: 4 }).map((xs) => xs.join(','));
      const part = fc.oneof(
        list(1, 12).map((v) => `BYMONTH=${v}`),
        fc.uniqueArray(fc.oneof(int(1, 31), int(-31, -1)), { minLength: 1, maxLength: 3 }).map((v) => `BYMONTHDAY=${v.join(',')}`),
        list(0, 23).map((v) => `BYHOUR=${v}`),
        list(0, 59).map((v) => `BYMINUTE=${v}`),
        list(0, 59).map((v) => `BYSECOND=${v}`),
        fc.uniqueArray(fc.constantFrom('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU', '1MO', '-1FR', '2TU'), { minLength: 1, maxLength: 3 }).map((v) => `BYDAY=${v.join(',')}`),
        fc.uniqueArray(fc.oneof(int(1, 366), int(-366, -1)), { minLength: 1, maxLength: 2 }).map((v) => `BYYEARDAY=${v.join(',')}`),
        list(1, 53).map((v) => `BYWEEKNO=${v}`),
        fc.uniqueArray(fc.oneof(int(1, 10), int(-10, -1)), { minLength: 1, maxLength: 2 }).map((v) => `BYSETPOS=${v.join(',')}`),
        int(1, 99_999).map((v) => `INTERVAL=${v}`),
        int(1, 9_999_999).map((v) => `COUNT=${v}`),
        fc.date({ min: new Date('2026-01-01'), max: new Date('9999-01-01'), noInvalidDate: true }).map((d) => `UNTIL=${d.toISOString().slice(0, 10).replace(/-/g, '')}`),
      );
      const rule = fc.tuple(fc.constantFrom('YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY', 'MINUTELY', 'SECONDLY'), fc.array(part, { maxLength: 4 }))
        .map(([f, parts]) => [`FREQ=${f}`, ...parts].join(';'));
      const start = int(-3650, 3650).map((days) => local(days * DAY));
      const statuses = new Map<number, number>();
      const slow: string[] = [];
      let maxMs = 0;
      const runs = fc.sample(fc.tuple(rule, start, fc.boolean()), { numRuns: 300, seed: Number(process.env.FUZZ_SEED ?? 20261201) });
      const all = (async () => {
        for (const [i, [r, s, calendar]] of runs.entries()) {
          const res = calendar
            ? await post('/calendar-events', `fuzz-${i % 25}`, { title: 'f', rule: r, startLocal: s, timezone: 'Europe/Berlin', reminderOffsetsMinutes: [10] })
            : await post('/task-templates', `fuzz-${i % 25}`, { title: 'f', rule: r, startLocal: s, timezone: 'Europe/Berlin' });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          maxMs = Math.max(maxMs, res.ms);
          if (res.status >= 500 || res.ms > 5_000) slow.push(`${res.status} ${res.ms.toFixed(0)} ms ${r} from ${s}: ${res.text.slice(0, 200)}`);
        }
      })();
      const health = await probe(all, 100);
      await all;
      c.messages = runs.length + health.probes;
      c.faults = runs.length;
      c.lost = slow.length + health.failures;
      c.notes = `${runs.length} generated rules: ${[...statuses].map(([s, n]) => `${s} x${n}`).join(', ')}; slowest ${maxMs.toFixed(0)} ms; /healthz max ${health.max.toFixed(0)} ms over ${health.probes} probes`;
      process.stdout.write(`RRULE fuzz (recurrence process): ${c.notes}\n`);
      expect(slow).toEqual([]);
      expect(health.failures).toBe(0);
      expect(health.max).toBeLessThan(1_000);
    });
  }, 600_000);
});
