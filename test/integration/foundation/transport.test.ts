import 'reflect-metadata';
import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import {
  AsyncAckPublisher,
  connectJetStream,
  createCloudEvent,
  EventPublisher,
  subjects,
  JetStreamContext,
  MetronomeServiceModule,
  OnMessage,
  provision,
  STREAM_DECLARATIONS,
  STREAMS,
  type ConsumerDeclaration,
} from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { sleep, waitFor } from '../../support/wait.js';

const PROBE = 'probe.work';
/** A message whose handler never settles, on a consumer that delivers once. */
const STUCK = 'probe-once.hang';

class StuckJob {
  @IsString()
  key: string;
}

class ProbeJob {
  @IsString()
  key: string;

  @IsIn(['succeed', 'fail-then-succeed', 'always-fail'])
  mode: 'succeed' | 'fail-then-succeed' | 'always-fail';

  @IsOptional()
  @IsInt()
  @Min(0)
  failTimes?: number;
}

@Injectable()
class ProbeEffects {
  constructor(private readonly dataSource: DataSource) {}
  async attempt(key: string, delivery: number): Promise<void> {
    await this.dataSource.query('INSERT INTO probe_attempts (key, delivery) VALUES ($1, $2)', [key, delivery]);
  }
  async effect(key: string): Promise<void> {
    await this.dataSource.query('INSERT INTO probe_effects (key) VALUES ($1) ON CONFLICT (key) DO NOTHING', [key]);
  }
}

@Controller()
class ProbeConsumer {
  constructor(private readonly effects: ProbeEffects) {}

  @OnMessage(PROBE)
  async work(@Payload() job: ProbeJob, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.effects.attempt(job.key, ctx.deliveryCount);
    if (job.mode === 'always-fail') throw new Error(`probe ${job.key} always fails`);
    if (job.mode === 'fail-then-succeed' && ctx.deliveryCount <= (job.failTimes ?? 0)) {
      throw new Error(`probe ${job.key} failing on delivery ${ctx.deliveryCount}`);
    }
    await this.effects.effect(job.key);
  }

  @OnMessage(STUCK)
  async hang(@Payload() job: StuckJob, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.effects.attempt(job.key, ctx.deliveryCount);
    await new Promise(() => undefined);
  }
}

const probeConsumer: ConsumerDeclaration = {
  stream: STREAMS.JOBS,
  durable: 'probe',
  filterSubject: 'jobs.*.probe.>',
  maxAttempts: 3,
  backoff: { kind: 'exponential', baseMs: 300, capMs: 10_000, jitter: 0 },
  concurrency: 4,
  ackWaitMs: 1_500,
};

const onceConsumer: ConsumerDeclaration = {
  stream: STREAMS.JOBS,
  durable: 'probe-once',
  filterSubject: 'jobs.*.probe-once.>',
  maxAttempts: 1,
  maxDeliver: 1,
  backoff: { kind: 'fixed', baseMs: 0, capMs: 0, jitter: 0 },
  concurrency: 1,
  ackWaitMs: 1_000,
};

@Module({
  imports: [
    MetronomeServiceModule.forService({
      service: 'probe',
      consumers: [probeConsumer, onceConsumer],
      entities: [],
      contracts: { [PROBE]: ProbeJob, [STUCK]: StuckJob },
    }),
  ],
  controllers: [ProbeConsumer],
  providers: [ProbeEffects],
})
class ProbeModule {}

