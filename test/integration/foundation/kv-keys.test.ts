import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { listKvKeys } from '../../../libs/common/src/index.js';
import { TestNatsServer } from '../../support/nats-server.js';

/** The workers' heartbeat bucket's shape: history 1, a max age, keys rewritten all the time. */
describe('listKvKeys on a bucket written many times a second', () => {
  const nats = new TestNatsServer();
  let nc: NatsConnection;

  beforeAll(async () => {
    await nats.start();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await nats.stop();
  });

  it('lists every live key while writers keep rewriting them, and answers DEL for a deleted one', async () => {
    const kv = await new Kvm(jetstream(nc)).create('beats', { history: 1, ttl: 60_000 });
    const keys = Array.from({ length: 40 }, (_, i) => `svc.instance-${i}`);
    await Promise.all(keys.map((k) => kv.put(k, JSON.stringify({ k }))));
    await kv.delete(keys[0]!);

    let writing = true;
    const writers = keys.slice(1).map(async (k) => {
      for (let n = 0; writing; n++) await kv.put(k, JSON.stringify({ k, n }));
    });
    try {
      const jsm = await jetstreamManager(nc);
      for (let round = 0; round < 5; round++) {
        const listed = await listKvKeys(jsm, 'beats');
        expect([...listed].sort()).toEqual([...keys].sort());
      }
      expect((await kv.get(keys[0]!))?.operation).toBe('DEL');
    } finally {
      writing = false;
      await Promise.all(writers);
    }
  });
});
