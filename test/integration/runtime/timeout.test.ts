import { runningRuns } from '../../support/runs.js';
import { waitFor, sleep } from '../../support/wait.js';
import { JOB, RuntimeHarness } from './runtime-support.js';

describe('job runtime: timeouts, retries, progress and keep-alive', () => {
  // A 1 s ack wait: a handler running longer is only kept by the runtime's working() heartbeat.
  const h = new RuntimeHarness({ ackWaitMs: 1_000 });

  beforeAll(async () => {
    await h.start();
    await h.app({ concurrency: 4 });
  });
  afterAll(() => h.stop());

  it('aborts the signal at the timeout, fails the attempt as retryable and succeeds on the retry after the backoff', async () => {
    await h.publish(JOB.slow, { overrunAttempts: 1, sleepMs: 20 }, { runId: 'slow-1', companyId: 'acme' });
    const run = await waitFor(async () => {
      const r = await h.run('slow-1');
      return r?.state === 'succeeded' ? r : undefined;
    }, { what: 'slow-1 to succeed' }) as Record<string, any>;
    const log = await h.log(`run_id = 'slow-1'`);
    expect(log.map((l) => `${l.attempt}:${l.kind}${l.note ? `:${l.note}` : ''}`)).toEqual(['1:start', '1:aborted:JobTimeoutError', '2:start', '2:end']);
    const timedOutAfter = log[1].at.getTime() - log[0].at.getTime();
    const retriedAfter = log[2].at.getTime() - log[1].at.getTime();
    console.log(`timeout: signal aborted ${timedOutAfter} ms after start (timeoutMs 400); retry started ${retriedAfter} ms later (backoff 300 ms)`);
    expect(timedOutAfter).toBeGreaterThanOrEqual(380);
    // Aborted by the 400 ms timeout, not by the end of the 10 s overrun (a loaded host adds latency, never 4 s).
    expect(timedOutAfter).toBeLessThan(5_000);
    expect(retriedAfter).toBeGreaterThanOrEqual(250);
    expect(run.attempts).toBe(2);
    expect(run.company_id).toBe('acme');
    expect(run.result).toMatchObject({ status: 'partial', recordsProcessed: 7, message: 'seven of eight' });
    expect(run.result.durationMs).toBeGreaterThanOrEqual(0);
    expect(run.finished_at).not.toBeNull();
    expect(run.error).toBeNull();
    // The history keeps both attempts: the one that timed out (retryable) and the one that finished.
    const attempts = await h.attempts('slow-1');
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'retrying'], [2, 'succeeded']]);
    expect(attempts[0].error).toContain('timed out after 400 ms');
  });

  it('dead-letters a run that times out on every attempt', async () => {
    await h.publish(JOB.slow, { overrunAttempts: 99 }, { runId: 'slow-2' });
    const dead = await waitFor(() => h.database.query(`SELECT * FROM dead_letters WHERE id = 'slow-2'`).then((r) => r[0]), { what: 'dead letter' });
    expect(dead.reason).toBe('attempts_exhausted');
    expect(dead.error).toContain('timed out after 400 ms');
    const run = await waitFor(async () => {
      const r = await h.run('slow-2');
      return r?.state === 'dead' ? r : undefined;
    }, { what: 'slow-2 dead in the history' }) as Record<string, any>;
    expect(run.attempts).toBe(3);
    expect((await h.attempts('slow-2')).map((a) => a.outcome)).toEqual(['retrying', 'retrying', 'dead']);
  });

  it('keeps a handler longer than the ack wait alive with working(), records its progress, and runs it once', async () => {
    await h.publish(JOB.hold, { sleepMs: 3_000 }, { runId: 'long-1' });
    // Running, with its progress, as the worker's heartbeat lists it (nothing is written to Postgres while it runs).
    const running = await waitFor(async () => (await runningRuns(h.nc)).find((r) => r.runId === 'long-1' && r.progress === 40), { what: 'progress 40 while running' });
    expect(running).toMatchObject({ progressMessage: 'holding', attempt: 1, job: JOB.hold });
    // Still held past several ack waits (1 s): not redelivered while its handler runs.
    await sleep(2_000);
    expect((await h.jsm.consumers.info('JOBS', 'rt-jobs-normal')).num_redelivered).toBe(0);
    await waitFor(async () => (await h.run('long-1'))?.state === 'succeeded', { what: 'long-1 to succeed' });
    await sleep(1_500);
    const starts = await h.log(`run_id = 'long-1' AND kind = 'start'`);
    expect(starts).toHaveLength(1);
    expect((await h.run('long-1')).attempts).toBe(1);
  });
});
