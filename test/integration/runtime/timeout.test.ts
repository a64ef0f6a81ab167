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
    expect(timedOutAfter).toBeLessThan(1_000);
    expect(retriedAfter).toBeGreaterThanOrEqual(250);
    expect(run.attempts).toBe(2);
    expect(run.company_id).toBe('acme');
    expect(run.result).toMatchObject({ status: 'partial', recordsProcessed: 7, message: 'seven of eight' });
    expect(run.result.durationMs).toBeGreaterThanOrEqual(0);
    expect(run.progress).toBe(100);
    expect(run.finished_at).not.toBeNull();
    expect(run.error).toBeNull();
  });

  it('dead-letters a run that times out on every attempt', async () => {
    await h.publish(JOB.slow, { overrunAttempts: 99 }, { runId: 'slow-2' });
    const dead = await waitFor(() => h.database.query(`SELECT * FROM dead_letters WHERE id = 'slow-2'`).then((r) => r[0]), { what: 'dead letter' });
    expect(dead.reason).toBe('attempts_exhausted');
    expect(dead.error).toContain('timed out after 400 ms');
    const run = await h.run('slow-2');
    expect(run.state).toBe('dead');
    expect(run.attempts).toBe(3);
  });

  it('keeps a handler longer than the ack wait alive with working(), records its progress, and runs it once', async () => {
    await h.publish(JOB.hold, { sleepMs: 3_000 }, { runId: 'long-1' });
    const running = await waitFor(async () => {
      const r = await h.run('long-1');
      return r?.state === 'running' && r.progress === 40 ? r : undefined;
    }, { what: 'progress 40 while running' }) as Record<string, any>;
    expect(running.progress_message).toBe('holding');
    await waitFor(async () => (await h.run('long-1'))?.state === 'succeeded', { what: 'long-1 to succeed' });
    await sleep(1_500);
    const starts = await h.log(`run_id = 'long-1' AND kind = 'start'`);
    expect(starts).toHaveLength(1);
    expect((await h.run('long-1')).attempts).toBe(1);
  });
});
