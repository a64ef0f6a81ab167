import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { createCloudEvent, encodeCloudEvent, subjects } from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { freePort, NATS_SERVER_BIN } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { sleep } from '../../support/wait.js';
import { scenario } from '../support/recorder.js';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';

/**
 * Security: secrets never appear in logs. All four services run as one built
 * process (npm run start:all) at LOG_LEVEL=trace with JWT_SECRET, an API key, an
 * encryption key, a DATABASE_URL password, a NATS password and an SMTP password
 * set; the test provokes what logs the most (bad tokens and API keys, mail
 * sending, a NATS restart, terminated database backends, configuration errors -
 * malformed values, placeholder-looking secrets, DEMO in production) and greps
 * every byte of output.
 */
const SECRETS = {
  JWT_SECRET: 'jwt-secret-never-logged-0123456789abcdef',
  DB_PASSWORD: 'db-password-never-logged-4242',
  NATS_PASSWORD: 'nats-password-never-logged-7777',
  SMTP_PASSWORD: 'smtp-password-never-logged-9999',
  API_KEY: 'api-key-never-logged-31337-abcdef',
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  NATS_TOKEN: 'nats-token-never-logged-5150',
};
/** A secret leaks when any 16 consecutive characters of it appear: part of a key is still key material. */
function leaked(secret: string, output: string): boolean {
  const n = Math.min(16, secret.length);
  for (let i = 0; i + n <= secret.length; i++) if (output.includes(secret.slice(i, i + n))) return true;
  return false;
}
const database = new TestDatabase();
let natsPort = 0;
let nats: ChildProcess | undefined;
let smtp: SMTPServer;
let smtpPort = 0;
const processes: ServiceProcess[] = [];

const startNats = async () => {
  nats = spawn(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', `/tmp/metronome-secrets-${natsPort}`, '--user', 'svc', '--pass', SECRETS.NATS_PASSWORD], { stdio: 'ignore' });
  await sleep(500);
};
const stopNats = async () => {
  if (!nats) return;
  const p = nats;
  await new Promise<void>((r) => {
    p.once('exit', () => r());
    p.kill('SIGTERM');
  });
};

const dbUrl = () => {
  const u = new URL(database.url);
  u.username = 'postgres';
  u.password = SECRETS.DB_PASSWORD;
  return u.toString();
};

/** Four ports, distinct from each other and from NATS (freePort may hand the same one out twice). */
async function ports(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) {
    const p = await freePort();
    if (p !== natsPort && p !== smtpPort) out.add(p);
  }
  return [...out];
}

const env = async (): Promise<Record<string, string>> => {
  const [scheduler, documents, notifier, recurrence] = await ports(4);
  return {
  NATS_URLS: `nats://127.0.0.1:${natsPort}`,
  NATS_USER: 'svc',
  NATS_PASSWORD: SECRETS.NATS_PASSWORD,
  DATABASE_URL: dbUrl(),
  JWT_SECRET: SECRETS.JWT_SECRET,
  API_KEYS: `ops=${SECRETS.API_KEY}`,
  ENCRYPTION_KEYS: `k1:${SECRETS.ENCRYPTION_KEY}`,
  ENCRYPTION_ACTIVE_KEY: 'k1',
  SMTP_URL: `smtp://mailer:${SECRETS.SMTP_PASSWORD}@127.0.0.1:${smtpPort}`,
  SCHEDULER_PORT: String(scheduler),
  DOCUMENTS_PORT: String(documents),
  NOTIFIER_PORT: String(notifier),
  RECURRENCE_PORT: String(recurrence),
  TICK_INTERVAL_MS: '3600000',
  LOG_LEVEL: 'trace',
  };
};

beforeAll(async () => {
  await database.create();
  natsPort = await freePort();
  await startNats();
  smtp = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, onAuth: (_a, _s, cb) => cb(null, { user: 'mailer' }), onData: (s, _x, cb) => { s.resume(); s.on('end', () => cb()); } });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
}, 60_000);
afterAll(async () => {
  for (const p of processes) {
    p.kill('SIGKILL');
    await p.exited;
  }
  await stopNats();
  await new Promise<void>((r) => smtp.close(() => r()));
  await database.drop();
});

