import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { bearer, ControlPlaneEnv, TENANT_A, token } from './support.js';

const env = new ControlPlaneEnv('limits');
beforeAll(async () => {
  await env.start({ API_RATE_LIMIT_BURST: '5', API_RATE_LIMIT_PER_SECOND: '1', API_BODY_LIMIT_BYTES: '2048' });
});
afterAll(async () => {
  await env.stop();
});

it('answers 429 problem+json with Retry-After once a principal spends its burst, without slowing other principals', async () => {
  const viewer = bearer(await token('viewer', TENANT_A));
  const statuses: number[] = [];
  let last;
  for (let i = 0; i < 8; i++) {
    last = await env.call('GET', '/api/v1/queues', { auth: viewer });
    statuses.push(last.status);
  }
  expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
  expect(statuses.slice(5)).toEqual([429, 429, 429]);
  expect(last!.type).toMatch(/^application\/problem\+json/);
  expect(last!.json).toMatchObject({ type: 'https://metronome.dev/problems/rate-limited', title: 'Too Many Requests', status: 429 });
  expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  // Another principal has its own bucket.
  expect((await env.call('GET', '/api/v1/queues', { auth: bearer(await token('system-admin')) })).status).toBe(200);
  // The bucket refills at the configured rate.
  await new Promise((r) => setTimeout(r, 1_100));
  expect((await env.call('GET', '/api/v1/queues', { auth: viewer })).status).toBe(200);
});

it('limits anonymous and bad-credential callers by IP', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await env.call('GET', '/api/v1/jobs', { auth: { Authorization: 'Bearer nonsense' } })).status);
  expect(statuses).toContain(401);
  expect(statuses.slice(-2)).toEqual([429, 429]);
});

it('refuses a body over API_BODY_LIMIT_BYTES with 413 problem+json', async () => {
  const admin = bearer(await token('system-admin', undefined, { sub: 'big-body' }));
  const res = await env.call('POST', '/api/v1/schedules/preview', { auth: admin, raw: JSON.stringify({ cron: '* * * * *', timezone: 'UTC', pad: 'x'.repeat(4096) }) });
  expect(res.status).toBe(413);
  expect(res.json).toMatchObject({ status: 413, title: 'Content Too Large', detail: 'The request body exceeds 2048 bytes' });
});
