import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { AsyncAckPublisher, type NatsConnectionService } from '../../../libs/common/src/index.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { sleep } from '../../support/wait.js';

/**
 * Publishes nobody answers: a stream that does not listen yet (another process
 * is creating it, or a clustered stream is electing a leader) is made here by
 * moving its subjects away and giving them back.
 */
describe('AsyncAckPublisher when no stream listens', () => {
  const nats = new TestNatsServer();
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: AsyncAckPublisher;

  beforeAll(async () => {
    await nats.start();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    publisher = new AsyncAckPublisher({ connection$: async () => nc, inboxPrefix: undefined } as unknown as NatsConnectionService);
  });

  afterAll(async () => {
    await nc?.close();
    await nats.stop();
  });

  const message = (subject: string, id: string) => {
    const headers = natsHeaders();
    headers.set('Nats-Msg-Id', id);
    return { subject, data: Buffer.from(JSON.stringify({ id })), headers };
  };

  it('sends again what nobody answered once the stream listens, each stored once', async () => {
    await jsm.streams.add({ name: 'LATE', subjects: ['parked.late.>'] });
    const messages = Array.from({ length: 50 }, (_, i) => message(`late.job.${i}`, `run-${i}`));
    const sent = publisher.publish(messages);
    await sleep(120);
    await jsm.streams.update('LATE', { subjects: ['late.>'] });
    const outcomes = await sent;
    expect(outcomes.every((o) => o.ok && o.stream === 'LATE' && !o.duplicate)).toBe(true);
    expect((await jsm.streams.info('LATE')).state.messages).toBe(50);
  });

  it('gives up with noStream when nothing ever listens', async () => {
    const [outcome] = await publisher.publish([message('nobody.listens', 'run-x')], 1_000, [10, 20]);
    expect(outcome).toMatchObject({ ok: false, noStream: true });
  });

  it('does not send again what a stream refused', async () => {
    await jsm.streams.add({ name: 'STRICT', subjects: ['strict.>'], max_msgs_per_subject: 1, discard: 'new', discard_new_per_subject: true });
    expect((await publisher.publish([message('strict.one', 'run-1')]))[0].ok).toBe(true);
    const started = Date.now();
    const [refused] = await publisher.publish([message('strict.one', 'run-2')], 1_000, [60_000]);
    expect(refused).toMatchObject({ ok: false, noStream: false });
    expect(Date.now() - started).toBeLessThan(60_000);
    expect((await jsm.streams.info('STRICT')).state.messages).toBe(1);
  });
});
