/**
 * A three-node NATS JetStream cluster on loopback with the streams at R3 (what
 * k8s/overlays/prod runs): the documents service consumes a steady load of tick
 * jobs while the JOBS stream's leader is SIGKILLed, and every job's effect
 * still exists exactly once and jobs published after the kill are processed.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import {
  CONSUMER_DECLARATIONS,
  createCloudEvent,
  encodeCloudEvent,
  JOB_NAMES,
  KV_DECLARATIONS,
  provision,
  STREAM_DECLARATIONS,
  STREAMS,
  subjects,
} from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { TestNatsCluster } from '../../support/nats-cluster.js';
import { freePort } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { sleep, waitFor } from '../../support/wait.js';

const DOCUMENTS = 'apps/documents/src/main.js';
const TOTAL = 2_000;
const PACE_MS = 2; // one publish started every 2 ms
const WINDOW = 64; // publishes in flight at once
const ACK_WAIT_MS = 5_000;
const TICK_SUBJECT = subjects.job('normal', JOB_NAMES.documentsTick);

/** NATS subject matching with * and > wildcards. */
function matches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

describe('three-node NATS cluster on loopback, streams at R3', () => {
  const cluster = new TestNatsCluster(3);
  const database = new TestDatabase();
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let js: JetStreamClient;
  let documents: ServiceProcess | undefined;
  let documentsPort = 0;

  beforeAll(async () => {
    await Promise.all([cluster.start(), database.create()]);
    nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  });

  afterAll(async () => {
    if (documents) {
      documents.kill('SIGKILL');
      await documents.exited;
    }
    await nc?.close();
    await cluster.destroy();
    await database.drop();
  });

  it('provisions the streams, the consumers and the KV buckets at R3, and a second run changes nothing', async () => {
    const options = { replicas: 3, ackWaitMs: ACK_WAIT_MS, kv: KV_DECLARATIONS };
    const first = await provision(jsm, STREAM_DECLARATIONS, CONSUMER_DECLARATIONS, options);
    expect(first.drift).toEqual([]);
    const tickConsumers = CONSUMER_DECLARATIONS.filter((c) => c.stream === STREAMS.JOBS && matches(c.filterSubject, TICK_SUBJECT));
    expect(tickConsumers).toHaveLength(1);
    expect(first.created).toEqual(expect.arrayContaining(['stream EVENTS', 'stream JOBS', 'stream DLQ', `consumer JOBS/${tickConsumers[0].durable}`, 'kv control']));
    // Consumers inherit the stream's replicas: a leader plus two followers each.
    for (const c of CONSUMER_DECLARATIONS) expect([c.durable, (await jsm.consumers.info(c.stream, c.durable)).cluster?.replicas?.length]).toEqual([c.durable, 2]);

    for (const name of [STREAMS.EVENTS, STREAMS.JOBS, STREAMS.DLQ, ...KV_DECLARATIONS.map((k) => `KV_${k.bucket}`)]) {
      const info = await jsm.streams.info(name);
      expect([name, info.config.num_replicas, info.cluster?.replicas?.length]).toEqual([name, 3, 2]);
    }
    const control = await jsm.streams.info('KV_control');
    expect(control.config.max_msgs_per_subject).toBe(1);
    expect(control.config.subjects).toEqual(['$KV.control.>']);

    const second = await provision(jsm, STREAM_DECLARATIONS, CONSUMER_DECLARATIONS, options);
    expect(second.created).toEqual([]);
    expect(second.drift).toEqual([]);
    expect(second.unchanged).toContain('kv control');

    // The same buckets declared at R1 are drift: reported, never rewritten.
    const r1 = await provision(jsm, [], [], { ...options, replicas: 1 });
    expect(KV_DECLARATIONS.map((k) => k.bucket)).toEqual(['control', 'runs', 'workers', 'job-catalog']);
    expect(r1.drift).toEqual(KV_DECLARATIONS.map((k) => ({ name: `kv ${k.bucket}`, differences: ['num_replicas: declared 1, server has 3'] })));
    expect((await jsm.streams.info('KV_control')).config.num_replicas).toBe(3);
  });

  it('loses no job and keeps consuming when the JOBS stream leader is SIGKILLed under load', async () => {
    documentsPort = await freePort();
    documents = new ServiceProcess(DOCUMENTS, {
      NATS_URLS: cluster.urls.join(','),
      DATABASE_URL: database.url,
      DOCUMENTS_PORT: String(documentsPort),
      STREAM_REPLICAS: '3',
      ACK_WAIT_MS: String(ACK_WAIT_MS),
      INSTANCE_ID: 'documents-cluster',
    }).start();
    await documents.waitForLog('documents started');

    // The durable the service pulls tick jobs from (the one with a pull request waiting on the JOBS stream).
    const tickConsumer = await waitFor(async () => {
      for await (const c of jsm.consumers.list(STREAMS.JOBS)) {
        if (matches(c.config.filter_subject ?? '>', TICK_SUBJECT) && c.num_waiting > 0) return c.name;
      }
      return undefined;
    }, { timeoutMs: 15_000, intervalMs: 100, what: 'the documents service pulling tick jobs' });
    const consumerInfo = () => jsm.consumers.info(STREAMS.JOBS, tickConsumer!);
    const streamLeader = (await jsm.streams.info(STREAMS.JOBS)).cluster!.leader!;
    // The hardest case, every run: the node killed leads the stream and the consumer too, so the new consumer
    // leader redelivers everything whose ack it had not seen, in one burst. Step the consumer leader down until
    // it sits on the stream leader.
    for (let i = 0; i < 20 && (await consumerInfo()).cluster?.leader !== streamLeader; i++) {
      await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${STREAMS.JOBS}.${tickConsumer}`, undefined, { timeout: 5_000 }).catch(() => undefined);
      await waitFor(async () => (await consumerInfo().catch(() => undefined))?.cluster?.leader, { timeoutMs: 10_000, intervalMs: 100, what: 'a consumer leader' });
    }
    const consumerLeader = (await consumerInfo()).cluster!.leader!;
    expect(consumerLeader).toBe(streamLeader);

    const ids: string[] = Array.from({ length: TOTAL }, () => randomUUID());
    // JOBS is a work queue (acked jobs leave it): what it stored is told by how far its sequence moved.
    const seqBefore = (await jsm.streams.info(STREAMS.JOBS)).state.last_seq;
    const ackSeqs = new Set<number>();
    const firstAttempt: number[] = [];
    const ackedAt: number[] = [];
    let retries = 0;
    let duplicateAcks = 0;
    let killAt = 0;
    let killed: Promise<void> | undefined;

    const publishOne = async (i: number): Promise<void> => {
      const id = ids[i];
      const payload = encodeCloudEvent(createCloudEvent({ type: JOB_NAMES.documentsTick, source: 'cluster-test', id, data: { runId: id, scheduledFor: new Date().toISOString(), workMs: 0 } }));
      firstAttempt[i] = Date.now();
      // A publish whose ack is lost (leader gone, reconnect) is sent again with the same msgID: JetStream dedup keeps one.
      for (;;) {
        try {
          const ack = await js.publish(TICK_SUBJECT, payload, { msgID: id, timeout: 2_000 });
          if (ack.duplicate) duplicateAcks++;
          ackSeqs.add(ack.seq);
          ackedAt[i] = Date.now();
          return;
        } catch {
          retries++;
          await sleep(100);
        }
      }
    };

    const started = Date.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < TOTAL; i++) {
      const due = started + i * PACE_MS;
      if (due > Date.now()) await sleep(due - Date.now());
      while (inFlight.size >= WINDOW) await Promise.race(inFlight);
      if (i === TOTAL / 2) {
        killAt = Date.now();
        killed = cluster.kill(streamLeader, 'SIGKILL');
      }
      const p = publishOne(i).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    await killed;
    const publishedIn = Date.now() - started;

    const count = async () => Number((await database.query<{ n: string }>('SELECT count(*) AS n FROM tick_records'))[0].n);
    try {
      await waitFor(async () => (await count()) >= TOTAL, { timeoutMs: 100_000, intervalMs: 250, what: `${TOTAL} tick records` });
    } catch (e) {
      const c = await consumerInfo().then((i) => ({ ...i, config: undefined }), (x) => String(x));
      const runs = await database.query(
        `SELECT outcome, attempt, count(*)::int AS n FROM job_attempts WHERE run_id = ANY($1) AND run_id NOT IN (SELECT message_id FROM tick_records) GROUP BY 1, 2`,
        [ids],
      );
      const m = await fetch(`http://127.0.0.1:${documentsPort}/metrics`).then((r) => r.text(), (x) => String(x));
      const gauges = m.split('\n').filter((l) => /^metronome_(handlers_in_flight|job_runs_total|redeliveries_total|handler_messages_total|job_deferrals_total)/.test(l)).join('\n');
      const log = documents.text.split('\n').filter((l) => !l.includes('"tick recorded"')).join('\n');
      throw new Error(
        `${String(e)}: ${await count()} recorded; killed ${streamLeader} (consumer leader was ${consumerLeader}) at publish ${TOTAL / 2}\n` +
          `unrecorded runs' attempts: ${JSON.stringify(runs)}\nconsumer now ${JSON.stringify(c)}\n${gauges}\n${log.slice(-4000)}`,
      );
    }
    // Let any redelivery in progress land before counting.
    await waitFor(async () => {
      const c = await consumerInfo();
      return c.num_pending === 0 && c.num_ack_pending === 0;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'consumer drained' });

    const rows = await database.query<{ message_id: string; deliveries: number; processed_at: Date }>(
      'SELECT message_id, deliveries, processed_at FROM tick_records ORDER BY processed_at',
    );
    const published = new Set(ids);
    const jobsNow = (await jsm.streams.info(STREAMS.JOBS)).state;
    const stored = jobsNow.last_seq - seqBefore;
    const distinct = new Set(rows.map((r) => r.message_id));
    const afterKill = ids.filter((_, i) => firstAttempt[i] >= killAt);
    const processedAt = new Map(rows.map((r) => [r.message_id, r.processed_at.getTime()]));
    const firstAfterKill = Math.min(...afterKill.map((id) => processedAt.get(id)!));
    let longestPause = 0;
    for (let i = 1; i < rows.length; i++) longestPause = Math.max(longestPause, rows[i].processed_at.getTime() - rows[i - 1].processed_at.getTime());
    const slowestPublish = Math.max(...ackedAt.map((t, i) => t - firstAttempt[i]));

    const metrics = await (await fetch(`http://127.0.0.1:${documentsPort}/metrics`)).text();
    const sum = (name: string, label: string) =>
      [...metrics.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\d+)`, 'gm'))].filter((m) => m[1].includes(label)).reduce((n, m) => n + Number(m[2]), 0);

    const figures = {
      consumer: tickConsumer!,
      published: TOTAL,
      publishedInMs: publishedIn,
      publishRetries: retries,
      duplicatePublishAcks: duplicateAcks,
      storedInJobs: stored,
      processed: rows.length,
      duplicateEffects: rows.length - distinct.size,
      missing: ids.filter((id) => !distinct.has(id)).length,
      // Settled deliveries as the service counted them (more than published when redeliveries were absorbed).
      handlerSettlements: sum('metronome_handler_messages_total', `consumer="${tickConsumer}"`),
      jobRunsFinished: sum('metronome_job_runs_total', `job="${JOB_NAMES.documentsTick}"`),
      // Messages handed back to the stream because this tenant's buffer was full (the failover's redelivery burst).
      deferredTenantFull: sum('metronome_job_deferrals_total', 'reason="tenant_full"'),
      redeliveredFirstEffects: rows.filter((r) => r.deliveries > 1).length,
      killed: streamLeader,
      consumerLeaderBefore: consumerLeader,
      consumerLeaderAfter: (await consumerInfo()).cluster?.leader,
      streamLeaderAfter: (await jsm.streams.info(STREAMS.JOBS)).cluster?.leader,
      publishedAfterKill: afterKill.length,
      msKillToFirstPostKillJobProcessed: firstAfterKill - killAt,
      slowestPublishMs: slowestPublish,
      longestProcessingPauseMs: longestPause,
    };
    console.log(`NATS cluster failover figures\n${JSON.stringify(figures, null, 2)}`);

    expect(figures.missing).toBe(0);
    expect(rows.every((r) => published.has(r.message_id))).toBe(true);
    expect(rows).toHaveLength(TOTAL);
    expect(stored).toBe(TOTAL); // dedup kept one copy of every retried publish
    expect(ackSeqs.size).toBe(TOTAL); // and acked each retry with the copy's sequence
    expect(jobsNow.messages).toBe(0); // every job acked and gone from the work queue
    expect(afterKill.length).toBeGreaterThan(0);
    expect(afterKill.every((id) => processedAt.has(id))).toBe(true);
    expect(figures.streamLeaderAfter).not.toBe(streamLeader);
    expect(documents.exitCode).toBeNull();

    // The killed node comes back on its storage and catches up with the new leader.
    await cluster.restart(streamLeader);
    await waitFor(async () => {
      const info = await jsm.streams.info(STREAMS.JOBS);
      const back = info.cluster?.replicas?.find((r) => r.name === streamLeader);
      return back?.current === true || info.cluster?.leader === streamLeader;
    }, { timeoutMs: 20_000, intervalMs: 250, what: `${streamLeader} current again` });

    await documents.stop();
    documents = undefined;
  }, 240_000); // deferred redeliveries (up to a minute each, by design) come back on their own schedule
});
