/**
 * pg-boss on Postgres (its own fresh database). send / insert, a worker of
 * fetch → handle → complete/fail loops holding at most `concurrency` jobs,
 * default archive and retention (history kept), one retry without delay.
 *
 * Why not boss.work(): its loop sleeps pollingIntervalSeconds (minimum 0.5 s)
 * after every fetch, so with 50 jobs in flight it cannot pass 100 jobs/s and a
 * 50,000-job burn-down would take over 8 minutes. Driving fetch/complete
 * directly, sleeping only when the queue is empty, is pg-boss at its fastest.
 */
import PgBoss from 'pg-boss';
import type { BenchPayload, Plan, Tally } from '../common.js';
import { BenchDatabase, sleep } from '../infra.js';
import type { SystemUnderTest, SystemWorker } from './types.js';

const QUEUE = 'metronome-bench';
const RETRY = { retryLimit: 1, retryDelay: 0, retryBackoff: false };
/** Fetch loops in the worker; each holds concurrency / LOOPS jobs. */
const LOOPS = 5;
/** pg-boss's minimum polling interval, used only when a fetch comes back empty. */
const EMPTY_POLL_MS = 500;

export async function setupPgboss(): Promise<SystemUnderTest> {
  const db = await new BenchDatabase(`metronome_bench_pgboss_${process.pid}`).create({ migrate: false });
  const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false, max: 10 });
  boss.on('error', (e) => process.stderr.write(`pg-boss (producer) error: ${String(e)}\n`));
  await boss.start();
  await boss.createQueue(QUEUE, { name: QUEUE, ...RETRY });
  const sync = (await db.query<{ synchronous_commit: string }>('SHOW synchronous_commit'))[0].synchronous_commit;
  return {
    workerEnv: { BENCH_PGBOSS_URL: db.url },
    describe: {
      single: 'boss.send (one job per call)',
      bulk: 'boss.insert (one call per batch)',
      worker: `${LOOPS} loops of boss.fetch(batchSize = concurrency/${LOOPS}) → handler → boss.complete / boss.fail; sleeps ${EMPTY_POLL_MS} ms only when empty`,
      history: 'pg-boss default: completed jobs stay in pgboss.job, archived after 12 h, kept 14 days',
      store: `Postgres database ${db.name}`,
    },
    durability: { postgres: { synchronous_commit: sync } },
    brokerPids: [],
    database: db,
    async enqueueOne(p) {
      await boss.send(QUEUE, p, RETRY);
    },
    async enqueueMany(ps) {
      await boss.insert(ps.map((data) => ({ name: QUEUE, data, ...RETRY })));
    },
    async backlog() {
      const rows = await db.query<{ state: string; n: string }>(`SELECT state, count(*) n FROM pgboss.job WHERE name = $1 GROUP BY state`, [QUEUE]);
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
    async history() {
      const rows = await db.query<{ n: string }>(`SELECT count(*) n FROM pgboss.job WHERE name = $1 AND state = 'completed'`, [QUEUE]);
      const archived = await db.query<{ n: string }>(`SELECT count(*) n FROM pgboss.archive WHERE name = $1`, [QUEUE]);
      return { completed_jobs_kept: Number(rows[0].n), archived: Number(archived[0].n) };
    },
    async closeProducer() {
      await boss.stop({ graceful: false, wait: true });
    },
    async teardown() {
      await db.drop();
    },
  };
}

export async function startPgbossWorker(plan: Plan, tally: Tally): Promise<SystemWorker> {
  const url = process.env.BENCH_PGBOSS_URL;
  if (!url) throw new Error('BENCH_PGBOSS_URL is not set');
  // The worker keeps pg-boss's default maintenance (supervise) so archive/retention run as configured.
  const boss = new PgBoss({ connectionString: url, schedule: false, max: 10 });
  boss.on('error', (e) => process.stderr.write(`pg-boss (worker) error: ${String(e)}\n`));
  await boss.start();
  const batchSize = Math.max(1, Math.floor(plan.concurrency / LOOPS));
  let stopping = false;
  const loop = async () => {
    while (!stopping) {
      let jobs: PgBoss.JobWithMetadata<BenchPayload>[];
      try {
        jobs = await boss.fetch<BenchPayload>(QUEUE, { batchSize, includeMetadata: true });
      } catch (e) {
        if (!stopping) process.stderr.write(`pg-boss fetch failed: ${String(e)}\n`);
        await sleep(EMPTY_POLL_MS);
        continue;
      }
      if (!jobs || jobs.length === 0) {
        await sleep(EMPTY_POLL_MS);
        continue;
      }
      const ok: PgBoss.JobWithMetadata<BenchPayload>[] = [];
      const failed: string[] = [];
      await Promise.all(
        jobs.map(async (job) => {
          try {
            tally.handle(job.data, job.retryCount + 1);
            ok.push(job);
          } catch {
            failed.push(job.id);
          }
        }),
      );
      try {
        await Promise.all([
          ok.length ? boss.complete(QUEUE, ok.map((j) => j.id)) : undefined,
          failed.length ? boss.fail(QUEUE, failed) : undefined,
        ]);
        for (const j of ok) tally.completed(j.data);
      } catch (e) {
        process.stderr.write(`pg-boss complete/fail failed: ${String(e)}\n`);
      }
    }
  };
  const loops = Array.from({ length: LOOPS }, () => loop());
  return {
    notes: [`pg-boss ${LOOPS} fetch loops × batchSize ${batchSize}`],
    async stop() {
      stopping = true;
      await Promise.all(loops);
      await boss.stop({ graceful: false, wait: true });
    },
  };
}
