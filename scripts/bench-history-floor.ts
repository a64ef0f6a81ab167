/**
 * The floor under the burn-down benchmark: the least work any worker must do
 * to burn down a JetStream backlog while keeping Metronome's run history — the
 * runtime's own job_attempts statement (HistoryRepository.write, batched as the
 * HistoryWriter does: batches of up to 500 rows, 3 in flight), a JSON parse
 * standing in for the handler, and the ack after the commit — with no Nest, no
 * contracts, no dispatcher and no concurrency limit. Against a private
 * nats-server and a fresh migrated database, like `npm run bench`.
 *
 * Modes: `history` (one job_attempts row per job committed before its ack:
 * the runtime's design), `no-history` (consume and ack only), `packed`
 * (`--pack` jobs, 50 by default, carried by one JetStream message: each job
 * still gets its own history row, committed before the message's one ack; the
 * floor of a design that packs a bulk enqueue, which the runtime does not
 * do). Each prints
 * jobs/s and the CPU seconds per 1,000 jobs of the worker, nats-server and
 * Postgres: their sum bounds what 2 CPUs can do.
 *
 * The second half is the same for the latency benchmark (runSteady below):
 * enqueue (a JetStream publish with Nats-Msg-Id, as JobEnqueuer does for a job
 * due now) to handler start, with the history written behind (`history`) or
 * not at all (`transport-only`).
 *
 * The third part is the floor under the enqueue benchmark: JetStream publishes
 * with Nats-Msg-Id awaiting each stored ack, as JobEnqueuer publishes a job due
 * now, with nothing else — `single` (50 callers, one publish each at a time)
 * and `bulk` (calls of 1,000 publishes in flight), the bench's own shapes —
 * through nats.js's `js.publish` (a request per message) and through
 * AsyncAckPublisher (one inbox for every ack), which JobEnqueuer uses.
 *
 *   npm run bench:history-floor -- [--jobs 50000] [--modes history,no-history,packed] [--pack 50]
 *     [--steady history,transport-only] [--seconds 30] [--enqueue single,bulk]
 *   (`--modes none`, `--steady none` or `--enqueue none` skips that part)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, type JsMsg } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import { AsyncAckPublisher, HISTORY_BATCHING, HistoryRepository, OverlappingBatcher, type AttemptRecord, type NatsConnectionService } from '../libs/common/src/index.js';
import { cliArg, payload, percentiles } from './bench/common.js';
import { BenchDatabase, BenchNatsServer, processCpuSeconds } from './bench/infra.js';

const JOBS = Number(cliArg('jobs', '50000'));
const MODES = cliArg('modes', 'history,no-history,packed').split(',').filter((m) => m && m !== 'none') as Mode[];
type Mode = 'history' | 'no-history' | 'packed';
const PACK = Number(cliArg('pack', '50'));
const STEADY_MODES = cliArg('steady', 'history,transport-only').split(',').filter((m) => m && m !== 'none') as SteadyMode[];
const STEADY_RATE = 1_000;
const STEADY_SECONDS = Number(cliArg('seconds', '30'));
const STEADY_WARMUP_SECONDS = 3;
const JOB = 'bench.noop';
const ENQUEUE_MODES = cliArg('enqueue', 'single,bulk').split(',').filter((m) => m && m !== 'none') as EnqueueMode[];
type EnqueueMode = 'single' | 'bulk';
/** nats.js's own `js.publish` (a request per message), and the asynchronous acks JobEnqueuer publishes with. */
type PublishClient = 'js.publish' | 'async-acks';
const PUBLISH_CLIENTS: PublishClient[] = ['js.publish', 'async-acks'];
const ENQUEUE_COUNTS: Record<EnqueueMode, number> = { single: 10_000, bulk: 40_000 };

/** CPU seconds used so far by every process named `postgres` (the server and all its backends). */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    total += processCpuSeconds(Number(entry)) ?? 0;
  }
  return total;
}

