/**
 * `npm run bench` (or `npm run bench:quick`): Metronome vs BullMQ (Redis) vs
 * pg-boss (Postgres), side by side on this machine in one run.
 *
 * Per system, in order: fresh infrastructure; warm-up jobs enqueued (single,
 * then bulk) and queued in front of everything else; single enqueue rate and
 * bulk enqueue rate measured with no worker running — those jobs are the
 * burn-down backlog; a worker process forked (concurrency 50) that burns down
 * warm-up + backlog; a steady 1,000 jobs/s for N s; the same with 1% failing
 * once. The worker counts every job by (phase, seq) and measures
 * enqueue-to-handler-start latency from the timestamp in the payload. Then
 * (full run) two more burn-downs each of Metronome and BullMQ on fresh
 * infrastructure, the systems' order alternating: the burn-down rows are the
 * medians.
 *
 * Flags: --quick (smaller counts), --only=metronome,bullmq, --profile
 * (node --cpu-prof on the worker, profiles under bench/results/profiles/),
 * --burndown-rounds=N (burn-downs of Metronome and BullMQ: 3 in a full run, 1 in a quick one),
 * --node-defaults (workers without the services' NODE_OPTIONS heap settings and MALLOC_ARENA_MAX),
 * --overlay=prod (workers with the settings that overlay gives the services; results in
 * bench/results/overlay-prod.json, bench/README.md untouched).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  now,
  payload,
  percentiles,
  phaseSize,
  planFor,
  SYSTEMS,
  type FromWorker,
  type Percentiles,
  type Phase,
  type PhaseStats,
  type Plan,
  type SystemName,
  type WorkerReport,
} from './common.js';
import { CpuWindow, type CpuBreakdown } from './cpu-window.js';
import { DatabaseCpu, ensureRedis, postgresDurability, processCpuSeconds, sleep } from './infra.js';
import { withBurnDownRounds, type BurnDownRound } from './burn-down-rounds.js';
import { writeResults, type RunResults, type SystemResult } from './report.js';
import { envText, overlayProcessSettings, serviceProcessSettings, type ServiceProcessSettings } from './service-node-options.js';
import type { SystemUnderTest } from './systems/types.js';

const HERE = import.meta.dirname;
export const ROOT = join(HERE, '..', '..', '..');
const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);
const round = (v: number, d = 1) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : null);

async function setup(system: SystemName, plan: Plan): Promise<SystemUnderTest> {
  switch (system) {
    case 'metronome':
      return (await import('./systems/metronome.js')).setupMetronome(plan);
    case 'bullmq':
      return (await import('./systems/bullmq.js')).setupBullmq();
    case 'pgboss':
      return (await import('./systems/pgboss.js')).setupPgboss();
  }
}

class WorkerProcess {
  private child: ChildProcess;
  private waiting: ((m: FromWorker) => void)[] = [];
  private readyPromise: Promise<void>;
  exited = false;
  stderr = '';

  constructor(system: SystemName, env: Record<string, string>, plan: Plan, settings: ServiceProcessSettings, profileDir?: string) {
    const execArgv = [
      ...settings.nodeOptions,
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${system}-worker.cpuprofile`] : []),
      ...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ];
    this.child = fork(join(HERE, 'worker.js'), [system], {
      env: { ...process.env, ...settings.env, ...env, BENCH_PLAN: JSON.stringify(plan) },
      execArgv,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      process.stderr.write(`[${system} worker] ${d.toString()}`);
    });
    this.readyPromise = new Promise((resolve, reject) => {
      this.child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'error') reject(new Error(`${system} worker failed to start: ${m.error}`));
        else this.waiting.shift()?.(m);
      });
      this.child.on('exit', (code) => {
        this.exited = true;
        reject(new Error(`${system} worker exited with ${code}`));
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  private ask<T extends FromWorker>(cmd: 'stats' | 'report'): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.push(resolve as (m: FromWorker) => void);
      this.child.send({ cmd });
    });
  }

  async stats(): Promise<Record<Phase, PhaseStats>> {
    return (await this.ask<Extract<FromWorker, { type: 'stats' }>>('stats')).phases;
  }

  async report(): Promise<WorkerReport> {
    return (await this.ask<Extract<FromWorker, { type: 'report' }>>('report')).report;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ cmd: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Waits until the worker has counted every job of `phases`, or nothing moved for `quietMs`. */
