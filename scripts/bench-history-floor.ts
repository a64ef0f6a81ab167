/**
 * The floor under the burn-down benchmark: the least work any worker must do
 * to burn down a JetStream backlog while keeping Metronome's run history — the
 * runtime's own job_runs statements through its RunRecorder batching, a JSON
 * parse standing in for the handler, and the ack — with no Nest, no transport,
 * no contracts, no dispatcher and no concurrency limit. Against a private
 * nats-server and a fresh migrated database, like `npm run bench`.
 *
 * Modes: `two-writes` (the attempt counted before the handler, the outcome
 * before the ack: the runtime's design), `one-write` (only the outcome, with
 * the attempt counted in the same statement: the least any design can write
 * and still ack after its history is committed), `no-history` (consume and
 * ack only). Each prints jobs/s and the CPU seconds per 1,000 jobs of the
 * worker, nats-server and Postgres: their sum bounds what 2 CPUs can do.
 *
 * The second half is the same for the latency benchmark (runSteady below).
 *
 *   npm run bench:history-floor -- [--jobs 50000] [--modes two-writes,one-write,no-history]
 *     [--steady start-first,start-behind,commit-only,commit-only-async,transport-only] [--seconds 30]
 *   (`--modes none` or `--steady none` skips that half)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import { Batcher, JobRunsRepository, OutboxRepository, RunRecorder } from '../libs/common/src/index.js';
import { cliArg, payload, percentiles } from './bench/common.js';
import { BenchDatabase, BenchNatsServer, processCpuSeconds } from './bench/infra.js';

const JOBS = Number(cliArg('jobs', '50000'));
const MODES = cliArg('modes', 'two-writes,one-write,no-history').split(',').filter((m) => m && m !== 'none') as Mode[];
type Mode = 'two-writes' | 'one-write' | 'no-history';
const STEADY_MODES = cliArg('steady', 'start-first,start-behind,commit-only,commit-only-async,transport-only').split(',').filter((m) => m && m !== 'none') as SteadyMode[];
const STEADY_RATE = 1_000;
const STEADY_SECONDS = Number(cliArg('seconds', '30'));
const STEADY_WARMUP_SECONDS = 3;
const JOB = 'bench.noop';

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
  recorder: RunRecorder;
}

/** A private nats-server with the FLOOR stream and consumer, a fresh migrated database, and the runtime's recorder on it; torn down after `work`. */
async function withFloor<T>(options: { asyncCommit: boolean }, work: (f: Floor) => Promise<T>): Promise<T> {
  const nats = await new BenchNatsServer().start();
  const db = await new BenchDatabase(`metronome_history_floor_${process.pid}`).create({ migrate: true });
  if (options.asyncCommit) await db.query(`ALTER DATABASE ${db.name} SET synchronous_commit = off`);
  const ds = new DataSource({ type: 'postgres', url: db.url, poolSize: 10 });
  await ds.initialize();
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'FLOOR', subjects: ['jobs.>'], duplicate_window: 120e9 });
    await jsm.consumers.add('FLOOR', { durable_name: 'floor', ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
    return await work({ nats, ds, nc, recorder: new RunRecorder(new JobRunsRepository(ds)) });
  } finally {
    await nc.close().catch(() => undefined);
    await ds.destroy().catch(() => undefined);
    await nats.destroy();
    await db.drop();
  }
}