interface Floor {
  nats: BenchNatsServer;
  ds: DataSource;
  nc: NatsConnection;
  /** The runtime's history statement, batched as the HistoryWriter batches it. */
  history: (r: AttemptRecord) => Promise<void>;
}

/** An attempt record as the runtime writes it for a succeeded job. */
function succeeded(id: string, m: JsMsg, startedAt: Date): AttemptRecord {
  const now = new Date();
  return {
    runId: id, attempt: 1, job: JOB, queue: 'normal', companyId: 'tenant-1', outcome: 'succeeded', scheduledFor: startedAt,
    enqueuedAt: new Date(m.info.timestampNanos / 1e6), startedAt, finishedAt: now, durationMs: now.getTime() - startedAt.getTime(),
    error: null, errorStack: null, result: { status: 'success', durationMs: 0 }, payload: null, scheduleId: null, parentRunId: null, worker: 'floor',
    streamSeq: m.info.streamSequence, planned: false, maxAttempts: 3,
  };
}

/** A private nats-server with the FLOOR stream and consumer, a fresh migrated database, and the runtime's history statement on it; torn down after `work`. */
async function withFloor<T>(work: (f: Floor) => Promise<T>): Promise<T> {
  const nats = await new BenchNatsServer().start();
  const db = await new BenchDatabase(`metronome_history_floor_${process.pid}`).create({ migrate: true });
  const ds = new DataSource({ type: 'postgres', url: db.url, poolSize: 10 });
  await ds.initialize();
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'FLOOR', subjects: ['jobs.>'], duplicate_window: 120e9, retention: RetentionPolicy.Workqueue });
    await jsm.consumers.add('FLOOR', { durable_name: 'floor', ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
    const repository = new HistoryRepository(ds);
    const batcher = new OverlappingBatcher<AttemptRecord, void>(async (rows) => {
      await repository.write(rows, await repository.batchId());
      return rows.map(() => undefined);
    }, HISTORY_BATCHING);
    return await work({ nats, ds, nc, history: (r) => batcher.add(r) });
  } finally {
    await nc.close().catch(() => undefined);
    await ds.destroy().catch(() => undefined);
    await nats.destroy();
    await db.drop();
  }
}

