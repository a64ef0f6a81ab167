import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { FaultEnv } from './support/harness.js';
import { scenario } from './support/recorder.js';
import type { ServiceProcess } from '../support/service-process.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Scenario 12: the history writer killed mid-batch. Every finished attempt is
 * written to job_attempts by the worker's HistoryWriter, one transaction per
 * batch (COPY of the rows, then the batch's marker), and a job's message is
 * acked only once its row is committed.
 *
 * To stop a batch half-way on purpose, the test holds job_history_batches
 * locked in an open transaction: a batch's COPY goes through, then its marker
 * insert waits on the test's lock — rows written, transaction
 * open, nothing acked. Three hundred jobs finish at the same instant, so that
 * batch is one large one. Then:
 *  a) the writer's Postgres backends are terminated (the worker lives on);
 *  b) the worker is SIGKILLed.
 */
const ACK_WAIT_MS = 2_000;
const JOBS = 300;
const JOB = 'faults.work';
const env = new FaultEnv(ACK_WAIT_MS);

beforeAll(async () => {
  await env.start();
});
afterAll(async () => {
  await env.stop();
});

/**
 * Holds job_history_batches in an open transaction (SHARE mode: reads go on, inserts wait), so a history batch
 * that wrote its attempts by COPY waits on its marker insert, mid-transaction.
 */
async function holdMarkers(): Promise<pg.PoolClient> {
  const client = await env.database.db.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE job_history_batches IN SHARE MODE');
  return client;
}

/** The worker's backends whose batch wrote its rows and now waits on the marker lock. */
function blockedWriters(): Promise<{ pid: number; xid: string | null }[]> {
  return env.database.query(
    `SELECT pid, backend_xid::text AS xid FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'metronome' AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO job_history_batches%'`,
  );
}

async function publishTogether(prefix: string): Promise<Map<string, string>> {
  // Every job applies its effect, then waits for the same instant and returns: one large batch of outcomes.
  const releaseAt = Date.now() + 15_000;
  const jobs = new Map<string, string>();
  for (let i = 0; i < JOBS; i += 50) {
    const keys = Array.from({ length: Math.min(50, JOBS - i) }, (_, k) => `${prefix}-${i + k}`);
    const ids = await Promise.all(keys.map((key) => env.publish({ key, releaseAt })));
    keys.forEach((key, k) => jobs.set(key, ids[k]));
  }
  await waitFor(async () => {
    const [{ n }] = await env.database.query<{ n: string }>(`SELECT count(*) n FROM fault_log WHERE kind = 'effect' AND key LIKE $1`, [`${prefix}-%`]);
    return Number(n) === JOBS;
  }, { timeoutMs: 60_000, intervalMs: 200, what: `${JOBS} effects applied before the release` });
  return jobs;
}

async function attemptRows(jobs: Map<string, string>): Promise<number> {
  const [{ n }] = await env.database.query<{ n: string }>('SELECT count(*) n FROM job_attempts WHERE run_id = ANY($1)', [[...jobs.values()]]);
  return Number(n);
}

async function inStream(jobs: Map<string, string>): Promise<number> {
  let n = 0;
  for (const id of jobs.values()) if (await env.inStream(id)) n++;
  return n;
}

/** Rows of the batches the writer reported failing (its error log carries `rows`). */
function failedBatchRows(w: ServiceProcess): number[] {
  return w.text.split('\n').filter((l) => l.includes('could not write run history')).map((l) => Number(JSON.parse(l).rows));
}

const workerEnv = { FAULT_CONCURRENCY: String(JOBS + 100), JOB_TENANT_BUFFER: String(JOBS * 4) };

/**
 * Waits for the history batch of `jobs` to be mid-transaction (its rows written, an xid, blocked on the held
 * marker lock) and checks that nothing of it is visible or acked yet; returns the blocked writers.
 */
async function midBatch(jobs: Map<string, string>) {
  const blocked = (await waitFor(async () => {
    const b = await blockedWriters();
    return b.length ? b : undefined;
  }, { timeoutMs: 60_000, what: 'a history batch waiting on its marker, its rows written' }))!;
  expect(blocked.every((b) => b.xid !== null)).toBe(true);
  expect(await attemptRows(jobs)).toBe(0);
  expect(await inStream(jobs)).toBe(JOBS);
  return blocked;
}