describe('JetStream transport against real NATS and Postgres', () => {
  const nats = new TestNatsServer();
  const database = new TestDatabase();
  let app: INestApplication;
  let publisher: EventPublisher;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    await Promise.all([nats.start(), database.create()]);
    await database.query('CREATE TABLE probe_attempts (key text NOT NULL, delivery int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())');
    await database.query('CREATE TABLE probe_effects (key text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await provision(jsm, STREAM_DECLARATIONS, [probeConsumer, onceConsumer], { replicas: 1, ackWaitMs: 1_500 });
    Object.assign(process.env, { NATS_URLS: nats.url, DATABASE_URL: database.url, LOG_LEVEL: 'warn', NATS_PROVISION_ON_START: 'false' });
    app = await NestFactory.create(ProbeModule, { logger: false });
    await connectJetStream(app);
    await app.init();
    publisher = app.get(EventPublisher);
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats.destroy();
    await database.drop();
  });

  const attempts = async (key: string) =>
    database.query<{ delivery: number; at: Date }>('SELECT delivery, at FROM probe_attempts WHERE key = $1 ORDER BY at', [key]);
  const effects = async (key: string) => Number((await database.query<{ n: string }>('SELECT count(*) n FROM probe_effects WHERE key = $1', [key]))[0].n);
  const deadLetter = async (id: string) => (await database.query('SELECT * FROM dead_letters WHERE id = $1', [id]))[0];

  it('dead-letters a message that used up its max deliveries unsettled (the JetStream advisory), and removes it from the work queue', async () => {
    const sent = await publisher.publishJob(STUCK, { key: 'stuck-1' });
    await waitFor(async () => (await attempts('stuck-1')).length === 1, { what: 'the one delivery' });
    const dead = await waitFor(() => deadLetter(sent.id), { what: 'a max_deliveries dead letter', timeoutMs: 15_000 });
    expect(dead).toMatchObject({ reason: 'max_deliveries', consumer: 'probe-once', message_type: STUCK, attempts: 1 });
    expect(dead.error).toContain('never settled');
    expect(await jsm.streams.getMessage(STREAMS.JOBS, { seq: sent.seq }).catch(() => null)).toBeNull();
    expect((await attempts('stuck-1')).map((a) => a.delivery)).toEqual([1]);
  });

  it('acks a handler that succeeds once and never redelivers it', async () => {
    const sent = await publisher.publishJob(PROBE, { key: 'ok-1', mode: 'succeed' });
    await waitFor(() => effects('ok-1'), { what: 'effect' });
    await sleep(2_500); // longer than the 1.5 s ack wait: an unacked message would come back
    expect((await attempts('ok-1')).map((a) => a.delivery)).toEqual([1]);
    const info = await jsm.consumers.info(STREAMS.JOBS, 'probe');
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(sent.seq);
  });

  it('redelivers a handler that fails twice with growing delays and succeeds on the third delivery', async () => {
    await publisher.publishJob(PROBE, { key: 'flaky-1', mode: 'fail-then-succeed', failTimes: 2 });
    await waitFor(() => effects('flaky-1'), { what: 'effect after retries' });
    const seen = await attempts('flaky-1');
    expect(seen.map((a) => a.delivery)).toEqual([1, 2, 3]);
    const gap1 = seen[1].at.getTime() - seen[0].at.getTime();
    const gap2 = seen[2].at.getTime() - seen[1].at.getTime();
    expect(gap1).toBeGreaterThanOrEqual(250); // backoff base 300 ms
    expect(gap2).toBeGreaterThan(gap1); // exponential: 600 ms after the second failure
  });

  it('dead-letters a handler that always fails after its max attempts and stops delivering it', async () => {
    const sent = await publisher.publishJob(PROBE, { key: 'doomed-1', mode: 'always-fail' });
    const dead = await waitFor(() => deadLetter(sent.id), { what: 'dead letter' });
    expect(dead.reason).toBe('attempts_exhausted');
    expect(dead.error).toContain('probe doomed-1 always fails');
    expect(dead.attempts).toBe(3);
    expect(dead.subject).toBe('jobs.normal.probe.work');
    expect(JSON.parse(dead.payload as string).data).toEqual({ key: 'doomed-1', mode: 'always-fail' });
    await sleep(2_500); // longer than the ack wait: a message left unterminated would be redelivered
    expect((await attempts('doomed-1')).map((a) => a.delivery)).toEqual([1, 2, 3]);
    expect(await effects('doomed-1')).toBe(0);
    const info = await jsm.consumers.info(STREAMS.JOBS, 'probe');
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(info.delivered.stream_seq).toBe(info.ack_floor.stream_seq);
  });

  it('sends a payload that fails validation straight to the DLQ without running the handler', async () => {
    const sent = await publisher.publishJob(PROBE, { key: 'bad-1', mode: 'explode' });
    const dead = await waitFor(() => deadLetter(sent.id), { what: 'dead letter' });
    expect(dead.reason).toBe('invalid_payload');
    expect(dead.error).toContain('mode');
    expect(dead.attempts).toBe(1);
    await sleep(1_000);
    expect(await attempts('bad-1')).toHaveLength(0);
  });

  it('dead-letters a body that is not a CloudEvent and keeps consuming', async () => {
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    const ack = await js.publish('jobs.normal.probe.work', '{"password":hunter2, "a":1}', { msgID: 'garbage-1' });
    const dead = await waitFor(() => deadLetter(`JOBS-${ack.seq}`), { what: 'dead letter for garbage' });
    expect(dead.reason).toBe('malformed');
    // The JSON parse error quotes the body; a credential in it is redacted before it is stored.
    expect(dead.error).toContain('body is not JSON');
    expect(dead.error).not.toContain('hunter2');
    await publisher.publishJob(PROBE, { key: 'after-garbage', mode: 'succeed' });
    await waitFor(() => effects('after-garbage'), { what: 'consumer still running' });
  });

  it('stores the same event id published twice as one message', async () => {
    // JOBS is a work queue and the probe consumer runs: count what was stored (last_seq), not what still waits.
    const before = (await jsm.streams.info(STREAMS.JOBS)).state.last_seq;
    const first = await publisher.publishJob(PROBE, { key: 'dedup-1', mode: 'succeed' }, { runId: 'run-dedup-1' });
    const second = await publisher.publishJob(PROBE, { key: 'dedup-1', mode: 'succeed' }, { runId: 'run-dedup-1' });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    expect((await jsm.streams.info(STREAMS.JOBS)).state.last_seq).toBe(before + 1);
    await waitFor(() => effects('dedup-1'));
    await sleep(500);
    expect(await attempts('dedup-1')).toHaveLength(1);
  });

  it('publishes many at once: each stored once and acknowledged in order, a repeated id kept once', async () => {
    const before = (await jsm.streams.info(STREAMS.JOBS)).state.last_seq;
    const events = Array.from({ length: 300 }, (_, i) => createCloudEvent({ type: PROBE, source: 'test', id: `run-many-${i}`, data: { key: `many-${i}`, mode: 'succeed' } }));
    const subject = subjects.job('normal', PROBE);
    const first = await publisher.publishMany(events.map((event) => ({ subject, event })));
    expect(first.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(first.every((r) => r.stream === STREAMS.JOBS && !r.duplicate)).toBe(true);
    expect(first.map((r) => r.seq)).toEqual([...first.map((r) => r.seq)].sort((a, b) => a - b));
    const again = await publisher.publishMany(events.slice(0, 10).map((event) => ({ subject, event })));
    expect(again.every((r) => r.duplicate)).toBe(true);
    expect(again.map((r) => r.seq)).toEqual(first.slice(0, 10).map((r) => r.seq));
    await waitFor(async () => (await database.query<{ n: string }>("SELECT count(*) n FROM probe_effects WHERE key LIKE 'many-%'"))[0].n === '300', { what: '300 effects' });
    expect((await jsm.streams.info(STREAMS.JOBS)).state.last_seq).toBe(before + 300);
  });

  it('fails a publish many with the missing stream named, and a silent responder after the ack timeout', async () => {
    const event = createCloudEvent({ type: 't', source: 'test', id: 'run-nowhere', data: {} });
    await expect(publisher.publishMany([{ subject: 'nowhere.at.all', event }])).rejects.toThrow(/no JetStream stream captures subject "nowhere.at.all"/);
    // Something answers the subject but never acknowledges: a timeout, not a hang.
    const silent = nc.subscribe('silent.listener');
    await nc.flush();
    const [outcome] = await app.get(AsyncAckPublisher).publish([{ subject: 'silent.listener', data: new Uint8Array(1), headers: natsHeaders() }], 200);
    expect(outcome).toEqual({ ok: false, error: 'no PubAck within 200 ms', noStream: false });
    silent.unsubscribe();
  });

  it('reports a message the stream refuses with its reason, and stores nothing', async () => {
    const before = (await jsm.streams.info(STREAMS.JOBS)).state;
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'run-refused');
    h.set('Nats-Expected-Last-Sequence', String(before.last_seq + 1_000));
    const event = createCloudEvent({ type: PROBE, source: 'test', id: 'run-refused', data: { key: 'refused', mode: 'succeed' } });
    const [outcome] = await app.get(AsyncAckPublisher).publish([{ subject: subjects.job('normal', PROBE), data: Buffer.from(JSON.stringify(event)), headers: h }]);
    expect(outcome).toEqual({ ok: false, error: expect.stringMatching(/wrong last sequence/), noStream: false });
    expect((await jsm.streams.info(STREAMS.JOBS)).state.last_seq).toBe(before.last_seq);
  });

  it('says which stream is missing instead of timing out', async () => {
    await expect(publisher.publishEnvelope('nowhere.at.all', {
      specversion: '1.0', id: 'x', source: 't', type: 't', time: new Date().toISOString(), datacontenttype: 'application/json', data: {},
    })).rejects.toThrow(/no JetStream stream captures subject "nowhere.at.all"/);
  });
});