function runMode(mode: Mode): Promise<Record<string, unknown>> {
  return withFloor(async ({ nats, ds, nc, history }) => {
    // The backlog: one ~200-byte CloudEvent per job, as JobEnqueuer publishes it (`packed`: PACK of them in a JSON array per message).
    const pack = mode === 'packed' ? PACK : 1;
    const ids = Array.from({ length: JOBS }, () => crypto.randomUUID());
    const event = (id: string, seq: number) => ({
      specversion: '1.0', id, type: JOB, source: 'floor', time: new Date().toISOString(), companyid: 'tenant-1',
      data: { runId: id, payload: payload('burn', seq) },
    });
    const js = jetstream(nc);
    for (let i = 0; i < JOBS; i += 1_000) {
      const publishes: Promise<unknown>[] = [];
      for (let k = i; k < Math.min(JOBS, i + 1_000); k += pack) {
        const body = pack === 1 ? event(ids[k], k) : ids.slice(k, k + pack).map((id, j) => event(id, k + j));
        publishes.push(js.publish(`jobs.normal.${JOB}`, JSON.stringify(body), { msgID: ids[k] }));
      }
      await Promise.all(publishes);
    }

    const worker = await connect({ servers: nats.url });
    const consumer = await jetstream(worker).consumers.get('FLOOR', 'floor');
    const cpu0 = { worker: process.cpuUsage(), nats: processCpuSeconds(nats.pid) ?? 0, postgres: postgresCpuSeconds() };
    const t0 = performance.now();
    let done = 0;
    let failed = 0;
    const finished = new Promise<void>((resolve) => {
      const one = async (m: JsMsg) => {
        let jobs = 1;
        try {
          const startedAt = new Date();
          if (mode === 'packed') {
            const events = JSON.parse(m.string()) as { id: string; time: string; data: { payload: unknown } }[];
            jobs = events.length;
            await Promise.all(events.map((e) => history(succeeded(e.id, m, startedAt))));
          } else {
            const event = JSON.parse(m.string()) as { id: string; time: string; data: { payload: unknown } };
            if (mode === 'history') await history(succeeded(event.id, m, startedAt));
          }
          m.ack();
        } catch (e) {
          failed++;
          console.error(e);
          m.nak();
          return;
        }
        if ((done += jobs) === JOBS) resolve();
      };
      void (async () => {
        for await (const m of await consumer.consume({ max_messages: Math.max(20, Math.ceil(1_000 / pack)) })) void one(m);
      })();
    });
    await finished;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0.worker);
    const per1k = (s: number) => +((s / JOBS) * 1000).toFixed(3);
    const workerCpu = (cpu.user + cpu.system) / 1e6;
    const natsCpu = (processCpuSeconds(nats.pid) ?? 0) - cpu0.nats;
    const postgresCpu = postgresCpuSeconds() - cpu0.postgres;
    const [stored] = await ds.query<{ n: string }[]>(`SELECT count(*) n FROM job_attempts WHERE outcome = 'succeeded' AND attempt = 1`);
    await worker.drain();
    const total = workerCpu + natsCpu + postgresCpu;
    return {
      mode,
      jobs: JOBS,
      jobs_per_message: pack,
      failed,
      history_rows_succeeded: mode === 'no-history' ? null : Number(stored.n),
      seconds: +seconds.toFixed(2),
      jobs_per_s: Math.round(JOBS / seconds),
      cpu_s_per_1000_jobs: { worker: per1k(workerCpu), nats_server: per1k(natsCpu), postgres: per1k(postgresCpu), total: per1k(total) },
      // With every CPU second of the three spent on these jobs and nothing else on the host.
      jobs_per_s_bound_on_2_cpus: Math.round((2 * JOBS) / total),
    };
  });
}

/**
 * The floor under the latency benchmark: 1,000 jobs/s for STEADY_SECONDS, each
 * enqueued as Metronome enqueues a job due now (a JetStream publish with
 * Nats-Msg-Id, returning on the stream's ack), consumed by a pull consumer in
 * the same process. `latency` is enqueue call to handler start; `history`
 * then writes the attempt (batched, committed) before the ack, as the runtime
 * does, `transport-only` acks at once.
 */
type SteadyMode = 'history' | 'transport-only';

function runSteady(mode: SteadyMode): Promise<Record<string, unknown>> {
  return withFloor(async ({ nats, nc, history }) => {
    const worker = await connect({ servers: nats.url });
    try {
      const js = jetstream(nc);
      const total = STEADY_RATE * STEADY_SECONDS;
      const latency = new Float64Array(total).fill(NaN);
      let settled = 0;
      const consumer = await jetstream(worker).consumers.get('FLOOR', 'floor');
      void (async () => {
        for await (const m of await consumer.consume({ max_messages: 1_000 })) {
          void (async () => {
            const startedAt = new Date();
            const event = JSON.parse(m.string()) as { id: string; time: string; data: { seq: number; t: number } };
            latency[event.data.seq] = performance.now() - event.data.t;
            if (mode === 'history') await history(succeeded(event.id, m, startedAt));
            m.ack();
            settled++;
          })();
        }
      })();

      const subject = `jobs.normal.${JOB}`;
      const enqueue = async (seq: number): Promise<void> => {
        const t = performance.now();
        const id = crypto.randomUUID();
        const body = { specversion: '1.0', id, type: JOB, source: 'floor', time: new Date().toISOString(), companyid: 'tenant-1', data: { seq, t, payload: payload('steady', seq) } };
        await js.publish(subject, JSON.stringify(body), { msgID: id });
      };
      const cpu0 = { producerAndWorker: process.cpuUsage(), nats: processCpuSeconds(nats.pid) ?? 0, postgres: postgresCpuSeconds() };
      const started = performance.now();
      let sent = 0;
      const pending = new Set<Promise<void>>();
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * STEADY_RATE) + 1);
        while (sent < due) {
          const p = enqueue(sent++).finally(() => pending.delete(p));
          pending.add(p);
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      await Promise.all(pending);
      while (settled < total) await new Promise((r) => setTimeout(r, 20));
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu0.producerAndWorker);
      const cores = (s: number) => +(s / seconds).toFixed(2);
      const cpu = {
        producer_and_worker: cores((used.user + used.system) / 1e6),
        nats_server: cores((processCpuSeconds(nats.pid) ?? 0) - cpu0.nats),
        postgres: cores(postgresCpuSeconds() - cpu0.postgres),
      };
      const q = percentiles(latency.subarray(STEADY_RATE * STEADY_WARMUP_SECONDS));
      const ms = (v: number) => +v.toFixed(2);
      return {
        mode, rate: STEADY_RATE, seconds: STEADY_SECONDS - STEADY_WARMUP_SECONDS, measured: q.n,
        p50_ms: ms(q.p50), p95_ms: ms(q.p95), p99_ms: ms(q.p99), max_ms: ms(q.max), cpu_cores_busy: cpu,
      };
    } finally {
      await worker.close().catch(() => undefined);
    }
  });
}

