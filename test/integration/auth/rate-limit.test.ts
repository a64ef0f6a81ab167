import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { TEST_JWT_SECRET, testToken } from '../../support/auth.js';
import { TestDatabase } from '../../support/database.js';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { sleep } from '../../support/wait.js';

/**
 * Two replicas of the documents service on one database draw from the same buckets: a burst of 6 spent half
 * on each replica is spent, for a principal and for an anonymous client IP; 429 is problem+json with
 * Retry-After; the bucket refills at the configured rate on either replica.
 */
const nats = new TestNatsServer();
const database = new TestDatabase();
const replicas: { process: ServiceProcess; base: string }[] = [];

beforeAll(async () => {
  await Promise.all([nats.start(), database.create()]);
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const process = new ServiceProcess('apps/documents/src/main.js', {
      NATS_URLS: nats.url,
      DATABASE_URL: database.url,
      DOCUMENTS_PORT: String(port),
      JWT_SECRET: TEST_JWT_SECRET,
      API_RATE_LIMIT_BURST: '6',
      API_RATE_LIMIT_PER_SECOND: '1',
      INSTANCE_ID: `documents-${i}`,
    }).start();
    replicas.push({ process, base: `http://127.0.0.1:${port}` });
  }
  await Promise.all(replicas.map((r) => r.process.waitForLog('documents started', 60_000)));
}, 90_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.process.stop()));
  await nats.destroy();
  await database.drop();
});

const get = (i: number, headers: Record<string, string>) => fetch(`${replicas[i % 2].base}/api/v1/expiry-settings`, { headers });

it('shares one bucket per principal across replicas, answers 429 problem+json with Retry-After, and refills', async () => {
  const auth = { Authorization: `Bearer ${await testToken('tenant-admin', 'acme', { sub: 'shared-bucket' })}` };
  const statuses: number[] = [];
  let refused: Response | undefined;
  const started = Date.now();
  for (let i = 0; i < 12; i++) {
    const res = await get(i, auth);
    statuses.push(res.status);
    if (res.status === 429) refused ??= res;
    else await res.arrayBuffer();
  }
  const refilled = Math.ceil((Date.now() - started) / 1000);
  const ok = statuses.filter((s) => s === 200).length;
  // Per-process buckets would pass all twelve (six on each replica); one shared bucket passes six, plus what refilled meanwhile.
  expect(statuses.slice(0, 6)).toEqual([200, 200, 200, 200, 200, 200]);
  expect(ok).toBeLessThanOrEqual(6 + refilled);
  expect(ok).toBeLessThan(12);
  expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  expect(refused!.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await refused!.json()).toMatchObject({ type: 'https://metronome.dev/problems/rate-limited', status: 429 });
  // Another principal has its own bucket.
  const other = await get(0, { Authorization: `Bearer ${await testToken('tenant-admin', 'acme', { sub: 'someone-else' })}` });
  expect(other.status).toBe(200);
  // One token per second comes back, on whichever replica asks.
  await sleep(2_100);
  expect((await get(1, auth)).status).toBe(200);
});

it('limits clients without valid credentials by IP across replicas', async () => {
  const statuses: number[] = [];
  const started = Date.now();
  for (let i = 0; i < 12; i++) {
    const res = await get(i, i % 3 === 0 ? {} : { Authorization: 'Bearer not.a.token' });
    statuses.push(res.status);
    await res.arrayBuffer();
  }
  const refilled = Math.ceil((Date.now() - started) / 1000);
  expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
  expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6 + refilled);
  expect(statuses).toContain(429);
  expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
});