async function drain(worker: WorkerProcess, phases: Phase[], quietMs = 20_000): Promise<Record<Phase, PhaseStats>> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const s = await worker.stats();
    const done = phases.reduce((n, p) => n + s[p].done, 0);
    const expected = phases.reduce((n, p) => n + s[p].expected, 0);
    if (done >= expected) return s;
    if (done !== last) {
      last = done;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > quietMs) {
      log(`  gave up waiting: ${expected - done} of ${expected} jobs never ran (${phases.join(', ')})`);
      return s;
    }
    await sleep(50);
  }
}

/** Enqueues `total` jobs one call each from `callers` concurrent callers; returns jobs per second. */
async function enqueueSingles(sut: SystemUnderTest, phase: Phase, from: number, total: number, callers: number): Promise<number> {
  let next = from;
  const end = from + total;
  const started = now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < end) await sut.enqueueOne(payload(phase, next++));
    }),
  );
  return total / ((now() - started) / 1000);
}

async function enqueueBulk(sut: SystemUnderTest, phase: Phase, from: number, total: number, batch: number): Promise<number> {
  const started = now();
  for (let i = 0; i < total; i += batch) {
    const n = Math.min(batch, total - i);
    await sut.enqueueMany(Array.from({ length: n }, (_, k) => payload(phase, from + i + k)));
  }
  return total / ((now() - started) / 1000);
}

/**
 * Enqueues at a fixed rate, one call per job, as a service would at request
 * time; the timestamp goes into the payload just before the call.
 */
async function paced(sut: SystemUnderTest, phase: Phase, plan: Plan): Promise<{ achievedPerSecond: number; errors: number; maxInFlight: number; call: Percentiles }> {
  const total = phaseSize(plan, phase);
  const failEvery = phase === 'retry' ? Math.round(1 / plan.failShare) : 0;
  const started = now();
  let sent = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let errors = 0;
  const pending = new Set<Promise<void>>();
  const callMs = new Float64Array(total);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - started) / 1000) * plan.steadyRate) + 1);
    while (sent < due) {
      const seq = sent++;
      const fail = failEvery > 0 && seq % failEvery === failEvery / 2;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const job = payload(phase, seq, fail);
      const p: Promise<void> = sut
        .enqueueOne(job)
        .then(() => {
          callMs[seq] = now() - job.t;
        })
        .catch(() => {
          errors++;
        })
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    }
    await sleep(1);
  }
  const sendSeconds = (now() - started) / 1000;
  await Promise.all(pending);
  return { achievedPerSecond: total / sendSeconds, errors, maxInFlight, call: percentiles(callMs) };
}

/** Stops what a run started (the worker, if any, the producer, the infrastructure); a failure is logged, not thrown. */
async function release(system: SystemName, sut: SystemUnderTest, worker: WorkerProcess | undefined): Promise<void> {
  await worker?.stop().catch(() => undefined);
  await sut.closeProducer().catch((e) => log(`${system}: closing the producer failed: ${String(e)}`));
  await sut.teardown().catch((e) => log(`${system}: teardown failed: ${String(e)}`));
}

/** Warm-up jobs (the producer's single and bulk paths, and the first jobs the worker will see), then the backlog, its enqueue rates measured. */
async function enqueueBacklog(system: SystemName, sut: SystemUnderTest, plan: Plan): Promise<{ single: number; bulk: number }> {
  const warmSingles = Math.min(500, Math.floor(plan.warmup / 2));
  await enqueueSingles(sut, 'warm', 0, warmSingles, plan.singleConcurrency);
  await enqueueBulk(sut, 'warm', warmSingles, plan.warmup - warmSingles, plan.bulkBatch);
  const single = await enqueueSingles(sut, 'burn', 0, plan.single, plan.singleConcurrency);
  log(`${system}: enqueue single ${Math.round(single)}/s (${plan.single} jobs, ${plan.singleConcurrency} callers)`);
  const bulk = await enqueueBulk(sut, 'burn', plan.single, plan.bulk, plan.bulkBatch);
  log(`${system}: enqueue bulk ${Math.round(bulk)}/s (${plan.bulk} jobs, batches of ${plan.bulkBatch})`);
  return { single, bulk };
}

