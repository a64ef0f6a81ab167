/**
 * Lateness benchmark for the scheduler (issue #3): N schedules firing every
 * second for D seconds against a private nats-server and a fresh database,
 * with the scheduler as its own process(es) from dist. A JetStream consumer in
 * this process plays the handler and records, per message, the time from the
 * occurrence's due instant to the handler starting. Writes
 * bench/results/lateness.json.
 *
 * --handler runtime puts the job runtime (scripts/bench/lateness-runtime.ts) in
 * the handler's place: due → a @JobHandler starting, with the runtime's
 * job_runs start write, dispatcher and hold on the path; written to
 * bench/results/lateness-runtime.json.
 *
 *   npm run bench:lateness -- [--schedules 1000] [--seconds 35] [--replicas 1] [--handler consumer|runtime] [--concurrency 1000] [--admin-url postgres://…/postgres]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { CONSUMER_DECLARATIONS, DueHold, provision, STREAM_DECLARATIONS, STREAMS, type ConsumerDeclaration } from '../libs/common/src/index.js';
import { MIGRATIONS } from '../migrations/index.js';
import { cliArg } from './bench/common.js';
import { freePort, natsServerBin, sleep } from './bench/infra.js';
import { HISTORY_WRITES } from './bench/history-timing.js';
import { latenessConsumers, startRuntimeHandler } from './bench/lateness-runtime.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const SCHEDULES = Number(cliArg('schedules', '1000'));
const SECONDS = Number(cliArg('seconds', '35'));
/** Seconds of firing before the measured window (JIT, connections and caches warm up, as in a long-running scheduler). */
const WARMUP = Number(cliArg('warmup', '5'));
const REPLICAS = Number(cliArg('replicas', '1'));
const BATCH = cliArg('batch', '1000');
const LOG_LEVEL = cliArg('log-level', 'info');
const ADMIN_URL = cliArg('admin-url', 'postgres://postgres@127.0.0.1:5432/postgres');
const JOB = 'bench.lateness';
const HANDLER = cliArg('handler', 'consumer');
if (HANDLER !== 'consumer' && HANDLER !== 'runtime') throw new Error(`--handler is consumer or runtime, not "${HANDLER}"`);
const CONCURRENCY = Number(cliArg('concurrency', '1000'));


function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