/** The enqueue floor: only publishes, each with its Nats-Msg-Id, awaiting the stream's ack. */
function runEnqueue(mode: EnqueueMode, client: PublishClient): Promise<Record<string, unknown>> {
  return withFloor(async ({ nats, nc }) => {
    const js = jetstream(nc);
    const acks = new AsyncAckPublisher({ connection$: async () => nc, inboxPrefix: undefined } as unknown as NatsConnectionService);
    const subject = `jobs.normal.${JOB}`;
    const total = ENQUEUE_COUNTS[mode];
    const publish = async (seq: number) => {
      const id = crypto.randomUUID();
      const body = JSON.stringify({
        specversion: '1.0', id, type: JOB, source: 'floor', time: new Date().toISOString(), companyid: 'tenant-1',
        data: { runId: id, payload: payload('burn', seq), scheduledFor: new Date().toISOString() },
      });
      if (client === 'js.publish') return void (await js.publish(subject, body, { msgID: id }));
      const headers = natsHeaders();
      headers.set('Nats-Msg-Id', id);
      const [outcome] = await acks.publish([{ subject, data: Buffer.from(body), headers }]);
      if (!outcome.ok) throw new Error(outcome.error);
    };
    const cpu0 = { producer: process.cpuUsage(), nats: processCpuSeconds(nats.pid) ?? 0 };
    const t0 = performance.now();
    if (mode === 'single') {
      let next = 0;
      await Promise.all(Array.from({ length: 50 }, async () => {
        while (next < total) await publish(next++);
      }));
    } else {
      for (let i = 0; i < total; i += 1_000) await Promise.all(Array.from({ length: Math.min(1_000, total - i) }, (_, k) => publish(i + k)));
    }
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu0.producer);
    const per1k = (s: number) => +((s / total) * 1000).toFixed(3);
    return {
      enqueue: mode, client, jobs: total, jobs_per_s: Math.round(total / seconds),
      cpu_s_per_1000_jobs: { producer: per1k((used.user + used.system) / 1e6), nats_server: per1k((processCpuSeconds(nats.pid) ?? 0) - cpu0.nats) },
    };
  });
}

async function main(): Promise<void> {
  for (const mode of MODES) console.log(JSON.stringify(await runMode(mode)));
  for (const mode of STEADY_MODES) console.log(JSON.stringify(await runSteady(mode)));
  for (const mode of ENQUEUE_MODES) for (const client of PUBLISH_CLIENTS) console.log(JSON.stringify(await runEnqueue(mode, client)));
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