describe('history writer killed mid-batch', () => {
  it('12a: the history writer\'s Postgres backends terminated mid-batch: nothing acked until the retried batch commits; every outcome recorded once, no redelivery', async () => {
    await scenario('12a history-backend-terminated-mid-batch', async (c) => {
      const lock = await holdMarkers();
      let released = false;
      try {
        const w = await env.worker(workerEnv);
        const jobs = await publishTogether('k12a');
        const blocked = await midBatch(jobs);

        for (const b of blocked) await env.database.query('SELECT pg_terminate_backend($1)', [b.pid]);
        c.faults += blocked.length;
        // The writer retries the same batch on a new connection, which waits on the marker again; the messages stay unacked
        // (the runtime keeps them alive with working() past the 2 s ack wait).
        const again = (await waitFor(async () => {
          const b = await blockedWriters();
          return b.some((x) => !blocked.some((y) => y.pid === x.pid)) ? b : undefined;
        }, { timeoutMs: 30_000, what: 'the batch retried on a new backend' }))!;
        await sleep(2 * ACK_WAIT_MS);
        expect(await attemptRows(jobs)).toBe(0);
        expect(await inStream(jobs)).toBe(JOBS);
        await lock.query('ROLLBACK');
        released = true;

        const r = await env.settle(jobs, 60_000);
        const rows = failedBatchRows(w);
        c.messages = r.expected;
        c.lost = r.lost.length;
        c.duplicated = r.duplicated.length;
        c.notes = `${blocked.length} batch(es) of ${rows.join('+')} rows terminated mid-transaction, retried on ${again.length} backend(s); ${r.executions} executions; attempts ${JSON.stringify(r.attempts)}`;
        expect(r.lost).toEqual([]);
        expect(r.duplicated).toEqual([]);
        expect(Math.max(...rows)).toBeGreaterThanOrEqual(JOBS / 2);
        // Nothing was redelivered: one execution per job, one attempt row each, acked once its row was committed.
        expect(r.executions).toBe(JOBS);
        expect(r.attempts).toEqual({ succeeded: JOBS });
        await waitFor(async () => (await inStream(jobs)) === 0, { timeoutMs: 10_000, what: 'every message acked' });
        expect(w.exitCode).toBeNull();
      } finally {
        if (!released) await lock.query('ROLLBACK').catch(() => undefined);
        lock.release();
      }
    });
    for (const w of env.workers) await w.stop();
  }, 240_000);

  it('12b: the worker SIGKILLed while its history batch is mid-transaction: the server finishes the batch alone, the messages come back and are acked from history without running again, no effect applied twice', async () => {
    await scenario('12b worker-sigkilled-mid-history-batch', async (c) => {
      const lock = await holdMarkers();
      let released = false;
      try {
        const w1 = await env.worker({ ...workerEnv, INSTANCE_ID: 'doomed' });
        const jobs = await publishTogether('k12b');
        const blocked = await midBatch(jobs);

        w1.kill('SIGKILL');
        await w1.exited;
        c.faults = 1;
        // The lock is let go: the dead worker's batch was one query, all of it (its COPY data too) on the server, so its
        // backend finishes it and commits with nothing left to wait for from the client, then finds the client gone.
        await lock.query('ROLLBACK');
        released = true;
        await waitFor(async () => (await env.database.query(`SELECT pid FROM pg_stat_activity WHERE pid = ANY($1)`, [blocked.map((b) => b.pid)])).length === 0, {
          timeoutMs: 30_000, what: 'the dead worker\'s backends gone',
        });
        expect(await attemptRows(jobs)).toBe(JOBS);
        expect(await inStream(jobs)).toBe(JOBS);

        await env.worker({ ...workerEnv, INSTANCE_ID: 'survivor' });
        const r = await env.settle(jobs, 120_000);
        c.messages = r.expected;
        c.lost = r.lost.length;
        c.duplicated = r.duplicated.length;
        c.notes = `a batch of ${JOBS} outcomes killed with its worker mid-transaction (${blocked.length} backend(s) blocked); ${r.executions} executions; attempts ${JSON.stringify(r.attempts)}; states ${JSON.stringify(r.states)}`;
        expect(r.lost).toEqual([]);
        expect(r.duplicated).toEqual([]);
        // Every effect was applied by the killed worker, and its outcomes are the history: the survivor found each
        // redelivery recorded, acked it without running the handler and recorded nothing more.
        await waitFor(async () => (await inStream(jobs)) === 0, { timeoutMs: 30_000, what: 'every message acked' });
        const [{ n: appliedByDoomed }] = await env.database.query<{ n: string }>(`SELECT count(*) n FROM fault_effects WHERE key LIKE 'k12b-%' AND worker = 'doomed'`);
        expect(Number(appliedByDoomed)).toBe(JOBS);
        expect(r.executions).toBe(JOBS);
        expect(r.attempts).toEqual({ succeeded: JOBS });
        const [{ n: doomedRows }] = await env.database.query<{ n: string }>(
          `SELECT count(*) n FROM job_attempts WHERE run_id = ANY($1) AND result->'data'->>'worker' = 'doomed'`, [[...jobs.values()]],
        );
        expect(Number(doomedRows)).toBe(JOBS);
      } finally {
        if (!released) await lock.query('ROLLBACK').catch(() => undefined);
        lock.release();
      }
    });
  }, 240_000);
});