describe('security: secrets in logs', () => {
  it('never logs JWT_SECRET, an API key, an encryption key, the database, NATS or SMTP password, whatever happens', async () => {
    await scenario('S6 secrets-in-logs', async (c) => {
      const e = await env();
      const all = new ServiceProcess('apps/main.js', e).start();
      processes.push(all);
      await all.waitForLog('scheduler started', 90_000);
      const base = `http://127.0.0.1:${e.SCHEDULER_PORT}`;
      // Bad and good credentials on the API.
      for (const auth of ['Bearer x.y.z', `Bearer ${SECRETS.JWT_SECRET}`, 'Basic Zm9vOmJhcg==', '', `Bearer ${SECRETS.API_KEY}`]) {
        await fetch(`${base}/api/v1/jobs`, { headers: auth ? { Authorization: auth } : {} });
        c.faults++;
      }
      for (const key of [SECRETS.API_KEY, `${SECRETS.API_KEY}-wrong`]) {
        await fetch(`${base}/api/v1/jobs`, { headers: { 'X-API-Key': key } });
        c.faults++;
      }
      // Events that make the notifier resolve members and send mail.
      const nc = await connect({ servers: `nats://127.0.0.1:${natsPort}`, user: 'svc', pass: SECRETS.NATS_PASSWORD });
      const js = jetstream(nc);
      const member = createCloudEvent({ type: 'member.upserted', source: 't', companyId: 'acme', data: { companyId: 'acme', userId: 'u1', email: 'u1@example.com', roles: ['admin'], locale: 'en' } });
      await js.publish(subjects.event('acme', 'member.upserted'), encodeCloudEvent(member), { msgID: member.id });
      const req = createCloudEvent({ type: 'notification.requested', source: 't', companyId: 'acme', data: { companyId: 'acme', userIds: ['u1'], title: 'hello', body: 'world', channels: ['email', 'in_app'] } });
      await js.publish(subjects.event('acme', 'notification.requested'), encodeCloudEvent(req), { msgID: req.id });
      await js.publish(subjects.event('acme', 'document.upserted'), new TextEncoder().encode('{not json'));
      await nc.close();
      c.faults += 3;
      await sleep(2_000);
      // Infrastructure faults: NATS away and back, every database backend terminated.
      await stopNats();
      await sleep(2_000);
      await startNats();
      c.faults++;
      await database.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
      c.faults++;
      await sleep(4_000);
      await all.stop();
      // A configuration error names the bad keys: it must not print the URLs' passwords.
      const bad = new ServiceProcess('apps/scheduler/src/main.js', {
        ...e,
        DATABASE_URL: `mysql://root:${SECRETS.DB_PASSWORD}@127.0.0.1/x`,
        SMTP_URL: `http://mailer:${SECRETS.SMTP_PASSWORD}@127.0.0.1:1`,
        NATS_URLS: `nats://svc:${SECRETS.NATS_PASSWORD}@127.0.0.1:1 with space`,
        SCHEDULER_PORT: 'eighty',
      }).start();
      processes.push(bad);
      await bad.exited;
      c.faults++;
      // Secrets refused at start are named, never quoted: real secrets spoilt by a placeholder
      // marker, key material in a malformed entry, credentials in URLs the loader rejects.
      const refused = new ServiceProcess('apps/scheduler/src/main.js', {
        ...e,
        NODE_ENV: 'production',
        DEMO: 'true',
        JWT_SECRET: `${SECRETS.JWT_SECRET}-changeme`,
        NATS_PASSWORD: `${SECRETS.NATS_PASSWORD}-xxx`,
        API_KEYS: `ops=${SECRETS.API_KEY}-replace-me`,
        ENCRYPTION_KEYS: `bad kid:${SECRETS.ENCRYPTION_KEY}`,
        NATS_URLS: `nats://${SECRETS.NATS_TOKEN}@127.0.0.1:1 with space`,
        DATABASE_URL: `mysql://db/x?user=m&password=${SECRETS.DB_PASSWORD}`,
        SMTP_URL: `smtp://mailer:${SECRETS.SMTP_PASSWORD}-example@127.0.0.1:1`,
      }).start();
      processes.push(refused);
      await refused.exited;
      c.faults++;
      const output = all.text + bad.text + refused.text;
      const found = Object.entries(SECRETS).filter(([, v]) => leaked(v, output)).map(([k]) => k);
      const badFound = Object.entries(SECRETS).filter(([, v]) => leaked(v, bad.text + refused.text)).map(([k]) => k);
      c.messages = output.split('\n').length;
      c.lost = found.length;
      c.notes = `${c.messages} log lines at trace; secrets found: ${found.join(', ') || 'none'}${badFound.length ? ` (config error output: ${badFound.join(', ')})` : ''}`;
      expect(bad.exitCode).toBe(78);
      expect(bad.text).toContain('SCHEDULER_PORT');
      expect(refused.exitCode).toBe(78);
      const named = ['DEMO', 'JWT_SECRET', 'NATS_PASSWORD', 'API_KEYS (ops)', 'ENCRYPTION_KEYS', 'NATS_URLS', 'DATABASE_URL', 'SMTP_URL (password)'];
      expect(named.filter((k) => !refused.text.includes(`- ${k}:`))).toEqual([]);
      expect(found).toEqual([]);
    });
  }, 180_000);
});