/** Forks a worker onto the enqueued backlog and waits until it has burnt it down; the worker is left running. */
async function burnDown(
  system: SystemName,
  sut: SystemUnderTest,
  plan: Plan,
  settings: ServiceProcessSettings,
  databaseCpu: DatabaseCpu | undefined,
  profileDir?: string,
): Promise<{ worker: WorkerProcess; startupMs: number; cpu: CpuBreakdown | null }> {
  const forkedAt = now();
  const worker = new WorkerProcess(system, sut.workerEnv, plan, settings, profileDir);
  try {
    await worker.ready();
    const startupMs = now() - forkedAt;
    log(`${system}: worker ready in ${Math.round(startupMs)} ms, burning down ${plan.warmup} warm-up + ${plan.single + plan.bulk} jobs`);
    const window = new CpuWindow(worker.pid, sut.brokerPids, databaseCpu);
    await window.start();
    await drain(worker, ['warm', 'burn']);
    return { worker, startupMs, cpu: await window.end(plan.warmup + plan.single + plan.bulk) };
  } catch (e) {
    await worker.stop().catch(() => undefined);
    throw e;
  }
}

/**
 * A further burn-down of the same backlog on fresh infrastructure, for the
 * median: the host's speed drifts by the minute (the same system's burn-down
 * varied 1.4× between runs), so one burn-down per system compares minutes
 * as much as systems.
 */
async function burnDownRound(system: SystemName, plan: Plan, settings: ServiceProcessSettings): Promise<BurnDownRound> {
  log(`${system}: another burn-down round`);
  const loadBefore = loadavg()[0];
  const sut = await setup(system, plan);
  let worker: WorkerProcess | undefined;
  try {
    await enqueueBacklog(system, sut, plan);
    const databaseCpu = sut.database ? new DatabaseCpu(sut.database) : undefined;
    await databaseCpu?.start();
    const burn = await burnDown(system, sut, plan, settings, databaseCpu);
    worker = burn.worker;
    const report = await worker.report();
    await databaseCpu?.used();
    const counted: Phase[] = ['warm', 'burn'];
    const result: BurnDownRound = {
      per_s: round(report.burn.perSecond, 0),
      cpu_us_per_job_total: burn.cpu?.us_per_job.total ?? null,
      host_busy_pct: burn.cpu?.host_busy_pct ?? null,
      missing: counted.reduce((n, p) => n + report.phases[p].missing, 0),
      duplicated: counted.reduce((n, p) => n + report.phases[p].duplicated, 0),
      load_average_1m: { before: round(loadBefore, 2), after: round(loadavg()[0], 2) },
    };
    log(`${system}: burn-down ${result.per_s}/s, ${result.cpu_us_per_job_total} µs CPU a job, missing ${result.missing}, duplicated ${result.duplicated}`);
    return result;
  } finally {
    await release(system, sut, worker);
  }
}

