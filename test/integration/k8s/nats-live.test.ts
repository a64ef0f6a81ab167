/**
 * Runs a real nats-server (the local binary) with the dev overlay's nats.conf - the same
 * accounts.conf as prod - on loopback ports, provisions it as metronome-admin with the project's
 * own provisioner, and checks the permissions for real: each service can do what its code does
 * (pull and ack its consumers, publish its events and dead letters, read the control bucket) and
 * the server refuses everything outside its subjects. Every client connects the way its workload's
 * process does: the workload's environment in the dev build (ConfigMap and Secrets resolved)
 * through loadConfig and natsConnectionOptions - its NATS user, password and inbox prefix.
 * Last, the built scheduler and documents run under these permissions and the tick job goes
 * through. Needs kubectl, nats-server and a build (npm run build).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { loadConfig } from '../../../libs/common/src/config/load-config.js';
import { natsConnectionOptions } from '../../../libs/common/src/messaging/nats-connection.service.js';
import { NatsConnectionService } from '../../../libs/common/src/messaging/nats-connection.service.js';
import { KvBuckets } from '../../../libs/common/src/messaging/kv-buckets.js';
import { provision } from '../../../libs/common/src/messaging/provisioner.js';
import { JOB_CATALOG_BUCKET, RUNS_BUCKET } from '../../../libs/common/src/messaging/subjects.js';
import { CONSUMER_DECLARATIONS, KV_DECLARATIONS, STREAM_DECLARATIONS } from '../../../libs/common/src/messaging/topology.js';
import { maxDeliveriesSubject } from '../../../libs/common/src/dead-letters/max-deliveries.watcher.js';
import { CONTROL_KEYS } from '../../../libs/common/src/jobs/job-control.js';
import { JobCatalog } from '../../../libs/common/src/jobs/job-catalog.js';
import { LiveRuns } from '../../../libs/common/src/jobs/live/live-runs.js';
import type { JobMessage } from '../../../libs/common/src/jobs/job.types.js';
import { createCloudEvent, encodeCloudEvent } from '../../../libs/common/src/messaging/cloud-event.js';
import { packMessage } from '../../../libs/common/src/messaging/job-pack.js';
import { JetStreamStatsCollector } from '../../../libs/common/src/metrics/jetstream-stats.collector.js';
import { QueueStatsReader } from '../../../apps/scheduler/src/stats/queue-stats.reader.js';
import { AttemptLedger } from '../../../libs/common/src/jobs/runtime/attempt-ledger.js';
import { WorkerHeartbeat } from '../../../libs/common/src/jobs/runtime/worker-heartbeat.js';
import { createRootLogger } from '../../../libs/common/src/logging/logger.js';
import { MetronomeMetrics } from '../../../libs/common/src/metrics/metrics.registry.js';
import { TestDatabase } from '../../support/database.js';
import { ServiceProcess } from '../../support/service-process.js';
import { configData, containerEnv, find, K8sObject, KUBECTL_HINT, kustomize, NATS_SERVER_HINT, natsServerBin, podSpec, requireTool } from './k8s-support.js';

const SERVICES = ['scheduler', 'notifier', 'documents', 'recurrence'] as const;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

let dev: K8sObject[];
/** The environment of a user's workload in the dev build, NATS pointed at the test server. */
function workloadEnv(user: string): Record<string, string> {
  const w = user === 'metronome-admin' ? find(dev, 'Job', 'metronome-provision') : find(dev, 'Deployment', user);
  return { ...containerEnv(dev, podSpec(w).containers[0]), NATS_URLS: `nats://127.0.0.1:${port}` };
}
const password = (user: string) => workloadEnv(user).NATS_PASSWORD;

let dir: string;
let server: ChildProcess | undefined;
let port: number;
const open: NatsConnection[] = [];

interface Client {
  nc: NatsConnection;
  /** Permission violations the server reported to this connection. */
  violations: { operation: string; subject: string }[];
}

/** Connects as the user's workload does (loadConfig -> natsConnectionOptions); `inboxPrefix: null` drops its prefix. */
async function client(user: string, opts: { inboxPrefix?: null } = {}): Promise<Client> {
  const config = loadConfig(workloadEnv(user)).nats;
  if (opts.inboxPrefix === null) delete config.inboxPrefix;
  const nc = await connect({ ...natsConnectionOptions(config), name: `k8s-test-${user}`, maxReconnectAttempts: 0 });
  open.push(nc);
  const violations: Client['violations'] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const e = (s as { type: string; error?: { name?: string; operation?: string; subject?: string } }).error;
      if (s.type === 'error' && e?.name === 'PermissionViolationError') violations.push({ operation: e.operation ?? '', subject: e.subject ?? '' });
    }
  })();
  return { nc, violations };
}

