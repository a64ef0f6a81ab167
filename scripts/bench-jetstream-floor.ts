/**
 * The floor under the scheduler's lateness benchmark: the same shape of load
 * (1,000 messages due at one instant, every second, ~300-byte CloudEvent-like
 * bodies with a unique Nats-Msg-Id, pipelined asynchronous-ack publishes, one
 * pull consumer acking) straight through a private nats-server, with no
 * scheduler and no database. What this prints is the most any scheduler on
 * JetStream file storage can reach on this host.
 *
 *   npm run bench:jetstream-floor -- [--messages 1000] [--rounds 15] [--warmup 5]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { cliArg } from './bench/common.js';
import { freePort, natsServerBin, sleep } from './bench/infra.js';

const MESSAGES = Number(cliArg('messages', '1000'));
const ROUNDS = Number(cliArg('rounds', '15'));
const WARMUP = Number(cliArg('warmup', '5'));
async function main(): Promise<void> {
  const store = mkdtempSync(join(tmpdir(), 'metronome-floor-nats-'));
  const port = await freePort();
  const server = spawn(natsServerBin(), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: 'ignore' });
  try {
    let producer;
    for (let i = 0; ; i++) {
      try {
        producer = await connect({ servers: `127.0.0.1:${port}` });
        break;
      } catch (e) {
        if (i > 100) throw e;
        await sleep(50);
      }
    }
    const consumerConnection = await connect({ servers: `127.0.0.1:${port}` });
    const jsm = await jetstreamManager(producer);
    await jsm.streams.add({ name: 'FLOOR', subjects: ['floor.>'], duplicate_window: 120e9 });
    await jsm.consumers.add('FLOOR', { durable_name: 'floor', ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
    const consumer = await jetstream(consumerConnection).consumers.get('FLOOR', 'floor');
    const messages = await consumer.consume({ max_messages: 4096 });
    const latencies: number[] = [];
    let dueAt = 0;
    void (async () => {
      for await (const m of messages) {
        latencies.push(performance.now() - dueAt);
        m.ack();
      }
    })();
    const body = new TextEncoder().encode(JSON.stringify({
      specversion: '1.0', id: crypto.randomUUID(), type: 'bench.lateness', source: 'floor', time: new Date().toISOString(),
      data: { runId: crypto.randomUUID(), scheduledFor: new Date().toISOString(), note: 'x'.repeat(120) },
    }));
    const inbox = `_INBOX.floor.${crypto.randomUUID()}`;
    let acks = 0;
    producer.subscribe(`${inbox}.*`, { callback: () => void acks++ });
    let n = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const next = Math.ceil(performance.now() / 1000) * 1000;
      await sleep(next - performance.now());
      dueAt = performance.now();
      for (let i = 0; i < MESSAGES; i++) {
        const h = headers();
        h.set('Nats-Msg-Id', `${round}-${i}-${crypto.randomUUID()}`);
        producer.publish('floor.job', body, { headers: h, reply: `${inbox}.${++n}` });
      }
    }
    await sleep(1_500);
    const measured = latencies.slice(WARMUP * MESSAGES).sort((a, b) => a - b);
    const p = (q: number) => measured[Math.min(measured.length - 1, Math.max(0, Math.ceil(q * measured.length) - 1))];
    console.log(JSON.stringify({
      measured: 'publish instant to consumer callback, no scheduler, no database',
      messages_per_instant: MESSAGES, rounds: ROUNDS - WARMUP, received: measured.length, acks,
      p50_ms: +p(0.5).toFixed(1), p90_ms: +p(0.9).toFixed(1), p99_ms: +p(0.99).toFixed(1), max_ms: +measured[measured.length - 1].toFixed(1),
    }, null, 2));
    await producer.close();
    await consumerConnection.close();
  } finally {
    server.kill('SIGTERM');
    rmSync(store, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