async function main(): Promise<void> {
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    // A private nats-server.
    const natsPort = await freePort();
    const store = mkdtempSync(join(tmpdir(), 'metronome-bench-nats-'));
    const nats: ChildProcess = spawn(natsServerBin(), ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', store], { stdio: 'ignore' });
    cleanups.push(() => {
      nats.kill('SIGTERM');
      rmSync(store, { recursive: true, force: true });
    });
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    let nc;
    for (let i = 0; ; i++) {
      try {
        nc = await connect({ servers: natsUrl });
        break;
      } catch (e) {
        if (i > 100) throw e;
        await sleep(50);
      }
    }
    cleanups.push(() => nc.close());

    // A fresh, migrated database.
    const dbName = `metronome_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const dbUrl = new URL(ADMIN_URL);
    dbUrl.pathname = `/${dbName}`;
    cleanups.push(async () => {
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await a.end();
    });
    const ds = new DataSource({ type: 'postgres', url: dbUrl.toString(), migrations: MIGRATIONS, migrationsTableName: 'typeorm_migrations' });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
    const db = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 });
    cleanups.push(() => db.end());

    // Streams, the services' consumers, and the bench's handler consumer.
    const jsm = await jetstreamManager(nc);
    const benchConsumer: ConsumerDeclaration = {
      stream: STREAMS.JOBS, durable: 'bench', filterSubject: `jobs.*.${JOB}`, maxAttempts: 1,
      backoff: { kind: 'fixed', baseMs: 1000, capMs: 1000, jitter: 0 }, concurrency: 4096,
    };
    const handlerConsumers = HANDLER === 'runtime' ? latenessConsumers(CONCURRENCY) : [benchConsumer];
    await provision(jsm, STREAM_DECLARATIONS, [...CONSUMER_DECLARATIONS, ...handlerConsumers], { replicas: 1, ackWaitMs: 30_000 });
    if (HANDLER === 'consumer') await jsm.consumers.update(STREAMS.JOBS, 'bench', { max_ack_pending: 20_000 } as never).catch(() => undefined);

    // N one-second schedules, parked an hour ahead until the scheduler is up.
    await db.query(
      `INSERT INTO schedules (id, name, kind, job, interval_ms, starts_at, next_fire_at, missed_policy)
       SELECT gen_random_uuid()::text, 'bench-' || i, 'interval', $1, 1000, to_timestamp(0), now() + interval '1 hour', 'fire_all'
         FROM generate_series(1, $2) AS i`,
      [JOB, SCHEDULES],
    );
    let firing = Number.MAX_SAFE_INTEGER;
    let first = Number.MAX_SAFE_INTEGER;
    let lastDue = Number.MAX_SAFE_INTEGER;

    // The handler: record due → start for every message.
    const lateness: number[] = [];
    const warmup: number[] = [];
    const perSecond: number[][] = [];
    const seen = new Map<string, number>();
    let messages = 0;
    const decoder = new TextDecoder();
    // Like the job runtime, the handler never starts before the scheduled time: a message the
    // scheduler delivered ahead (look-ahead claims are published at once) waits in the same DueHold.
    /** One handler start: `occurrence` names the run (schedule or run id), `due` its instant. */
    const record = (occurrence: string, due: number, startedAt: number) => {
      messages++;
      const key = `${occurrence}@${due}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (due >= firing && due < first) warmup.push(startedAt - due);
      if (due >= first && due <= lastDue) {
        lateness.push(startedAt - due);
        const sec = (due - first) / 1000;
        (perSecond[sec] ??= []).push(startedAt - due);
      }
    };
    const start = (m: JsMsg, scheduleId: string, due: number) => {
      record(scheduleId, due, Date.now());
      m.ack();
    };
    let early = 0;
    let stopHandler: () => Promise<void>;
    if (HANDLER === 'runtime') {
      const app = await startRuntimeHandler(JOB, CONCURRENCY, { NATS_URLS: natsUrl, DATABASE_URL: dbUrl.toString(), NATS_PROVISION_ON_START: 'false', OUTBOX_RELAY: 'false', LOG_LEVEL: 'warn', NODE_ENV: 'production' }, (ctx) => {
        const startedAt = Date.now();
        messages++;
        const due = ctx.scheduledFor!.getTime();
        const scheduleId = (ctx.payload as unknown, '');
        void scheduleId;
        record(ctx.runId, due, startedAt);
      });
      stopHandler = () => app.close();
    } else {
      const js = jetstream(nc);
      const consumer = await js.consumers.get(STREAMS.JOBS, 'bench');
      const stream = await consumer.consume({ max_messages: 4096 });
      const hold = new DueHold<{ m: JsMsg; scheduleId: string; due: number }>((items) => {
        for (const h of items) start(h.m, h.scheduleId, h.due);
      });
      void (async () => {
        for await (const m of stream as AsyncIterable<JsMsg>) {
          const event = JSON.parse(decoder.decode(m.data)) as { data: { scheduleId: string; scheduledFor: string } };
          const due = Date.parse(event.data.scheduledFor);
          if (due > Date.now()) {
            early++;
            hold.hold(due, { m, scheduleId: event.data.scheduleId, due });
          } else start(m, event.data.scheduleId, due);
        }
      })();
      stopHandler = () => stream.close().then(() => undefined);
    }

    // The scheduler process(es), from the build.
    const schedulers: ChildProcess[] = [];
    const started: Promise<void>[] = [];
    for (let i = 0; i < REPLICAS; i++) {
      const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'scheduler', 'src', 'main.js')], {
        env: {
          PATH: '',
          NATS_URLS: natsUrl,
          DATABASE_URL: dbUrl.toString(),
          SCHEDULER_PORT: String(await freePort()),
          SCHEDULER_POLL_MS: '200',
          SCHEDULER_BATCH_SIZE: BATCH,
          NATS_PROVISION_ON_START: 'false',
          TICK_INTERVAL_MS: '3600000',
          LOG_LEVEL,
          INSTANCE_ID: `bench-scheduler-${i + 1}`,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        const text = d.toString();
        out += text;
        // Forward warnings and errors (and everything when --log-level is debug or trace).
        for (const line of text.split('\n')) if (line && (LOG_LEVEL === 'debug' || LOG_LEVEL === 'trace' || !/"level":(10|20|30),/.test(line))) process.stdout.write(`${line}\n`);
      });
      started.push(
        (async () => {
          const deadline = Date.now() + 120_000;
          while (!out.includes('scheduler started')) {
            if (child.exitCode !== null || Date.now() > deadline) throw new Error(`scheduler ${i + 1} did not start:\n${out.slice(-2000)}`);
            await sleep(50);
          }
        })(),
      );
      schedulers.push(child);
    }
    cleanups.push(async () => {
      for (const c of schedulers) if (c.exitCode === null) c.kill('SIGKILL');
    });
    await Promise.all(started);

    // Fire from two seconds after every scheduler is up: a warm-up, then the measured window.
    firing = Math.ceil(Date.now() / 1000) * 1000 + 2_000;
    first = firing + WARMUP * 1000;
    lastDue = first + (SECONDS - 1) * 1000;
    await db.query(`UPDATE schedules SET next_fire_at = to_timestamp($1::double precision / 1000)`, [firing]);
    process.stdout.write(`bench: ${SCHEDULES} schedules every second, ${WARMUP} s warm-up then ${SECONDS} s measured, ${REPLICAS} scheduler process(es)\n`);

    await sleep(lastDue - Date.now() + 1_000);
    await db.query(`UPDATE schedules SET enabled = false`);
    await sleep(3_000);
    for (const c of schedulers) c.kill('SIGTERM');
    await sleep(500);

    const { rows: runs } = await db.query<{ n: string; d: string }>(
      `SELECT count(*) n, count(DISTINCT (schedule_id, occurrence_at)) d FROM job_runs WHERE job = $1 AND occurrence_at BETWEEN to_timestamp($2::double precision / 1000) AND to_timestamp($3::double precision / 1000)`,
      [JOB, first, lastDue],
    );
    const expected = SCHEDULES * SECONDS;
    let inWindow = 0;
    let duplicated = 0;
    for (const [key, n] of seen) {
      const due = Number(key.slice(key.lastIndexOf('@') + 1));
      if (due < first || due > lastDue) continue;
      inWindow++;
      duplicated += n - 1;
    }
    duplicated += Number(runs[0].n) - Number(runs[0].d);
    const sorted = [...lateness].sort((a, b) => a - b);
    const result = {
      schedules: SCHEDULES,
      seconds: SECONDS,
      warmup_seconds: WARMUP,
      replicas: REPLICAS,
      expected,
      runs: Number(runs[0].d),
      messages: lateness.length,
      missed: expected - inWindow,
      duplicated,
      p50_ms: percentile(sorted, 50),
      p90_ms: percentile(sorted, 90),
      p99_ms: percentile(sorted, 99),
      max_ms: sorted[sorted.length - 1] ?? NaN,
      warmup: (() => {
        const w = [...warmup].sort((a, b) => a - b);
        return { runs: w.length, p50_ms: percentile(w, 50), p99_ms: percentile(w, 99), max_ms: w[w.length - 1] ?? null };
      })(),
      load_average: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100),
      handler: HANDLER === 'runtime' ? `job runtime, @JobHandler, ${CONCURRENCY} slots` : 'JetStream consumer',
      delivered_early: HANDLER === 'runtime' ? undefined : early,
      history_writes:
        HANDLER === 'runtime'
          ? (({ batches, rows, ms, maxMs }) => ({ batches, rows_each: Math.round(rows / Math.max(1, batches)), ms_each: Math.round(ms / Math.max(1, batches)), max_ms: Math.round(maxMs) }))(HISTORY_WRITES)
          : undefined,
      measured:
        HANDLER === 'runtime'
          ? 'due time (occurrence instant) to a @JobHandler starting in the job runtime (hold until due, dispatcher; no write before the handler), same host clock'
          : 'due time (occurrence instant) to handler start (JetStream consumer callback; a message delivered before its due time is held until then, as the job runtime does), same host clock',
      host: { cpus: (await import('node:os')).cpus().length, node: process.version },
      at: new Date().toISOString(),
    };
    const seconds = perSecond.map((l, i) => {
      const x = [...l].sort((a, b) => a - b);
      return { second: i, runs: x.length, min_ms: x[0], p50_ms: percentile(x, 50), p99_ms: percentile(x, 99), max_ms: x[x.length - 1] };
    });
    process.stdout.write(seconds.map((x) => JSON.stringify(x)).join('\n') + '\n');
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', HANDLER === 'runtime' ? 'lateness-runtime.json' : 'lateness.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    void messages;
    await stopHandler();
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
  }
}

await main();
process.exit(0);
