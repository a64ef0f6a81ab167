/**
 * One system's worker, in its own process so its CPU (process.cpuUsage) and
 * peak RSS (VmHWM) are its own. Driven by the orchestrator over IPC.
 * Usage (from run.js): fork('worker.js', [system]) with BENCH_PLAN in the environment.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';
import { SYSTEMS, Tally, type FromWorker, type Plan, type SystemName, type ToWorker } from './common.js';
import { GcPauseLog } from './gc-pauses.js';
import type { SystemWorker } from './systems/types.js';

const system = process.argv[2] as SystemName;
if (!SYSTEMS.includes(system)) throw new Error(`unknown system "${system}"`);
const plan = JSON.parse(process.env.BENCH_PLAN ?? '') as Plan;
const tally = new Tally(plan);
const gcPauses = new GcPauseLog();

const send = (m: FromWorker) => process.send!(m);

/**
 * BENCH_HEAP_SAMPLING=<file>: V8's sampling heap profile from ready to report,
 * counting objects minor and major GCs have already collected, so it shows where
 * the worker allocates (open in Chrome DevTools, Memory tab). Set
 * BENCH_HEAP_SAMPLING_KEEP=major to keep only what a major GC collected:
 * objects that lived long enough to reach old space.
 */
async function heapSampling(): Promise<(() => Promise<void>) | undefined> {
  const file = process.env.BENCH_HEAP_SAMPLING;
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  const onlyMajor = process.env.BENCH_HEAP_SAMPLING_KEEP === 'major';
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !onlyMajor });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

async function start(): Promise<SystemWorker> {
  switch (system) {
    case 'metronome':
      return (await import('./systems/metronome.js')).startMetronomeWorker(plan, tally);
    case 'bullmq':
      return (await import('./systems/bullmq.js')).startBullmqWorker(plan, tally);
    case 'pgboss':
      return (await import('./systems/pgboss.js')).startPgbossWorker(plan, tally);
  }
}

let stopping = false;
// The orchestrator died: do not linger.
process.on('disconnect', () => {
  if (!stopping) process.exit(1);
});

start()
  .then(async (worker) => {
    const rssReadyMb = process.memoryUsage().rss / 1024 / 1024;
    const stopHeapSampling = await heapSampling();
    process.on('message', (m: ToWorker) => {
      if (m.cmd === 'stats') {
        send({ type: 'stats', phases: { warm: tally.stats('warm'), burn: tally.stats('burn'), steady: tally.stats('steady'), retry: tally.stats('retry') } });
      } else if (m.cmd === 'report') {
        if (process.env.BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT);
        void (stopHeapSampling?.() ?? Promise.resolve()).finally(() => send({ type: 'report', report: tally.report(system, worker.notes, rssReadyMb, gcPauses) }));
      } else if (m.cmd === 'stop') {
        stopping = true;
        // process.exit writes a --cpu-prof profile when one was asked for.
        void worker.stop().finally(() => setTimeout(() => process.exit(0), 50));
      }
    });
    send({ type: 'ready' });
  })
  .catch((e) => {
    send({ type: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    setTimeout(() => process.exit(1), 50);
  });