/**
 * Waits (up to 2 s) for the server's permission violation for this operation and subject. The server answers a
 * refused SUB or PUB with -ERR before the PONG of the flush that follows it, so `waitMs` may be short when an
 * operation is expected to pass.
 */
async function violation(c: Client, operation: string, subject: string, waitMs = 2_000): Promise<boolean> {
  await c.nc.flush();
  for (let i = 0; i < waitMs / 50; i++) {
    if (c.violations.some((v) => v.operation === operation && v.subject === subject)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Publishes with core NATS and reports whether the server refused it. */
async function refusedPublish(c: Client, subject: string): Promise<boolean> {
  c.nc.publish(subject, 'probe');
  return violation(c, 'publish', subject);
}

async function refusedSubscribe(c: Client, subject: string, waitMs?: number): Promise<boolean> {
  const sub = c.nc.subscribe(subject);
  const refused = await violation(c, 'subscription', subject, waitMs);
  sub.unsubscribe();
  return refused;
}

beforeAll(async () => {
  requireTool('kubectl', ['version', '--client'], KUBECTL_HINT);
  requireTool(natsServerBin(), ['--version'], NATS_SERVER_HINT);
  dev = kustomize('k8s/overlays/dev');
  const files = configData(find(dev, 'ConfigMap', 'nats-config'));
  dir = mkdtempSync(join(tmpdir(), 'nats-live-'));
  port = await freePort();
  const http = await freePort();
  const replace = (text: string, from: string, to: string) => {
    if (!text.includes(from)) throw new Error(`nats.conf no longer contains "${from}": update this test`);
    return text.replace(from, to);
  };
  let main = files['nats.conf'];
  main = replace(main, 'listen: 0.0.0.0:4222', `listen: 127.0.0.1:${port}`);
  main = replace(main, 'http: 0.0.0.0:8222', `http: 127.0.0.1:${http}`);
  main = replace(main, 'store_dir: /data/jetstream', `store_dir: ${join(dir, 'jetstream')}`);
  main = replace(main, 'pid_file: /var/run/nats/nats.pid', `pid_file: ${join(dir, 'nats.pid')}`);
  writeFileSync(join(dir, 'nats.conf'), main);
  writeFileSync(join(dir, 'cluster.conf'), files['cluster.conf']);
  writeFileSync(join(dir, 'accounts.conf'), files['accounts.conf']);

  // The NATS pod's environment: the users' passwords from their Secrets, as the StatefulSet maps them.
  const natsEnv = containerEnv(dev, podSpec(find(dev, 'StatefulSet', 'nats')).containers[0]);
  const proc = spawn(natsServerBin(), ['-c', join(dir, 'nats.conf')], { env: { ...process.env, ...natsEnv, POD_NAME: 'nats-0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  server = proc;
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 15_000);
    const onData = (b: Buffer) => {
      log += b.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited with ${code}:\n${log}`));
    });
  });

  // What the metronome-provision Job does (scripts/provision.ts; R1 here: one server): streams, consumers, KV buckets.
  const admin = await client('metronome-admin');
  const report = await provision(await jetstreamManager(admin.nc), STREAM_DECLARATIONS, CONSUMER_DECLARATIONS, { replicas: 1, ackWaitMs: 30_000, kv: KV_DECLARATIONS });
  expect(report.drift).toEqual([]);
  expect(admin.violations).toEqual([]);
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the scheduler fires jobs, publishes events and pauses queues', async () => {
  const s = await client('scheduler');
  const js = jetstream(s.nc);
  await expect(js.publish('jobs.normal.documents.tick', '{}', { msgID: 'run-1' })).resolves.toMatchObject({ stream: 'JOBS' });
  await expect(js.publish('jobs.normal.recurrence.generate', '{}', { msgID: 'run-2' })).resolves.toMatchObject({ stream: 'JOBS' });
  await expect(js.publish('jobs.low.scheduler.retention', '{}', { msgID: 'run-3' })).resolves.toMatchObject({ stream: 'JOBS' });
  await expect(js.publish('jobs.normal.notifier.deliver', '{}', { msgID: 'run-4' })).resolves.toMatchObject({ stream: 'JOBS' });
  await expect(js.publish('events.acme.document.upserted', '{}', { msgID: 'evt-1' })).resolves.toMatchObject({ stream: 'EVENTS' });
  const kv = await new Kvm(s.nc).open('control');
  await kv.put('queue.low', 'paused');
  expect((await kv.get('queue.low'))?.string()).toBe('paused');
  expect(s.violations).toEqual([]);
});

test.each([
  ['scheduler', 'JOBS', 'scheduler-jobs-low'],
  ['scheduler', 'EVENTS', 'scheduler-events'],
  ['documents', 'JOBS', 'documents-jobs-normal'],
  ['documents', 'EVENTS', 'documents-events'],
  ['recurrence', 'JOBS', 'recurrence-jobs-normal'],
  ['recurrence', 'EVENTS', 'recurrence-events'],
  ['notifier', 'EVENTS', 'notifier-events'],
  ['notifier', 'JOBS', 'notifier-jobs-normal'],
])('%s pulls and acks %s/%s', async (user, stream, durable) => {
  const c = await client(user);
  const consumer = await jetstream(c.nc).consumers.get(stream, durable);
  const m = await consumer.next({ expires: 5_000 });
  expect(m).not.toBeNull();
  await expect(m!.ackAck()).resolves.toBe(true);
  expect(c.violations).toEqual([]);
});

test.each([
  ['documents', ['events.acme.document.expiring', 'events.acme.notification.requested', 'dlq.EVENTS.documents-events', 'events.acme.job.dead']],
  ['recurrence', ['events.acme.task.generated', 'events.acme.calendar.reminder_due', 'dlq.JOBS.recurrence-jobs-low']],
  ['notifier', ['dlq.EVENTS.notifier-events', 'events.acme.job.sla_breached', 'events._platform.job.timed_out', 'jobs.high.notifier.deliver']],
])('%s publishes its events and dead letters through JetStream and reads the control bucket', async (user, subjects) => {
  const c = await client(user);
  const js = jetstream(c.nc);
  for (const [i, subject] of subjects.entries()) await expect(js.publish(subject, '{}', { msgID: `${user}-${i}` })).resolves.toHaveProperty('seq');
  const kv = await new Kvm(c.nc).open('control');
  expect((await kv.get('queue.low'))?.string()).toBe('paused');
  expect(c.violations).toEqual([]);
});

test.each(['notifier', 'documents', 'recurrence'])('the server refuses %s everything outside its subjects', async (user) => {
  const c = await client(user);
  const others = CONSUMER_DECLARATIONS.filter((d) => !d.durable.startsWith(`${user}-`));
  const forbidden = [
    'jobs.normal.documents.tick',
    'events.acme.document.upserted',
    'events.acme.member.upserted',
    user === 'documents' ? 'events.acme.task.generated' : 'events.acme.document.expired',
    '$KV.control.queue.low',
    '$JS.API.STREAM.DELETE.EVENTS',
    '$JS.API.STREAM.PURGE.JOBS',
    '$JS.API.STREAM.UPDATE.DLQ',
    '$JS.API.STREAM.CREATE.ROGUE',
    '$JS.API.CONSUMER.DELETE.EVENTS.notifier-events',
    '$JS.API.STREAM.MSG.DELETE.DLQ',
    ...others.flatMap((d) => [`$JS.API.CONSUMER.MSG.NEXT.${d.stream}.${d.durable}`, `dlq.${d.stream}.${d.durable}`]),
  ];
  const notRefused: string[] = [];
  for (const subject of forbidden) if (!(await refusedPublish(c, subject))) notRefused.push(subject);
  expect(notRefused).toEqual([]);
  for (const subject of ['events.>', 'jobs.>', '$KV.control.>', 'dlq.>']) expect([subject, await refusedSubscribe(c, subject)]).toEqual([subject, true]);
  // the streams are still there
  const admin = await client('metronome-admin');
  const names: string[] = [];
  for await (const n of (await jetstreamManager(admin.nc)).streams.names()) names.push(n);
  expect(names.sort()).toEqual(['DLQ', 'EVENTS', 'JOBS', 'KV_control', 'KV_job-catalog', 'KV_runs', 'KV_workers']);
});

test('notifier replicas fan in-app notifications out to each other on notifier.inbox, which nobody else may read', async () => {
  const a = await client('notifier');
  const b = await client('notifier');
  const got = b.nc.subscribe('notifier.inbox.>', { max: 1 });
  await b.nc.flush();
  a.nc.publish('notifier.inbox.acme.0123abcd', '{"title":"hi"}');
  for await (const m of got) expect(m.subject).toBe('notifier.inbox.acme.0123abcd');
  expect([...a.violations, ...b.violations]).toEqual([]);
  const d = await client('documents');
  expect(await refusedSubscribe(d, 'notifier.inbox.>')).toBe(true);
  expect(await refusedPublish(d, 'notifier.inbox.acme.0123abcd')).toBe(true);
});

test('the scheduler cannot change streams either', async () => {
  const s = await client('scheduler');
  for (const subject of ['$JS.API.STREAM.DELETE.EVENTS', '$JS.API.STREAM.PURGE.JOBS', '$JS.API.STREAM.CREATE.ROGUE', '$JS.API.CONSUMER.DELETE.EVENTS.notifier-events', '$JS.API.CONSUMER.MSG.NEXT.EVENTS.notifier-events']) {
    expect([subject, await refusedPublish(s, subject)]).toEqual([subject, true]);
  }
});

test('a wrong password is rejected', async () => {
  await expect(connect({ servers: `127.0.0.1:${port}`, user: 'notifier', pass: 'wrong', reconnect: false })).rejects.toThrow(/Authorization/i);
});

describe('inbox prefixes', () => {
  test.each(SERVICES)('%s gets its replies on its own prefix: JetStream API requests, publish acks and KV watches work', async (user) => {
    const c = await client(user);
    expect(loadConfig(workloadEnv(user)).nats.inboxPrefix).toBe(`_INBOX_${user}`);
    const jsm = await jetstreamManager(c.nc);
    await expect(jsm.streams.info('JOBS')).resolves.toHaveProperty('config.name', 'JOBS');
    // a KV watch is an ordered push consumer delivering to an inbox
    const kv = await new Kvm(c.nc).open('control');
    const watch = await kv.watch({ key: 'queue.low' });
    for await (const e of watch) {
      expect(e.string()).toBe('paused');
      break;
    }
    expect(c.violations).toEqual([]);
  });

  test.each(SERVICES)('%s cannot subscribe to another service\'s inbox, nor to the shared _INBOX', async (user) => {
    const c = await client(user);
    const others = SERVICES.filter((o) => o !== user).map((o) => `_INBOX_${o}.>`);
    const notRefused: string[] = [];
    for (const subject of [...others, '_INBOX_admin.>', '_INBOX.>', '>']) if (!(await refusedSubscribe(c, subject))) notRefused.push(subject);
    expect(notRefused).toEqual([]);
    expect(await refusedSubscribe(c, `_INBOX_${user}.probe`, 300)).toBe(false);
  });

  test("a service cannot read another's pulled jobs: documents pulls, recurrence's subscription to its inbox is refused and sees nothing", async () => {
    const documents = await client('documents');
    const recurrence = await client('recurrence');
    const seen: string[] = [];
    const spy = recurrence.nc.subscribe('_INBOX_documents.>', { callback: (_e, m) => void seen.push(m.subject) });
    expect(await violation(recurrence, 'subscription', '_INBOX_documents.>')).toBe(true);
    const scheduler = await client('scheduler');
    await jetstream(scheduler.nc).publish('jobs.normal.documents.tick', '{}', { msgID: 'run-inbox-probe' });
    const m = await (await jetstream(documents.nc).consumers.get('JOBS', 'documents-jobs-normal')).next({ expires: 5_000 });
    expect(m?.subject).toBe('jobs.normal.documents.tick');
    await m!.ackAck();
    spy.unsubscribe();
    expect(seen).toEqual([]);
  });

  test('without its prefix the same user is refused: the permission is real', async () => {
    const c = await client('documents', { inboxPrefix: null });
    await expect(jetstreamManager(c.nc, { timeout: 2_000 })).rejects.toThrow();
    expect(c.violations.some((v) => v.operation === 'subscription' && v.subject.startsWith('_INBOX.'))).toBe(true);
  });
});

/** A service's NATS side as its process builds it: NatsConnectionService on its workload's config, the declared KV buckets. */
async function service(user: string) {
  const config = loadConfig(workloadEnv(user));
  const log = createRootLogger('silent', user);
  const nats = new NatsConnectionService(config, log, new MetronomeMetrics(user));
  const nc = await nats.connection$();
  open.push(nc);
  const violations: Client['violations'] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const e = (s as { type: string; error?: { name?: string; operation?: string; subject?: string } }).error;
      if (s.type === 'error' && e?.name === 'PermissionViolationError') violations.push({ operation: e.operation ?? '', subject: e.subject ?? '' });
    }
  })();
  return { config, log, nats, nc, violations, buckets: new KvBuckets(nats, config), c: { nc, violations } as Client };
}

describe('the job runtime under each user', () => {
  test.each(SERVICES)('%s beats its heartbeat, keeps its attempt ledger, announces its jobs, follows and purges cancellations', async (user) => {
    const s = await service(user);
    const scheduler = user === 'scheduler' ? s : await service('scheduler');
    // heartbeat (workers.<service>.<instance>): the scheduler's run listing sees it, and it is gone on shutdown
    const heartbeat = new WorkerHeartbeat(s.buckets, user, s.log);
    heartbeat.describe([`${user}.probe`], 4, () => ({ inFlight: 0, waiting: 0, held: 0, settling: 0 }));
    await heartbeat.onApplicationBootstrap();
    const live = new LiveRuns(scheduler.buckets, scheduler.nats);
    expect((await live.workers()).map((w) => w.instance)).toContain(heartbeat.instance);
    await heartbeat.beforeApplicationShutdown();
    expect((await live.workers()).map((w) => w.instance)).not.toContain(heartbeat.instance);
    // attempt ledger (runs bucket, ledger.JOBS.<block>): noted by one process, read back by another
    const seq = 1_000_000 + SERVICES.indexOf(user) * 5_000;
    await new AttemptLedger(s.buckets).note('JOBS', seq, { deferrals: 2, settled: 3 });
    await new AttemptLedger(s.buckets).note('JOBS', seq + 1, { deferrals: 1, settled: 0 }); // a compare-and-set on the same block
    expect(await new AttemptLedger(s.buckets).read('JOBS', seq)).toEqual({ deferrals: 2, settled: 3 });
    // job declarations (job-catalog, <service>.<job>): the scheduler's catalog knows them
    const catalog = new JobCatalog(s.buckets, user, s.config, s.log);
    catalog.announce([{ name: `${user}.probe`, priority: 'normal', maxAttempts: 3, timeoutMs: 60_000 }], () => ({}));
    await catalog.onApplicationBootstrap();
    const schedulerCatalog = new JobCatalog(scheduler.buckets, 'scheduler', scheduler.config, scheduler.log);
    await schedulerCatalog.watch();
    expect(schedulerCatalog.get(`${user}.probe`)).toMatchObject({ job: `${user}.probe`, service: user });
    schedulerCatalog.beforeApplicationShutdown();
    catalog.beforeApplicationShutdown();
    // cancellations (runs, cancel.<run>): the scheduler asks, the worker sees it on its watch and purges it once settled
    const runs = await s.buckets.open(RUNS_BUCKET);
    const watch = await runs.watch({ key: 'cancel.>' });
    const runId = `0b5d3c1e-4b0a-4c55-9a43-00000000000${SERVICES.indexOf(user)}`;
    await (await scheduler.buckets.open(RUNS_BUCKET)).put(CONTROL_KEYS.cancel(runId), JSON.stringify({ since: new Date().toISOString(), companyId: null }));
    for await (const e of watch) {
      if (e.key === CONTROL_KEYS.cancel(runId)) break;
    }
    watch.stop();
    await runs.purge(CONTROL_KEYS.cancel(runId));
    expect((await runs.get(CONTROL_KEYS.cancel(runId)))?.operation).toBe('PURGE');
    expect(s.violations).toEqual([]);
    expect(scheduler.violations).toEqual([]);
  });

  test.each(SERVICES)('%s hears the max-deliveries advisories of its consumers, reads the message back and removes it from JOBS', async (user) => {
    const s = await service(user);
    // what MaxDeliveriesWatcher subscribes to at bootstrap
    const subs = CONSUMER_DECLARATIONS.filter((d) => d.durable.startsWith(`${user}-`)).map((d) => s.nc.subscribe(maxDeliveriesSubject(d.stream, d.durable)));
    expect(subs.length).toBeGreaterThan(1);
    await s.nc.flush();
    // a message of each stream it consumes, read back by sequence; the job is removed from the work queue
    const publisher = jetstream((await client('scheduler')).nc);
    const event = await publisher.publish(`events.acme.probe.${user}`, '{}');
    const job = await publisher.publish(`jobs.critical.${user}.max-deliveries-probe`, '{}');
    const jsm = await s.nats.jsm();
    await expect(jsm.streams.getMessage('EVENTS', { seq: event.seq })).resolves.toHaveProperty('subject', `events.acme.probe.${user}`);
    await expect(jsm.streams.getMessage('JOBS', { seq: job.seq })).resolves.toHaveProperty('subject', `jobs.critical.${user}.max-deliveries-probe`);
    await expect(jsm.streams.deleteMessage('JOBS', job.seq, false)).resolves.toBe(true);
    await expect(jsm.streams.getMessage('JOBS', { seq: job.seq })).resolves.toBeNull();
    expect(s.violations).toEqual([]);
    for (const sub of subs) sub.unsubscribe();
  });

  test('the scheduler lists waiting jobs from JOBS by direct get', async () => {
    const s = await service('scheduler');
    await jetstream(s.nc).publish('jobs.high.documents.expiry-scan', '{}', { msgID: 'run-direct-get-probe' });
    const live = new LiveRuns(s.buckets, s.nats);
    const waiting = await live.queued({ limit: 100, job: 'documents.expiry-scan' });
    expect(waiting.scanned).toBeGreaterThan(0);
    expect((await live.depth())['jobs.high.documents.expiry-scan']).toBeGreaterThan(0);
    expect(s.violations).toEqual([]);
  });

  test.each(['notifier', 'documents', 'recurrence'])("%s cannot touch another's heartbeat or declarations, list workers or waiting jobs, hear another's advisories, or remove events and dead letters", async (user) => {
    const s = await service(user);
    const other = user === 'documents' ? 'notifier' : 'documents';
    const notRefused: string[] = [];
    for (const subject of [`$KV.workers.${other}.x`, `$KV.workers.scheduler.x`, `$KV.job-catalog.${other}.x`, '$KV.runs.other.x', '$KV.control.paused.x', '$JS.API.DIRECT.GET.JOBS', '$JS.API.CONSUMER.CREATE.KV_workers', '$JS.API.DIRECT.GET.KV_job-catalog.$KV.job-catalog.documents.tick', '$JS.API.STREAM.MSG.DELETE.EVENTS', '$JS.API.STREAM.MSG.DELETE.DLQ', '$JS.API.STREAM.MSG.DELETE.KV_runs']) {
      if (!(await refusedPublish(s.c, subject))) notRefused.push(subject);
    }
    for (const subject of [maxDeliveriesSubject('EVENTS', `${other}-events`), maxDeliveriesSubject('JOBS', `${other}-jobs-normal`), '$JS.EVENT.ADVISORY.>']) {
      if (!(await refusedSubscribe(s.c, subject))) notRefused.push(`subscribe ${subject}`);
    }
    expect(notRefused).toEqual([]);
    // the run listing's own calls fail for it
    const live = new LiveRuns(s.buckets, s.nats);
    await expect(live.queued({ limit: 1 })).rejects.toThrow();
  });
});

describe('a job pack waiting in JOBS, no worker on its lane', () => {
  const JOB = 'documents.pack-probe';
  const SUBJECT = `jobs.low.${JOB}`;
  const envelope = (runId: string, companyId: string) => createCloudEvent<JobMessage>({
    id: runId, type: JOB, source: 'metronome/scheduler', companyId,
    data: { runId, companyId, payload: { runId }, scheduledFor: new Date().toISOString() },
  });

  // A single job of acme, a pack of five jobs (the third globex's, as a pack mixes tenants), a single job of globex.
  beforeAll(async () => {
    const js = jetstream((await client('scheduler')).nc);
    const first = envelope('pack-single-1', 'acme');
    await js.publish(SUBJECT, encodeCloudEvent(first), { msgID: first.id });
    const jobs = ['acme', 'acme', 'globex', 'acme', 'acme'].map((c, i) => envelope(`pack-job-${i + 1}`, c));
    const pack = packMessage(SUBJECT, jobs.map((e) => encodeCloudEvent(e)), jobs);
    await js.publish(pack.subject, pack.data, { headers: pack.headers });
    const last = envelope('pack-single-2', 'globex');
    await js.publish(SUBJECT, encodeCloudEvent(last), { msgID: last.id });
  });

  afterAll(async () => {
    await (await jetstreamManager((await client('metronome-admin')).nc)).streams.purge('JOBS', { filter: SUBJECT });
  });

  test('the scheduler lists each job of the pack, to its own tenant only', async () => {
    const s = await service('scheduler');
    const live = new LiveRuns(s.buckets, s.nats);
    const ids = async (companyId?: string) => (await live.queued({ limit: 100, job: JOB, companyId })).items.map((r) => r.runId);
    expect(await ids('acme')).toEqual(['pack-single-1', 'pack-job-1', 'pack-job-2', 'pack-job-4', 'pack-job-5']);
    expect(await ids('globex')).toEqual(['pack-job-3', 'pack-single-2']);
    const all = await live.queued({ limit: 100, job: JOB });
    expect([all.items.length, all.scanned, all.complete]).toEqual([7, 3, true]);
    expect(all.items[2]).toMatchObject({ runId: 'pack-job-2', job: JOB, companyId: 'acme', priority: 'low', payload: { runId: 'pack-job-2' }, streamSeq: all.items[1].streamSeq });
    // A page that ends inside the pack is not complete.
    const page = await live.queued({ limit: 3, job: JOB });
    expect([page.items.map((r) => r.runId), page.complete]).toEqual([['pack-single-1', 'pack-job-1', 'pack-job-2'], false]);
    // Looking one run up (GET /runs/{id}, cancel): another tenant's job in the same pack is not found.
    expect((await live.queued({ limit: 1, companyId: 'acme', match: 'pack-job-3' })).items).toEqual([]);
    expect((await live.queued({ limit: 1, companyId: 'globex', match: 'pack-job-3' })).items.map((r) => r.runId)).toEqual(['pack-job-3']);
    expect(s.violations).toEqual([]);
  });

  test("the scheduler's queue depth and queue sampler count jobs: a pack of 5 and 2 single messages are 7", async () => {
    const s = await service('scheduler');
    expect((await new LiveRuns(s.buckets, s.nats).depth())[SUBJECT]).toBe(7);
    const lane = (await new QueueStatsReader(s.nats).sample(new Date())).find((q) => q.consumer === 'documents-jobs-low');
    expect(lane).toMatchObject({ filterSubject: 'jobs.low.documents.>', pending: 7, ackPending: 0 });
    expect(s.violations).toEqual([]);
  });

  test("the lane's service reports 7 jobs in metronome_queue_depth and metronome_consumer_pending, under its own permissions", async () => {
    const d = await service('documents');
    const metrics = new MetronomeMetrics('documents');
    await new JetStreamStatsCollector(CONSUMER_DECLARATIONS.filter((c) => c.durable.startsWith('documents-')), d.nats, metrics).collect();
    expect((await metrics.queueDepth.get()).values.find((v) => v.labels.queue === 'low')?.value).toBe(7);
    expect((await metrics.consumerPending.get()).values.find((v) => v.labels.consumer === 'documents-jobs-low')?.value).toBe(7);
    expect(d.violations).toEqual([]);
  });
});

describe('the built services under these permissions', () => {
  const database = new TestDatabase();
  const processes: ServiceProcess[] = [];
  beforeAll(() => database.create(), 60_000);
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await database.drop();
  });

  test('scheduler and documents start with their dev Deployment environment and run the tick job end to end', async () => {
    await database.query('SELECT 1');
    for (const svc of ['documents', 'scheduler'] as const) {
      const env = { ...workloadEnv(svc), DATABASE_URL: database.url, [`${svc.toUpperCase()}_PORT`]: String(await freePort()), TICK_INTERVAL_MS: '1000', LOG_LEVEL: 'info' };
      const p = new ServiceProcess(`apps/${svc}/src/main.js`, env).start();
      processes.push(p);
      await p.waitForLog(`${svc} started`, 90_000);
    }
    // scheduler: claims the tick, relays it from the outbox (acks on its own inbox); documents: pulls and runs it
    const deadline = Date.now() + 60_000;
    let ticks = 0;
    while (ticks === 0 && Date.now() < deadline) {
      ticks = Number((await database.query<{ n: string }>('SELECT count(*) AS n FROM tick_records'))[0].n);
      if (ticks === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(ticks).toBeGreaterThan(0);
    const logs = processes.map((p) => p.text).join('');
    expect(logs.split('\n').filter((l) => /permission|nats server error/i.test(l))).toEqual([]);
  }, 180_000);
});
