import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { scenario } from './support/recorder.js';
import { FaultEnv, type FaultPayload } from './support/harness.js';

/**
 * Scenarios 16 and 17: job packs (JOB_PACK_MAX; runtime/pack-member.ts) when the
 * worker running a pack dies. A pack runs only on its first delivery; when it
 * comes back, the jobs history has finished are dropped and every other one is
 * handed off alone (Nats-Msg-Id `<run id>:h<attempt>`), so nothing runs twice
 * that finished, a hand-off made before the crash is not queued again, and a
 * job cut short shows a lost attempt, as a message of its own would.
 */
const ACK_WAIT_MS = 2_000;
const env = new FaultEnv(ACK_WAIT_MS);

beforeAll(async () => {
  await env.start();
});
afterAll(async () => {
  await env.stop();
});

const starts = async (key: string) => (await env.log(`key = '${key}' AND kind = 'start'`)).map((l) => `${l.worker}:${l.attempt}`);

describe('fault worker: packs', () => {
  it('16: a worker SIGKILLed mid-pack: the next worker runs only what had not finished, every effect once', async () => {
    await scenario('16 sigkill-mid-pack', async (c) => {
      // 30 jobs of 300 ms in one pack, 8 slots: the doomed one (its effect, then SIGKILL) starts once the first ones have
      // finished, while others run and wait.
      const payloads: FaultPayload[] = Array.from({ length: 30 }, (_, i) => ({ key: `p16-${i}`, sleepMs: 300 }));
      payloads[20] = { key: 'p16-doomed', killAfterEffect: true };
      const w1 = await env.worker();
      const jobs = await env.publishPack(payloads);
      await w1.exited;
      expect(w1.exitSignal).toBe('SIGKILL');
      c.faults = 1;
      const finishedByW1 = (await env.database.query<{ run_id: string }>(`SELECT DISTINCT run_id FROM job_attempts WHERE run_id = ANY($1) AND outcome = 'succeeded'`, [[...jobs.values()]])).map((r) => r.run_id);
      expect(finishedByW1.length).toBeGreaterThan(0);
      // The pack is still in JOBS (never acked) and comes back to the next worker after the ack wait.
      expect(await env.inStream(jobs.get('p16-0')!)).toBe(true);
      await env.worker();
      const r = await env.settle(jobs);
      c.messages = r.expected;
      c.lost = r.lost.length;
      c.duplicated = r.duplicated.length;
      c.notes = `${finishedByW1.length} of 30 finished before the kill; ${r.executions} executions reached the effect; attempts ${JSON.stringify(r.attempts)}`;
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      // What the dead worker had finished (its history committed) never ran again.
      const runIds = new Map([...jobs].map(([k, v]) => [v, k]));
      for (const runId of finishedByW1) expect(await starts(runIds.get(runId)!)).toHaveLength(1);
      expect(r.succeededTwice).toEqual([]);
      // The doomed job's effect was applied once (by w1); its hand-off ran it again and found it applied.
      const doomed = await env.log(`key = 'p16-doomed' AND kind = 'effect'`);
      expect(doomed.map((l) => [l.worker, l.applied])).toEqual([['w1', true], ['w2', false]]);
      // The crash shows in history as for a message of its own: every job the pack held unfinished has attempt 1
      // recorded lost and ran once more as attempt 2.
      for (const [key, runId] of jobs) {
        if (finishedByW1.includes(runId)) continue;
        expect((await env.attempts(runId)).map((a) => `${a.attempt}:${a.outcome}`)).toEqual(['1:lost', '2:succeeded']);
        expect(await starts(key)).toEqual(key === 'p16-doomed' ? ['w1:1', 'w2:2'] : expect.arrayContaining(['w2:2']));
      }
      expect(await env.inStream(jobs.get('p16-0')!)).toBe(false);
    });
    await env.stopWorkers();
  }, 120_000);

  it('17: a worker SIGKILLed after it handed a retry off alone: the retry runs once more, not again from the redelivered pack', async () => {
    await scenario('17 sigkill-after-pack-hand-off', async (c) => {
      // The first job fails at once and is handed off for its retry (500 ms backoff); then the doomed one kills the worker.
      const payloads: FaultPayload[] = [
        { key: 'p17-retry', failFirst: true },
        ...Array.from({ length: 20 }, (_, i) => ({ key: `p17-${i}`, sleepMs: 300 })),
      ];
      payloads.splice(12, 0, { key: 'p17-doomed', killAfterEffect: true });
      const w1 = await env.worker();
      const jobs = await env.publishPack(payloads);
      await w1.exited;
      expect(w1.exitSignal).toBe('SIGKILL');
      c.faults = 1;
      const retryRun = jobs.get('p17-retry')!;
      // Attempt 1's failure was recorded before its hand-off.
      expect((await env.attempts(retryRun)).map((a) => `${a.attempt}:${a.outcome}`)[0]).toBe('1:retrying');
      await env.worker();
      const r = await env.settle(jobs);
      c.messages = r.expected;
      c.lost = r.lost.length;
      c.duplicated = r.duplicated.length;
      c.notes = `${r.executions} executions reached the effect; attempts ${JSON.stringify(r.attempts)}`;
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      // One retry in all: the redelivered pack's second hand-off of attempt 2 was dropped as a duplicate. (If the
      // hand-off had reached w1 and waited there for its backoff, its redelivery to w2 records that delivery as lost.)
      const history = (await env.attempts(retryRun)).map((a) => `${a.attempt}:${a.outcome}`);
      c.notes += `; retried job's history ${history.join(',')}, starts ${(await starts('p17-retry')).join(',')}`;
      const retryStarts = await starts('p17-retry');
      expect(retryStarts).toHaveLength(2);
      expect(retryStarts[0]).toMatch(/:1$/);
      expect(history.filter((h) => h.endsWith(':succeeded'))).toHaveLength(1);
      expect(history.filter((h) => !h.endsWith(':lost'))).toEqual(['1:retrying', `${retryStarts[1].split(':')[1]}:succeeded`]);
      expect(r.succeededTwice).toEqual([]);
    });
    await env.stopWorkers();
  }, 120_000);
});
