import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { createCloudEvent, encodeCloudEvent, JOB_NAMES, STREAMS, subjects, type JobMessage } from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { runState } from '../../support/runs.js';
import { waitFor } from '../../support/wait.js';

const DOCUMENTS = 'apps/documents/src/main.js';
/** Ticks are published at normal priority, so the job runtime pulls them from documents-jobs-normal. */
const TICK_CONSUMER = subjects.jobConsumer('documents', 'normal');

describe('documents service as a real process', () => {
  const nats = new TestNatsServer();
  const database = new TestDatabase();
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const running: ServiceProcess[] = [];
  /** A documents replica still running when a test ends, for the next one. */
  let live: { p: ServiceProcess; id: string } | undefined;

  let lastPort = 0;
  const env = async (): Promise<Record<string, string>> => ({
    NATS_URLS: nats.url,
    DATABASE_URL: database.url,
    DOCUMENTS_PORT: String((lastPort = await freePort())),
    ACK_WAIT_MS: '2000',
    SHUTDOWN_GRACE_MS: '15000',
    INSTANCE_ID: `documents-${running.length + 1}`,
  });
  const startDocuments = async (): Promise<ServiceProcess> => {
    const p = new ServiceProcess(DOCUMENTS, await env()).start();
    running.push(p);
    await p.waitForLog('documents started');
    return p;
  };
  const publishTick = async (workMs: number): Promise<string> => {
    const runId = randomUUID();
    // As the scheduler's relay sends it: a JobMessage whose id is the run id.
    const message: JobMessage<{ workMs: number }> = { runId, payload: { workMs }, scheduledFor: new Date().toISOString() };
    const event = createCloudEvent({ type: JOB_NAMES.documentsTick, source: 'test', id: runId, data: message });
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    await js.publish(subjects.job('normal', JOB_NAMES.documentsTick), encodeCloudEvent(event), { msgID: runId });
    return runId;
  };
  const ticks = (runId: string) =>
    database.query<{ deliveries: number; processed_by: string }>('SELECT deliveries, processed_by FROM tick_records WHERE message_id = $1', [runId]);
  const ackPending = async () => (await jsm.consumers.info(STREAMS.JOBS, TICK_CONSUMER)).num_ack_pending;
  /** The run as its history tells it (job_attempts, written before each ack). */
  const run = (runId: string) => runState(database, runId);
  const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  /** The tick handler started in the process on this port: its /metrics counted the start (lateness, stage=started). */
  const tickStarted = async (port: number) =>
    /metronome_job_lateness_seconds_count\{(?=[^}]*job="documents\.tick")(?=[^}]*stage="started")[^}]*\} [1-9]/.test(await metricsOf(port).catch(() => ''));

  beforeAll(async () => {
    await Promise.all([nats.start(), database.create()]);
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    for (const p of running) {
      p.kill('SIGKILL');
      await p.exited;
    }
    await nc?.close();
    await nats.destroy();
    await database.drop();
  });

  it('redelivers to another process after the ack wait when a consumer is SIGKILLed mid-handler, and the effect exists once', async () => {
    // Two replicas, as in production: whichever takes the tick is killed mid-handler, the other gets it back.
    const replicas: { p: ServiceProcess; id: string; port: number }[] = [];
    for (const id of ['documents-1', 'documents-2']) replicas.push({ p: await startDocuments(), id, port: lastPort });
    const runId = await publishTick(3_000);
    // In flight: delivered (ack pending) and its handler started, as the process's own metrics say (nothing is written to
    // Postgres before the handler, and the workers' heartbeat lists it only at its next beat, every 5 s).
    const doomed = (await waitFor(async () => {
      if ((await ackPending()) !== 1) return undefined;
      for (const r of replicas) if (await tickStarted(r.port)) return r;
      return undefined;
    }, { what: 'handler in flight' }))!;
    const survivor = replicas.find((r) => r !== doomed)!;
    doomed.p.kill('SIGKILL');
    await doomed.p.exited;
    expect(await ticks(runId)).toHaveLength(0); // killed before its effect

    const rows = await waitFor(async () => {
      const r = await ticks(runId);
      return r.length ? r : undefined;
    }, { timeoutMs: 20_000, what: 'redelivered tick recorded' });
    expect(rows).toEqual([{ deliveries: 2, processed_by: survivor.id }]);
    await waitFor(async () => (await ackPending()) === 0, { what: 'ack' });
    expect(await ticks(runId)).toHaveLength(1);
    // Run history: the first attempt is recorded lost (its worker died), the second succeeded and recorded the tick.
    expect(await run(runId)).toMatchObject({ state: 'succeeded', attempts: 2, result: { status: 'success', recordsProcessed: 1 } });
    expect((await database.query<{ attempt: number; outcome: string }>('SELECT attempt, outcome FROM job_attempts WHERE run_id = $1 ORDER BY attempt', [runId])))
      .toEqual([{ attempt: 1, outcome: 'lost' }, { attempt: 2, outcome: 'succeeded' }]);
    // It goes on serving: the next test stops it.
    live = survivor;
  });

  it('finishes in-flight handlers on SIGTERM before the process exits', async () => {
    // The replica left from the previous test (or a new one when run alone).
    const { p, id } = live ?? { p: await startDocuments(), id: `documents-${running.length}` };
    live = undefined;
    const runId = await publishTick(2_000);
    await waitFor(async () => (await ackPending()) === 1, { what: 'handler in flight' });
    p.kill('SIGTERM');
    await p.exited;
    // Nest closes the app, then re-raises the signal so the exit status says SIGTERM, never a crash.
    expect({ code: p.exitCode, signal: p.exitSignal }).toEqual({ code: null, signal: 'SIGTERM' });
    // The row was written by the handler before exit, on its first delivery, and the message was acked.
    expect(await ticks(runId)).toEqual([{ deliveries: 1, processed_by: id }]);
    expect(await ackPending()).toBe(0);
    expect(await run(runId)).toMatchObject({ state: 'succeeded', attempts: 1, result: { status: 'success', recordsProcessed: 1 } });
  });

  it('serves liveness, readiness that follows NATS, and Prometheus metrics with job and consumer series', async () => {
    const p = await startDocuments();
    const base = `http://127.0.0.1:${lastPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { nats: true, postgres: true } });

    const runId = await publishTick(0);
    await waitFor(async () => (await ticks(runId)).length === 1, { what: 'tick' });
    await waitFor(async () => (await run(runId))?.state === 'succeeded', { what: 'tick run succeeded' });
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return text.includes('metronome_consumer_pending{') ? text : undefined;
    }, { timeoutMs: 15_000, what: 'consumer gauges' });
    // Jobs are counted by job and outcome (the handler_* series are the event consumers').
    expect(metrics).toMatch(/metronome_job_runs_total\{(?=[^}]*job="documents\.tick")(?=[^}]*outcome="succeeded")[^}]*\} [1-9]/);
    expect(metrics).toMatch(/metronome_job_duration_seconds_bucket\{(?=[^}]*job="documents\.tick")/);
    expect(metrics).toMatch(/metronome_consumer_pending\{[^}]*consumer="documents-jobs-normal"/);
    expect(metrics).toContain('process_resident_memory_bytes');

    await nats.stop();
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, { what: 'not ready without NATS' });
    await nats.start(nats.port);
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, { timeoutMs: 20_000, what: 'ready again after NATS returns' });
    await p.stop();
  });

  it('refuses to start on bad configuration, naming every bad key', async () => {
    const p = new ServiceProcess(DOCUMENTS, { ...(await env()), TICK_INTERVAL_MS: '5', DOCUMENTS_PORT: 'eighty', NATS_URLS: 'not a url' }).start();
    running.push(p);
    const code = await p.exited;
    expect(code).not.toBe(0);
    expect(p.text).toContain('TICK_INTERVAL_MS');
    expect(p.text).toContain('DOCUMENTS_PORT');
    expect(p.text).toContain('NATS_URLS');
  });
});