async function benchSystem(system: SystemName, plan: Plan, settings: ServiceProcessSettings, profileDir?: string): Promise<SystemResult> {
  log(`${system}: setting up`);
  const loadBefore = loadavg()[0];
  const sut = await setup(system, plan);
  let worker: WorkerProcess | undefined;
  try {
    const { single, bulk } = await enqueueBacklog(system, sut, plan);
    const backlogBefore = await sut.backlog();

    const brokerCpu0 = sut.brokerPids.map((p) => processCpuSeconds(p) ?? 0);
    const databaseCpu = sut.database ? new DatabaseCpu(sut.database) : undefined;
    await databaseCpu?.start();
    const burn = await burnDown(system, sut, plan, settings, databaseCpu, profileDir);
    worker = burn.worker;
    const { startupMs, cpu: burndownCpu } = burn;
    // History is written before the last completion is counted; read it now, before steady jobs add to it.
    await sleep(200);
    const history = await sut.history();

    log(`${system}: steady ${plan.steadyRate}/s for ${plan.steadySeconds} s`);
    const steady = await paced(sut, 'steady', plan);
    await drain(worker, ['steady']);
    log(`${system}: steady ${plan.steadyRate}/s for ${plan.steadySeconds} s with ${plan.failShare * 100}% failing once`);
    const retry = await paced(sut, 'retry', plan);
    await drain(worker, ['retry']);
    // Anything delivered twice shows up late: give it a moment.
    await sleep(1_500);
    const report = await worker.report();
    const backlogAfter = await sut.backlog();
    const historyFinal = await sut.history();
    // Read while the worker's backends are alive (they exit with its pool).
    const dbCpu = databaseCpu ? await databaseCpu.used() : 0;
    await worker.stop();
    const brokerCpu = sut.brokerPids.map((p, i) => (processCpuSeconds(p) ?? 0) - brokerCpu0[i]).reduce((a, b) => a + b, 0);

    const phases = report.phases;
    const jobs = Object.values(phases).reduce((n, p) => n + p.done, 0);
    const missing = Object.values(phases).reduce((n, p) => n + p.missing, 0);
    const duplicated = Object.values(phases).reduce((n, p) => n + p.duplicated, 0);
    const r: SystemResult = {
      enqueue_single_per_s: round(single, 0),
      enqueue_bulk_per_s: round(bulk, 0),
      burndown_per_s: round(report.burn.perSecond, 0),
      latency_p50_ms: round(report.latency.steady.p50, 2),
      latency_p95_ms: round(report.latency.steady.p95, 2),
      latency_p99_ms: round(report.latency.steady.p99, 2),
      latency_max_ms: round(report.latency.steady.max, 2),
      retry_latency_p50_ms: round(report.latency.retry.p50, 2),
      retry_latency_p95_ms: round(report.latency.retry.p95, 2),
      retry_latency_p99_ms: round(report.latency.retry.p99, 2),
      retried_jobs_latency_p50_ms: round(report.latency.retriedOnly.p50, 2),
      retried_jobs_latency_p99_ms: round(report.latency.retriedOnly.p99, 2),
      cpu_seconds: round(report.cpu.totalSeconds, 2),
      cpu_ms_per_job: round((report.cpu.totalSeconds * 1000) / Math.max(1, jobs), 3),
      // Every process the system needs but the producer: worker, broker (nats-server / redis-server), database (Postgres).
      cpu_per_job_ms_total: round(((report.cpu.totalSeconds + brokerCpu + dbCpu) * 1000) / Math.max(1, jobs), 3),
      burndown_cpu_us_per_job_total: burndownCpu?.us_per_job.total ?? null,
      burndown_cpu: burndownCpu,
      burndown_gc: report.burnGc,
      burndown_gc_pct: report.burnGc?.share_pct ?? null,
      database_cpu_seconds: sut.database ? round(dbCpu, 2) : null,
      history_lag_p99_ms: report.historyLag ? round(report.historyLag.p99, 2) : null,
      history_lag_p50_ms: report.historyLag ? round(report.historyLag.p50, 2) : null,
      rss_mb: round(report.rssPeakMb, 1),
      missing,
      duplicated,
      broker_cpu_seconds: sut.brokerPids.length ? round(brokerCpu, 2) : null,
      worker_startup_ms: round(startupMs, 0),
      steady_enqueue_achieved_per_s: round(steady.achievedPerSecond, 0),
      retry_enqueue_achieved_per_s: round(retry.achievedPerSecond, 0),
      enqueue_errors: steady.errors + retry.errors,
      max_enqueues_in_flight: Math.max(steady.maxInFlight, retry.maxInFlight),
      steady_enqueue_call_p50_ms: round(steady.call.p50, 2),
      steady_enqueue_call_p99_ms: round(steady.call.p99, 2),
      jobs_counted: jobs,
      phases,
      history_after_burndown: history,
      backlog_before_worker: backlogBefore,
      backlog_after: backlogAfter,
      history_final: historyFinal,
      worker: { cpu: report.cpu, rss_peak_mb: report.rssPeakMb, rss_ready_mb: report.rssReadyMb, rss_end_mb: report.rssNowMb, heap_used_mb: report.heapUsedMb, notes: report.notes },
      load_average_1m: { before: round(loadBefore, 2), after: round(loadavg()[0], 2) },
      how: sut.describe,
      durability: sut.durability,
    };
    log(
      `${system}: burn-down ${r.burndown_per_s}/s, p50/p95/p99 ${r.latency_p50_ms}/${r.latency_p95_ms}/${r.latency_p99_ms} ms, retry p99 ${r.retry_latency_p99_ms} ms, cpu ${r.cpu_seconds} s, rss ${r.rss_mb} MB (ready ${Math.round(report.rssReadyMb)} MB), missing ${missing}, duplicated ${duplicated}`,
    );
    return r;
  } finally {
    await release(system, sut, worker);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--rewrite-readme')) {
    // Redraws the table, chart and bench/README.md from bench/results/latest.json without running anything.
    const run = JSON.parse(readFileSync(join(ROOT, 'bench', 'results', 'latest.json'), 'utf8')) as RunResults;
    writeResults(run, { writeLatest: true, root: ROOT, log });
    return;
  }
  const mode = args.includes('--quick') ? 'quick' : 'full';
  const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',') as SystemName[] | undefined;
  const systems = SYSTEMS.filter((s) => !only || only.includes(s));
  const profileDir = args.includes('--profile') ? join(ROOT, 'bench', 'results', 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const rounds = Number(args.find((a) => a.startsWith('--burndown-rounds='))?.slice(18));
  const plan = { ...planFor(mode), ...(Number.isInteger(rounds) && rounds > 0 ? { burndownRounds: rounds } : {}) };
  const overlay = args.find((a) => a.startsWith('--overlay='))?.slice(10);
  const settings: ServiceProcessSettings = args.includes('--node-defaults')
    ? { nodeOptions: [], env: {}, source: "Node's defaults" }
    : overlay ? overlayProcessSettings(ROOT, overlay) : serviceProcessSettings(ROOT);
  const { nodeOptions } = settings;
  const workerEnv = envText(settings.env);
  const started = Date.now();
  log(`mode ${mode}: ${systems.join(', ')}; plan ${JSON.stringify(plan)}; workers run with ${[workerEnv, nodeOptions.join(' ')].filter(Boolean).join(' ') || "Node's defaults"}`);
  const redis = await ensureRedis();
  if (redis.startedByBench) log('started redis-server on 127.0.0.1:6379 (nothing answered there)');
  const postgres = await postgresDurability();

  const results: Partial<Record<SystemName, SystemResult>> = {};
  for (const s of systems) results[s] = await benchSystem(s, plan, settings, profileDir);
  // pg-boss's burn-down takes minutes a round (and is far from its target): one round.
  const repeated = systems.filter((s) => s !== 'pgboss' && results[s]);
  const moreRounds = new Map(repeated.map((s) => [s, [] as BurnDownRound[]]));
  for (let r = 2; r <= plan.burndownRounds; r++) {
    for (const s of r % 2 === 0 ? [...repeated].reverse() : repeated) moreRounds.get(s)!.push(await burnDownRound(s, plan, settings));
  }
  for (const [s, more] of moreRounds) if (more.length) results[s] = withBurnDownRounds(results[s]!, more);

  const run: RunResults = {
    generated_at: new Date().toISOString(),
    command: `${mode === 'full' ? 'npm run bench' : 'npm run bench:quick'}${overlay ? ` -- --overlay=${overlay}` : nodeOptions.length ? '' : ' -- --node-defaults'}`,
    mode,
    plan,
    duration_s: Math.round((Date.now() - started) / 1000),
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` },
    postgres,
    worker_node_options: nodeOptions,
    worker_env: settings.env,
    worker_settings_from: settings.source,
    systems: results,
  };
  writeResults(run, { writeLatest: !only && !overlay, name: overlay && !only ? `overlay-${overlay}` : undefined, root: ROOT, log });
  log(`done in ${run.duration_s} s`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
