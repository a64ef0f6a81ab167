import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { scenario } from './support/recorder.js';
import { FaultEnv } from './support/harness.js';
import { sleep, waitFor } from '../support/wait.js';

/** Scenarios 1, 2, 5, 7, 11, 13 and 14: a fault-worker process (test/fixtures/fault-worker.ts) killed, stalled, stopped or cut from Postgres. */
const ACK_WAIT_MS = 2_000;
const env = new FaultEnv(ACK_WAIT_MS);

beforeAll(async () => {
  await env.start();
});
afterAll(async () => {
  await env.stop();
});

/**
 * A worker with twenty ordinary jobs in flight around one doomed job whose fault flag makes the worker SIGKILL
 * itself; resolves once it died, with every job's run id by key and the doomed run's id.
 */
async function killedAround(prefix: string, fault: { killAfterEffect?: boolean; killAfterAck?: boolean; killBeforeAck?: boolean }) {
  const w1 = await env.worker();
  const jobs = new Map<string, string>();
  for (let i = 0; i < 20; i++) jobs.set(`${prefix}-${i}`, await env.publish({ key: `${prefix}-${i}`, sleepMs: 300 }));
  const doomedRun = await env.publish({ key: `${prefix}-doomed`, ...fault });
  jobs.set(`${prefix}-doomed`, doomedRun);
  await w1.exited;
  expect(w1.exitSignal).toBe('SIGKILL');
  return { jobs, doomedRun };
}

