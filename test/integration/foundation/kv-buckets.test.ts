import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { isNoStreamListening, publishingOnceListened } from '../../../libs/common/src/index.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { sleep } from '../../support/wait.js';

/**
 * A bucket another process is creating is visible before its stream listens on
 * its subjects. Here the stream is made deaf by moving its subjects away, then
 * given them back, which is what a writer sees during that window.
 */
describe('KV writes to a bucket whose stream does not listen yet', () => {
  const nats = new TestNatsServer();
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    await nats.start();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    await nc?.close();
    await nats.stop();
  });

  async function deafBucket(name: string) {
    await new Kvm(jetstream(nc)).create(name, { history: 1 });
    const stream = `KV_${name}`;
    const listening = (await jsm.streams.info(stream)).config.subjects;
    await jsm.streams.update(stream, { subjects: [`parked.${name}.>`] });
    return { stream, listen: () => jsm.streams.update(stream, { subjects: listening }) };
  }

  it('fail at once through the plain client: the window is real', async () => {
    const { listen } = await deafBucket('plain');
    const kv = await new Kvm(jetstream(nc)).open('plain');
    const failure = await kv.put('catalog.job', 'v').then(() => undefined, (e: unknown) => e);
    expect(isNoStreamListening(failure)).toBe(true);
    await listen();
  });

  it('are stored once the stream listens, exactly once', async () => {
    const { stream, listen } = await deafBucket('late');
    const kv = await new Kvm(publishingOnceListened(jetstream(nc))).open('late');
    const put = kv.put('catalog.job', JSON.stringify({ job: 'catalog.job' }));
    await sleep(300);
    await listen();
    await put;
    expect((await kv.get('catalog.job'))?.json()).toEqual({ job: 'catalog.job' });
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
  });

  it('give up with the no-listener error when the stream never listens', async () => {
    await deafBucket('never');
    const kv = await new Kvm(publishingOnceListened(jetstream(nc), [10, 20])).open('never');
    const failure = await kv.put('catalog.job', 'v').then(() => undefined, (e: unknown) => e);
    expect(isNoStreamListening(failure)).toBe(true);
  });

  it('do not retry other refusals (a compare-and-set on a stale revision)', async () => {
    const kv = await new Kvm(publishingOnceListened(jetstream(nc), [60_000])).create('cas', { history: 1 });
    const revision = await kv.put('k', '1');
    await kv.put('k', '2');
    const started = Date.now();
    await expect(kv.update('k', '3', revision)).rejects.toThrow(/wrong last sequence/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