function runMode(mode: Mode): Promise<Record<string, unknown>> {
  return withFloor({ asyncCommit: false }, async ({ nats, ds, nc, recorder }) => {
    // The backlog: one queued job_runs row and one ~200-byte CloudEvent per job, as JobEnqueuer leaves them.
    const ids = Array.from({ length: JOBS }, () => crypto.randomUUID());
    for (let i = 0; i < JOBS; i += 5_000) {
      const chunk = ids.slice(i, i + 5_000);
      await ds.query(
        `INSERT INTO job_runs (id, job, queue, priority, state, attempts, max_attempts, payload, scheduled_for, company_id)
         SELECT id, $2, 'normal', 'normal', 'queued', 0, 3, '{"phase":"burndown"}', now(), 'tenant-1' FROM unnest($1::text[]) id`,
        [chunk, JOB],
      );
    }
    const js = jetstream(nc);
    for (let i = 0; i < JOBS; i += 1_000) {
      await Promise.all(ids.slice(i, i + 1_000).map((id, k) => js.publish(`jobs.normal.${JOB}`, JSON.stringify({
        specversion: '1.0', id, type: JOB, source: 'floor', time: new Date().toISOString(), companyid: 'tenant-1',
        data: { runId: id, payload: payload('burn', i + k) },
      }), { msgID: id })));
    }
    await ds.query('VACUUM ANALYZE job_runs');

    const worker = await connect({ servers: nats.url });
    const consumer = await jetstream(worker).consumers.get('FLOOR', 'floor');
    const cpu0 = { worker: process.cpuUsage(), nats: processCpuSeconds(nats.pid) ?? 0, postgres: postgresCpuSeconds() };
    const t0 = performance.now();
    let done = 0;
    let failed = 0;
    const finished = new Promise<void>((resolve) => {
      const one = async (m: JsMsg) => {
        try {
          const event = JSON.parse(m.string()) as { id: string; time: string; data: { payload: unknown } };
          if (mode === 'two-writes') {
            await recorder.start({
              id: event.id, job: JOB, priority: 'normal', companyId: 'tenant-1', maxAttempts: 3, payload: event.data.payload,
              scheduledFor: new Date(event.time), startedAt: new Date(), publishedAt: new Date(m.info.timestampNanos / 1e6),
            });
          }
          if (mode !== 'no-history') {
            await recorder.settle({
              id: event.id, state: 'succeeded', finishedAt: new Date(), error: null,
              result: { status: 'success', durationMs: 0 }, attemptsDelta: mode === 'one-write' ? 1 : 0,
            });
          }
          m.ack();
        } catch (e) {
          failed++;
          console.error(e);
          m.nak();
          return;
        }
        if (++done === JOBS) resolve();
      };
      void (async () => {
        for await (const m of await consumer.consume({ max_messages: 1_000 })) void one(m);
      })();
    });
    await finished;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0.worker);
    const per1k = (s: number) => +((s / JOBS) * 1000).toFixed(3);
    const workerCpu = (cpu.user + cpu.system) / 1e6;
    const natsCpu = (processCpuSeconds(nats.pid) ?? 0) - cpu0.nats;
    const postgresCpu = postgresCpuSeconds() - cpu0.postgres;
    const [stored] = await ds.query<{ n: string }[]>(`SELECT count(*) n FROM job_runs WHERE state = 'succeeded' AND attempts = 1`);
    await worker.drain();
    const total = workerCpu + natsCpu + postgresCpu;
    return {
      mode,
      jobs: JOBS,
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
 * enqueued as Metronome must (its job_runs and outbox rows in one committed
 * statement, the enqueuer's own OutboxRepository.insertRuns; then a JetStream
 * publish with Nats-Msg-Id; the outbox row marked published in batches, as the
 * relay does), consumed by a pull consumer in the same process.
 * `latency` is enqueue call to handler start: after the runtime's start write
 * (`start-first`), at delivery with the start written behind (`start-behind`),
 * at delivery with no worker writes and no outbox mark (`commit-only`: just
 * invariant 1's commit before the publish), the same with the database's
 * `synchronous_commit = off` (`commit-only-async`: no wait for the WAL flush,
 * the durability BullMQ's Redis has in the bench), or at delivery with no
 * database at all (`transport-only`).
 */
type SteadyMode = 'start-first' | 'start-behind' | 'commit-only' | 'commit-only-async' | 'transport-only';

function runSteady(mode: SteadyMode): Promise<Record<string, unknown>> {
  return withFloor({ asyncCommit: mode === 'commit-only-async' }, async ({ nats, ds, nc, recorder }) => {
    const worker = await connect({ servers: nats.url });
    try {
      const js = jetstream(nc);
      const outbox = new OutboxRepository(ds);
      const total = STEADY_RATE * STEADY_SECONDS;
      const latency = new Float64Array(total).fill(NaN);
      // As the outbox relay marks what it published.
      const marks = new Batcher<string>((ids) => outbox.markPublished(outbox.db, ids, new Date()), { maxItems: 1_000, maxDelayMs: 5 });
      const writesHistory = mode === 'start-first' || mode === 'start-behind';
      let settled = 0;
      const consumer = await jetstream(worker).consumers.get('FLOOR', 'floor');
      void (async () => {
        for await (const m of await consumer.consume({ max_messages: 1_000 })) {
          void (async () => {
            const event = JSON.parse(m.string()) as { id: string; time: string; data: { seq: number; t: number } };
            const start = {
              id: event.id, job: JOB, priority: 'normal', companyId: 'tenant-1', maxAttempts: 3, payload: {},
              scheduledFor: new Date(event.time), startedAt: new Date(), publishedAt: new Date(m.info.timestampNanos / 1e6),
            };
            if (mode === 'start-first') await recorder.start(start);
            else if (mode === 'start-behind') void recorder.startBehind(start);
            latency[event.data.seq] = performance.now() - event.data.t;
            if (writesHistory) {
              await recorder.settle({ id: event.id, state: 'succeeded', finishedAt: new Date(), error: null, result: { status: 'success', durationMs: 0 }, attemptsDelta: 0 });
            }
            m.ack();
            settled++;
          })();
        }
      })();

      const subject = `jobs.normal.${JOB}`;
      const enqueue = async (seq: number): Promise<void> => {
        const t = performance.now();
        const id = crypto.randomUUID();
        const now = new Date();
        const body = { specversion: '1.0', id, type: JOB, source: 'floor', time: now.toISOString(), companyid: 'tenant-1', data: { seq, t, payload: payload('steady', seq) } };
        if (mode !== 'transport-only') {
          await outbox.insertRuns(outbox.db, [{
            id, job: JOB, queue: 'normal', companyId: 'tenant-1', scheduleId: null, occurrenceAt: null, priority: 'normal', maxAttempts: 3,
            payload: body.data.payload, idempotencyKey: null, scheduledFor: now, options: null, subject, body, headers: {}, notBefore: null, createdAt: now,
          }]);
        }
        await js.publish(subject, JSON.stringify(body), { msgID: id });
        if (writesHistory) void marks.add(id);
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

async function main(): Promise<void> {
  for (const mode of MODES) console.log(JSON.stringify(await runMode(mode)));
  for (const mode of STEADY_MODES) console.log(JSON.stringify(await runSteady(mode)));
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