describe('fault worker', () => {
  it('1: a worker SIGKILLed after its effect and before its ack: another worker redelivers, the effect exists once', async () => {
    await scenario('1 sigkill-after-effect-before-ack', async (c) => {
      // Twenty ordinary jobs in flight around the doomed one, so the kill also catches handlers mid-way.
      const { jobs } = await killedAround('k1', { killAfterEffect: true });
      c.faults = 1;
      // The effect was committed by the dead worker, and the message was never acked.
      expect(await env.effects('k1-doomed')).toBe(1);
      await env.worker();
      const r = await env.settle(jobs);
      c.messages = r.expected;
      c.lost = r.lost.length;
      c.duplicated = r.duplicated.length;
      c.notes = `${r.executions} executions reached the effect for ${r.expected} jobs`;
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      // The dead worker applied the effect; every redelivery found it applied.
      const doomed = await env.log(`key = 'k1-doomed' AND kind = 'effect'`);
      expect(doomed[0]).toMatchObject({ attempt: 1, applied: true, worker: 'w1' });
      expect(doomed.length).toBeGreaterThanOrEqual(2);
      expect(doomed.slice(1).every((l) => l.applied === false && l.worker !== 'w1')).toBe(true);
      const history = await env.attempts(jobs.get('k1-doomed')!);
      c.notes += `; doomed job's history ${history.map((a) => `${a.attempt}:${a.outcome}`).join(',')}`;
      expect(await env.run(jobs.get('k1-doomed')!)).toMatchObject({ state: 'succeeded' });
      // Nothing of the dead worker's attempt reached history as a success (it died before its outcome was written).
      expect(history.filter((a) => a.outcome === 'succeeded').every((a) => a.result?.data?.worker !== 'w1')).toBe(true);
    });
    await env.stopWorkers();
  }, 120_000);

  it('11: a worker SIGKILLed right after its ack: the outcome is already in history and the job is not redelivered', async () => {
    await scenario('11 sigkill-right-after-ack', async (c) => {
      const { jobs, doomedRun } = await killedAround('k11', { killAfterAck: true });
      c.faults = 1;
      // Before the ack, the settlement observer read the attempt's row on another connection: durable before the ack.
      const settled = await env.log(`key = 'k11-doomed' AND kind = 'settled'`);
      expect(settled.map((l) => [l.attempt, l.applied])).toEqual([[1, true]]);
      // Right after the kill: the outcome is in history, and the ack reached JetStream (JOBS is a work queue: the message is gone).
      expect((await env.attempts(doomedRun)).map((a) => [a.attempt, a.outcome])).toEqual([[1, 'succeeded']]);
      // (The server applies an ack asynchronously: allow it well under one ack wait, with no worker that could take the message.)
      expect(await waitFor(async () => !(await env.inStream(doomedRun)), { timeoutMs: ACK_WAIT_MS / 2, what: 'the acked message removed from JOBS' })).toBe(true);
      // Another worker, for longer than three ack waits: it finishes the other jobs the kill cut short, never the doomed one.
      await env.worker();
      await sleep(3 * ACK_WAIT_MS + 1_000);
      const r = await env.settle(jobs);
      c.messages = r.expected;
      c.lost = r.lost.length;
      c.duplicated = r.duplicated.length;
      c.notes = `${r.executions} executions reached the effect for ${r.expected} jobs; attempts ${JSON.stringify(r.attempts)}`;
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      expect((await env.log(`key = 'k11-doomed' AND kind = 'start'`)).map((l) => l.attempt)).toEqual([1]);
      expect((await env.attempts(doomedRun)).map((a) => [a.attempt, a.outcome])).toEqual([[1, 'succeeded']]);
      expect(await env.run(doomedRun)).toMatchObject({ state: 'succeeded', attempts: 1 });
      expect(r.succeededTwice).toEqual([]);
    });
    await env.stopWorkers();
  }, 120_000);

  it('13: a worker SIGKILLed after its outcome was committed and before its ack: the redelivery is acked without running the handler again', async () => {
    await scenario('13 sigkill-after-history-before-ack', async (c) => {
      const { jobs, doomedRun } = await killedAround('k13', { killBeforeAck: true });
      c.faults = 1;
      // The outcome was committed before the kill, and the message was never acked: it is still in JOBS.
      expect((await env.log(`key = 'k13-doomed' AND kind = 'settled'`)).map((l) => [l.attempt, l.applied])).toEqual([[1, true]]);
      expect(await env.inStream(doomedRun)).toBe(true);
      // Another worker gets the redelivery after the ack wait, finds the run finished in history and acks it.
      await env.worker();
      await waitFor(async () => !(await env.inStream(doomedRun)), { timeoutMs: 6 * ACK_WAIT_MS, what: 'the redelivery acked' });
      const r = await env.settle(jobs);
      c.messages = r.expected;
      c.lost = r.lost.length;
      c.duplicated = r.duplicated.length;
      c.notes = `${r.executions} executions reached the effect for ${r.expected} jobs`;
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      // The handler ran once in all (no second start), and history holds one outcome: no lost attempt, no second success.
      expect((await env.log(`key = 'k13-doomed' AND kind = 'start'`)).map((l) => l.attempt)).toEqual([1]);
      expect((await env.attempts(doomedRun)).map((a) => [a.attempt, a.outcome])).toEqual([[1, 'succeeded']]);
      expect(r.succeededTwice).toEqual([]);
    });
    await env.stopWorkers();
  }, 120_000);

  it('14: a job that SIGKILLs whichever worker runs it: each crash counts as a lost attempt, and after maxAttempts it is dead and dead-lettered', async () => {
    await scenario('14 job-kills-its-only-worker-every-time', async (c) => {
      const MAX_ATTEMPTS = 3;
      const runId = await env.publish({ key: 'k14-killer', killAtStart: true }, { maxAttempts: MAX_ATTEMPTS });
      // One worker at a time, each killed by the job: the redelivery must count up (nats-server 2.9 could hand it out again as a first delivery).
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        // Not waiting for its start log: the job may kill it first.
        const w = await env.worker({}, false);
        await w.exited;
        expect(w.exitSignal).toBe('SIGKILL');
      }
      c.faults = MAX_ATTEMPTS;
      await env.worker();
      await waitFor(async () => !(await env.inStream(runId)), { timeoutMs: 6 * ACK_WAIT_MS, what: 'the exhausted job settled' });
      await waitFor(async () => (await env.run(runId))?.state === 'dead', { timeoutMs: 5_000, what: 'the run dead in history' });
      const history = (await env.attempts(runId)).map((a) => [a.attempt, a.outcome]);
      c.messages = 1;
      c.lost = 0;
      c.duplicated = 0;
      c.notes = `history ${history.map(([a, o]) => `${a}:${o}`).join(',')}`;
      // The handler started once per worker, each a new attempt number; no fourth start.
      expect((await env.log(`key = 'k14-killer' AND kind = 'start'`)).map((l) => l.attempt)).toEqual([1, 2, 3]);
      expect(history.filter(([, o]) => o === 'lost').map(([a]) => a)).toEqual([1, 2, 3]);
      expect(history.filter(([, o]) => o !== 'lost').map(([, o]) => o)).toEqual(['dead']);
      const dlq = await env.database.query<{ reason: string; attempts: number }>('SELECT reason, attempts FROM dead_letters WHERE id = $1', [runId]);
      expect(dlq).toEqual([{ reason: 'attempts_exhausted', attempts: MAX_ATTEMPTS }]);
    });
    await env.stopWorkers();
  }, 120_000);

  it('2: a job running three times the ack wait: with heartbeats it is never redelivered; CPU-bound without them it is redelivered once and its effect applied once', async () => {
    await scenario('2 long-job-heartbeats', async (c) => {
      await env.worker();
      await env.worker();
      // With heartbeats: the runtime calls working() every ackWait/2 while the handler awaits.
      const beating = await env.publish({ key: 'k2-heartbeat', sleepMs: 3 * ACK_WAIT_MS });
      // Without: the handler blocks its event loop for 3 x ack wait after the effect, so no heartbeat goes out.
      const silent = await env.publish({ key: 'k2-silent', busyMs: 3 * ACK_WAIT_MS });
      const jobs = new Map([['k2-heartbeat', beating], ['k2-silent', silent]]);
      c.faults = 2;
      const r = await env.settle(jobs, 60_000);
      // Let the blocked attempt finish and settle (its stale outcome) before counting.
      await sleep(3 * ACK_WAIT_MS + 1_000);
      c.messages = r.expected;
      c.lost = r.lost.length;
      c.duplicated = r.duplicated.length;
      const beatStarts = await env.log(`key = 'k2-heartbeat' AND kind = 'start'`);
      const silentStarts = await env.log(`key = 'k2-silent' AND kind = 'start'`);
      c.notes = `heartbeat job delivered ${beatStarts.length}x, silent job delivered ${silentStarts.length}x`;
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      expect(beatStarts).toHaveLength(1);
      expect(await env.run(beating)).toMatchObject({ state: 'succeeded', attempts: 1 });
      expect(silentStarts).toHaveLength(2);
      expect(new Set(silentStarts.map((s) => s.worker)).size).toBe(2);
      expect(await env.run(silent)).toMatchObject({ state: 'succeeded' });
      expect(await env.log(`key = 'k2-silent' AND kind = 'effect' AND applied`)).toHaveLength(1);
    });
    await env.stopWorkers();
  }, 120_000);

  it('5: the worker\'s Postgres backend terminated mid-job: no success without a commit, and the job is retried', async () => {
    await scenario('5 pg-backend-terminated', async (c) => {
      await env.worker();
      const jobs = new Map<string, string>();
      for (const variant of ['handler', 'all']) {
        const key = `k5-${variant}`;
        const runId = await env.publish({ key, txHoldMs: 3_000 });
        jobs.set(key, runId);
        const inTx = await waitFor(async () => (await env.log(`key = $1 AND kind = 'in-tx'`, [key]))[0], { what: 'effect written, not committed' });
        if (variant === 'handler') {
          // The backend of the handler's own transaction.
          await env.database.query('SELECT pg_terminate_backend($1)', [inTx.pid]);
          c.faults += 1;
        } else {
          // Every backend of the worker (its pool, the run recorder's connections): application_name "metronome".
          const killed = await env.database.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'metronome' AND pid <> pg_backend_pid()`,
          );
          for (const k of killed) await env.database.query('SELECT pg_terminate_backend($1)', [k.pid]);
          c.faults += killed.length;
        }
        // While the terminated attempt is failing, no success may be recorded for it.
        const during = await env.run(runId);
        expect(during?.state).not.toBe('succeeded');
      }
      const r = await env.settle(jobs, 60_000);
      c.messages = r.expected;
      c.lost = r.lost.length;
      c.duplicated = r.duplicated.length;
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      for (const [key, runId] of jobs) {
        // Attempt 1 never committed its effect nor reached "effect"; attempt 2 did.
        expect((await env.database.query('SELECT attempt FROM fault_effects WHERE key = $1', [key]))).toEqual([{ attempt: 2 }]);
        expect((await env.log(`key = $1 AND kind = 'effect'`, [key])).map((l) => l.attempt)).toEqual([2]);
        expect(await env.run(runId)).toMatchObject({ state: 'succeeded', attempts: 2 });
      }
      expect(env.workers.at(-1)!.exitCode).toBeNull();
    });
    await env.stopWorkers();
  }, 120_000);

  it('7: a worker cut off (SIGSTOP) for longer than the ack wait: another takes the job, and the stale result is ignored', async () => {
    await scenario('7 worker-stalled-past-ack-wait', async (c) => {
      const w1 = await env.worker();
      const runId = await env.publish({ key: 'k7', holdMs: 1_500 });
      const started = await waitFor(async () => (await env.log(`key = 'k7' AND kind = 'start'`))[0], { what: 'w1 started the job' });

      w1.kill('SIGSTOP');
      c.faults = 1;
      const w2 = await env.worker();
      const done = await waitFor(async () => {
        const run = await env.run(runId);
        return run?.state === 'succeeded' ? run : undefined;
      }, { timeoutMs: 30_000, what: 'the job done by another worker' });
      const winner = done!.result?.data?.worker;
      expect(winner).not.toBe(started.worker);
      w1.kill('SIGCONT');
      // The stalled worker wakes up, finishes its stale attempt and settles it.
      await waitFor(async () => (await env.log(`key = 'k7' AND kind = 'return' AND worker = $1`, [started.worker])).length === 1, { timeoutMs: 20_000, what: 'stale attempt returned' });
      await sleep(1_000);
      const r = await env.reconcile(new Map([['k7', runId]]));
      c.messages = 1;
      c.lost = r.lost.length;
      c.duplicated = r.duplicated.length;
      const after = await env.run(runId);
      const history = await env.attempts(runId);
      c.notes = `winner ${winner}; after the stale attempt: state ${after.state}, result by ${after.result?.data?.worker}, attempts ${after.attempts}; history ${history.map((a) => `${a.attempt}:${a.outcome}`).join(',')}`;
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      expect(await env.log(`key = 'k7' AND kind = 'effect' AND applied`)).toEqual([expect.objectContaining({ worker: winner })]);
      // The run history keeps the winner's outcome: the stale attempt's result (attempt 1, its effect a no-op) is
      // recorded as its own row, never over the winner's. Attempts are JetStream deliveries: the stalled worker's open
      // pull requests also received redeliveries it could not run, so the winner may be attempt 3 or 4, not 2.
      expect(after.state).toBe('succeeded');
      expect(after.attempts).toBeGreaterThanOrEqual(2);
      expect(after.result.data.worker).toBe(winner);
      const stale = history.filter((a) => a.result?.data?.worker === started.worker);
      expect(stale.every((a) => a.attempt < after.attempts && a.result?.data?.applied === false)).toBe(true);
      void w2;
    });
    await env.stopWorkers();
  }, 120_000);
});
