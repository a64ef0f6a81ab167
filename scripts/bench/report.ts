/**
 * Turns a run into bench/results/latest.json, a table with ratios on stdout,
 * a hand-drawn SVG chart and bench/README.md (figures, durability settings,
 * how to reproduce).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Phase, PhaseStats, Plan, SystemName } from './common.js';
import type { BurnDownRound } from './burn-down-rounds.js';
import type { CpuBreakdown } from './cpu-window.js';
import type { GcPauses } from './gc-pauses.js';
import { targetNotes } from './target-notes.js';
import { envText, SERVICE_MANIFEST } from './service-node-options.js';

export interface SystemResult {
  enqueue_single_per_s: number | null;
  enqueue_bulk_per_s: number | null;
  /** With several burn-down rounds, their median (burndown_rounds has each). */
  burndown_per_s: number | null;
  /** Every burn-down of the run, the system's own first (Metronome and BullMQ in a full run). */
  burndown_rounds?: BurnDownRound[];
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  latency_max_ms: number | null;
  retry_latency_p50_ms: number | null;
  retry_latency_p95_ms: number | null;
  retry_latency_p99_ms: number | null;
  retried_jobs_latency_p50_ms: number | null;
  retried_jobs_latency_p99_ms: number | null;
  cpu_seconds: number | null;
  cpu_ms_per_job: number | null;
  /** CPU of every process the system needs (worker, broker, database; not the producer) per job. */
  cpu_per_job_ms_total: number | null;
  /** The same during the burn-down only, while the host is saturated, in µs (burndown_cpu has it by process). */
  burndown_cpu_us_per_job_total: number | null;
  burndown_cpu: CpuBreakdown | null;
  /** The worker thread's GC pauses during the burn-down; absent in runs before 2026-12-06 (fifth session). */
  burndown_gc?: GcPauses | null;
  /** burndown_gc's share of the burn-down, in % (the table's row). */
  burndown_gc_pct?: number | null;
  database_cpu_seconds: number | null;
  /** Metronome: handler end to history row committed (the ack follows the commit). */
  history_lag_p99_ms: number | null;
  history_lag_p50_ms: number | null;
  rss_mb: number | null;
  missing: number;
  duplicated: number;
  broker_cpu_seconds: number | null;
  worker_startup_ms: number | null;
  steady_enqueue_achieved_per_s: number | null;
  retry_enqueue_achieved_per_s: number | null;
  enqueue_errors: number;
  max_enqueues_in_flight: number;
  /** How long one enqueue call took at 1,000/s (producer side, part of the latency). */
  steady_enqueue_call_p50_ms: number | null;
  steady_enqueue_call_p99_ms: number | null;
  jobs_counted: number;
  phases: Record<Phase, PhaseStats>;
  history_after_burndown: Record<string, number>;
  backlog_before_worker: Record<string, number>;
  backlog_after: Record<string, number>;
  history_final: Record<string, number>;
  worker: Record<string, unknown>;
  /** Other work on the machine shows here: 1-minute load average when the system's run began and ended. */
  load_average_1m: { before: number | null; after: number | null };
  how: Record<string, string>;
  durability: Record<string, unknown>;
}

export interface RunResults {
  generated_at: string;
  command: string;
  mode: 'full' | 'quick';
  plan: Plan;
  duration_s: number;
  machine: Record<string, unknown>;
  postgres: Record<string, string>;
  /** Node flags every worker process ran with (the services' NODE_OPTIONS unless --node-defaults); absent in runs before 2026-12-03. */
  worker_node_options?: string[];
  /** The allocator settings every worker process ran with (the services' MALLOC_ARENA_MAX); absent in runs before 2026-12-04 evening. */
  worker_env?: Record<string, string>;
  /** Where the worker settings were read (a manifest, an overlay, or Node's defaults); absent before 2026-12-06. */
  worker_settings_from?: string;
  systems: Partial<Record<SystemName, SystemResult>>;
  targets?: Record<string, { target: string; value: number | null; met: boolean | null }>;
}

const LABEL: Record<SystemName, string> = { metronome: 'Metronome', bullmq: 'BullMQ', pgboss: 'pg-boss' };

interface Metric {
  key: keyof SystemResult;
  label: string;
  unit: string;
  higherIsBetter: boolean;
}

const METRICS: Metric[] = [
  { key: 'enqueue_single_per_s', label: 'enqueue, single', unit: 'jobs/s', higherIsBetter: true },
  { key: 'enqueue_bulk_per_s', label: 'enqueue, bulk', unit: 'jobs/s', higherIsBetter: true },
  { key: 'burndown_per_s', label: 'burn-down (50 at once, history kept)', unit: 'jobs/s', higherIsBetter: true },
  { key: 'latency_p50_ms', label: 'latency p50 @ 1,000/s', unit: 'ms', higherIsBetter: false },
  { key: 'latency_p95_ms', label: 'latency p95 @ 1,000/s', unit: 'ms', higherIsBetter: false },
  { key: 'latency_p99_ms', label: 'latency p99 @ 1,000/s', unit: 'ms', higherIsBetter: false },
  { key: 'steady_enqueue_call_p99_ms', label: 'enqueue call p99 @ 1,000/s', unit: 'ms', higherIsBetter: false },
  { key: 'retry_latency_p99_ms', label: 'latency p99, 1% retried', unit: 'ms', higherIsBetter: false },
  { key: 'retried_jobs_latency_p99_ms', label: 'retried jobs only, p99', unit: 'ms', higherIsBetter: false },
  { key: 'cpu_seconds', label: 'worker CPU', unit: 's', higherIsBetter: false },
  { key: 'cpu_ms_per_job', label: 'worker CPU per job', unit: 'ms', higherIsBetter: false },
  { key: 'cpu_per_job_ms_total', label: 'CPU per job, all processes (worker + broker + database)', unit: 'ms', higherIsBetter: false },
  { key: 'burndown_cpu_us_per_job_total', label: 'CPU per job in the burn-down, all processes', unit: 'µs', higherIsBetter: false },
  { key: 'burndown_gc_pct', label: 'worker thread in GC pauses, burn-down', unit: '%', higherIsBetter: false },
  { key: 'rss_mb', label: 'worker peak RSS', unit: 'MB', higherIsBetter: false },
  { key: 'broker_cpu_seconds', label: 'broker CPU (nats / redis)', unit: 's', higherIsBetter: false },
  { key: 'database_cpu_seconds', label: 'database CPU (Postgres)', unit: 's', higherIsBetter: false },
  { key: 'history_lag_p99_ms', label: 'history lag p99 (handler end → row committed; ack after)', unit: 'ms', higherIsBetter: false },
  { key: 'missing', label: 'missing jobs', unit: '', higherIsBetter: false },
  { key: 'duplicated', label: 'duplicated jobs', unit: '', higherIsBetter: false },
];

export const fmt = (v: unknown): string => {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '—';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
};

/** Metronome's figure divided by the other's, phrased so ">1×" always means Metronome is better. */
function ratio(m: Metric, metronome: unknown, other: unknown): string {
  if (typeof metronome !== 'number' || typeof other !== 'number' || !Number.isFinite(metronome) || !Number.isFinite(other)) return '—';
  if (m.key === 'missing' || m.key === 'duplicated') return '';
  if (metronome === 0 || other === 0) return '—';
  const r = m.higherIsBetter ? metronome / other : other / metronome;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

function targets(run: RunResults): RunResults['targets'] {
  const m = run.systems.metronome;
  const b = run.systems.bullmq;
  const p = run.systems.pgboss;
  if (!m) return undefined;
  const t: NonNullable<RunResults['targets']> = {};
  if (b) {
    const r = m.burndown_per_s && b.burndown_per_s ? m.burndown_per_s / b.burndown_per_s : null;
    t.burndown_vs_bullmq = { target: '≥ 2× BullMQ', value: r === null ? null : Math.round(r * 100) / 100, met: r === null ? null : r >= 2 };
    const l = m.latency_p99_ms !== null && b.latency_p99_ms !== null ? m.latency_p99_ms : null;
    t.p99_vs_bullmq = { target: `p99 @ 1,000/s ≤ BullMQ's (${fmt(b.latency_p99_ms)} ms)`, value: l, met: l === null ? null : l <= b.latency_p99_ms! };
    const atLeast = (key: 'enqueue_single_per_s' | 'enqueue_bulk_per_s') => {
      const v = m[key];
      const o = b[key];
      return { target: `≥ BullMQ's (${fmt(o)} jobs/s)`, value: v, met: v === null || o === null ? null : v >= o };
    };
    t.enqueue_single_vs_bullmq = atLeast('enqueue_single_per_s');
    t.enqueue_bulk_vs_bullmq = atLeast('enqueue_bulk_per_s');
    const c = m.cpu_per_job_ms_total;
    t.cpu_per_job_vs_bullmq = { target: `total CPU per job ≤ BullMQ's (${fmt(b.cpu_per_job_ms_total)} ms)`, value: c, met: c === null || b.cpu_per_job_ms_total === null ? null : c <= b.cpu_per_job_ms_total };
  }
  if (p) {
    const r = m.burndown_per_s && p.burndown_per_s ? m.burndown_per_s / p.burndown_per_s : null;
    t.burndown_vs_pgboss = { target: '≥ 10× pg-boss', value: r === null ? null : Math.round(r * 100) / 100, met: r === null ? null : r >= 10 };
  }
  t.worker_rss = { target: 'worker peak RSS < 150 MB', value: m.rss_mb, met: m.rss_mb === null ? null : m.rss_mb < 150 };
  t.history_lag = { target: 'history lag p99 < 1 s', value: m.history_lag_p99_ms, met: m.history_lag_p99_ms === null ? null : m.history_lag_p99_ms < 1_000 };
  t.no_loss = { target: '0 missing, 0 duplicated', value: m.missing + m.duplicated, met: m.missing === 0 && m.duplicated === 0 };
  return t;
}

function table(run: RunResults): string {
  const systems = (Object.keys(run.systems) as SystemName[]).filter((s) => run.systems[s]);
  const others = systems.filter((s) => s !== 'metronome');
  const head = ['metric', ...systems.map((s) => LABEL[s]), ...(run.systems.metronome ? others.map((o) => `Metronome vs ${LABEL[o]}`) : [])];
  const rows = METRICS.map((m) => [
    `${m.label}${m.unit ? ` (${m.unit})` : ''}`,
    ...systems.map((s) => fmt(run.systems[s]![m.key])),
    ...(run.systems.metronome ? others.map((o) => ratio(m, run.systems.metronome![m.key], run.systems[o]![m.key])) : []),
  ]);
  return markdownTable(head, rows);
}

function markdownTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`, ...rows.map(line)].join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLOR: Record<SystemName, string> = { metronome: '#2563eb', bullmq: '#dc2626', pgboss: '#16a34a' };

/** One small horizontal bar panel per metric; bars scaled to the panel's largest value. */
function svg(run: RunResults): string {
  const panels: Metric[] = METRICS.filter((m) => ['enqueue_single_per_s', 'enqueue_bulk_per_s', 'burndown_per_s', 'latency_p50_ms', 'latency_p99_ms', 'retry_latency_p99_ms', 'cpu_ms_per_job', 'rss_mb'].includes(m.key));
  const systems = (Object.keys(run.systems) as SystemName[]).filter((s) => run.systems[s]);
  const cols = 2;
  const pw = 440;
  const ph = 40 + systems.length * 26;
  const top = 70;
  const width = cols * pw + 40;
  const height = top + Math.ceil(panels.length / cols) * (ph + 16) + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="20" y="28" font-size="18" font-weight="600">Metronome vs BullMQ vs pg-boss — ${esc(run.command)}</text>`,
    `<text x="20" y="48" fill="#555">${esc(`${run.generated_at} · ${run.machine.cpus} CPU ${run.machine.cpu_model} · Node ${run.machine.node} · concurrency ${run.plan.concurrency} · steady ${run.plan.steadyRate}/s × ${run.plan.steadySeconds} s`)}</text>`,
  ];
  systems.forEach((s, i) => {
    out.push(`<rect x="${width - 330 + i * 105}" y="16" width="12" height="12" fill="${COLOR[s]}"/><text x="${width - 314 + i * 105}" y="26">${LABEL[s]}</text>`);
  });
  panels.forEach((m, idx) => {
    const x0 = 20 + (idx % cols) * pw;
    const y0 = top + Math.floor(idx / cols) * (ph + 16);
    const values = systems.map((s) => run.systems[s]![m.key] as number | null);
    const max = Math.max(...values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)), 1e-9);
    out.push(`<rect x="${x0}" y="${y0}" width="${pw - 20}" height="${ph}" fill="#f8fafc" stroke="#e2e8f0"/>`);
    out.push(`<text x="${x0 + 10}" y="${y0 + 20}" font-weight="600">${esc(m.label)} (${esc(m.unit)}) ${m.higherIsBetter ? '— higher is better' : '— lower is better'}</text>`);
    systems.forEach((s, i) => {
      const v = values[i];
      const y = y0 + 32 + i * 26;
      const barMax = pw - 20 - 90 - 80;
      const w = typeof v === 'number' && Number.isFinite(v) ? Math.max(1, (v / max) * barMax) : 0;
      out.push(`<text x="${x0 + 10}" y="${y + 13}">${LABEL[s]}</text>`);
      out.push(`<rect x="${x0 + 90}" y="${y}" width="${w.toFixed(1)}" height="18" fill="${COLOR[s]}" rx="2"/>`);
      out.push(`<text x="${x0 + 96 + w}" y="${y + 13}">${esc(fmt(v))}</text>`);
    });
  });
  out.push(`<text x="20" y="${height - 14}" fill="#777">Bars are scaled per panel. Durability, method and raw figures: bench/README.md and bench/results/latest.json.</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function durabilityText(run: RunResults): string {
  const m = run.systems.metronome?.durability as { nats?: Record<string, unknown> } | undefined;
  const b = run.systems.bullmq?.durability as { redis?: Record<string, string> } | undefined;
  const lines: string[] = [];
  if (m?.nats) {
    lines.push(
      `- **Metronome / NATS**: ${m.nats.version}, JetStream \`${m.nats.storage}\` storage, ${m.nats.replicas} replica (private server). ${m.nats.sync}. ` +
        `Jobs due now go straight to the stream; run history is in Postgres (below), committed before each ack.`,
    );
  }
  if (b?.redis) {
    lines.push(`- **BullMQ / Redis** ${b.redis.redis_version}: \`appendonly ${b.redis.appendonly}\`, \`appendfsync ${b.redis.appendfsync}\`, \`save "${b.redis.save}"\` (read with CONFIG GET during the run).`);
  }
  lines.push(
    `- **Postgres** ${run.postgres.server_version} (Metronome's run history, and pg-boss): \`synchronous_commit ${run.postgres.synchronous_commit}\`, \`fsync ${run.postgres.fsync}\`, \`wal_sync_method ${run.postgres.wal_sync_method}\`, \`full_page_writes ${run.postgres.full_page_writes}\`, \`shared_buffers ${run.postgres.shared_buffers}\` (read with SHOW).`,
  );
  return lines.join('\n');
}

/** "3" when every system had 3 rounds, else "3 and 2". */
const counts = (n: number[]): string => (new Set(n).size === 1 ? `${n[0]}` : n.join(' and '));

/** Each repeated burn-down, in the order run: the table's burn-down rows are their medians. */
function roundsText(run: RunResults): string {
  const repeated = (Object.keys(run.systems) as SystemName[]).filter((s) => (run.systems[s]?.burndown_rounds?.length ?? 0) > 1);
  if (!repeated.length) return '';
  const lines = repeated.map((s) => {
    const rounds = run.systems[s]!.burndown_rounds!;
    return `- ${LABEL[s]}: ${rounds.map((r) => `${fmt(r.per_s)}/s at ${fmt(r.cpu_us_per_job_total)} µs`).join(' · ')}`;
  });
  return `
The burn-down rows (rate, and CPU per job in the burn-down) are medians of ${counts(repeated.map((s) => run.systems[s]!.burndown_rounds!.length))} burn-downs of
${repeated.map((s) => LABEL[s]).join(' and ')}, each on fresh infrastructure: the first in the system's own run, the others
after all runs with the systems' order alternating, so that a slow minute of the host
does not decide the ratio alone (one system's burn-down has varied 1.4× between runs).
The rest of the table is the system's own run. Each burn-down, in the order run:

${lines.join('\n')}
`;
}

function workerOptionsLine(run: RunResults): string {
  if (!run.worker_node_options) return '';
  if (run.worker_node_options.length === 0) return "Every worker process ran on Node's defaults (`--node-defaults`).";
  const env = envText(run.worker_env ?? {});
  return `Every worker process ran with \`${run.worker_node_options.join(' ')}\`, the services' \`NODE_OPTIONS\`${env ? `, and \`${env}\`` : ''} (${run.worker_settings_from ?? SERVICE_MANIFEST}).`;
}

function readme(run: RunResults): string {
  const t = run.targets ?? {};
  const targetRows = Object.entries(t).map(([k, v]) => [k, v.target, fmt(v.value), v.met === null ? '—' : v.met ? 'met' : '**missed**']);
  const how = (Object.keys(run.systems) as SystemName[])
    .filter((s) => run.systems[s])
    .map((s) => {
      const h = run.systems[s]!.how;
      return `- **${LABEL[s]}** — single: ${h.single}; bulk: ${h.bulk}; worker: ${h.worker}; history: ${h.history}; store: ${h.store}.`;
    })
    .join('\n');
  return `# Benchmarks: Metronome vs BullMQ vs pg-boss

\`npm run bench\` runs Metronome's full path, BullMQ on Redis and pg-boss on
Postgres side by side on one machine in one run (under 10 minutes);
\`npm run bench:quick\` is the same with smaller counts (under 2 minutes, writes
\`bench/results/quick.json\`). Needs nats-server, PostgreSQL on
\`DATABASE_URL\`'s server (default \`postgres://postgres@127.0.0.1:5432\`) and Redis on
127.0.0.1:6379 (started if nothing answers). \`node dist/scripts/bench/run.js --profile\`
also writes a CPU profile of each worker to \`bench/results/profiles/\`;
\`--only=metronome,bullmq\` runs a subset (results in \`bench/results/partial.json\`).
Every worker (BullMQ's and pg-boss's too) runs with the Node options the services ship
with, \`NODE_OPTIONS\` in \`k8s/base/app/*.yaml\` (a V8 heap cap and a smaller young
generation); \`--node-defaults\` runs them on Node's defaults instead, and
\`--overlay=prod\` with what the prod overlay gives the services (needs kubectl; results
in \`bench/results/overlay-prod.json\`, this README untouched).
\`BENCH_WORKER_NODE_ARGS="--trace-gc"\` adds Node/V8 flags to the worker processes.
\`BENCH_HEAP_SNAPSHOT=<file>\` writes a heap snapshot of the worker after the run;
\`BENCH_HEAP_SAMPLING=<file>\` a sampling heap profile from ready to the end
(\`BENCH_HEAP_SAMPLING_KEEP=major\`: only what reached old space).

Results: [\`results/latest.json\`](results/latest.json), chart
[\`results/latest.svg\`](results/latest.svg).

![chart](results/latest.svg)

## Latest figures

${run.generated_at} · \`${run.command}\` · ${run.machine.cpus} × ${run.machine.cpu_model}, ${run.machine.memory_gb} GB, Node ${run.machine.node} · took ${run.duration_s} s.
Every process (producer, worker, nats-server, Redis, Postgres) shares these ${run.machine.cpus} CPUs, and so did
whatever else ran on the host: 1-minute load average at the start → end of each system's run:
${(Object.keys(run.systems) as SystemName[]).filter((s) => run.systems[s]).map((s) => `${LABEL[s]} ${fmt(run.systems[s]!.load_average_1m?.before)} → ${fmt(run.systems[s]!.load_average_1m?.after)}`).join(', ')}.
Above ${run.machine.cpus} the figures are depressed by other work; compare systems within one run.
${workerOptionsLine(run)}

${table(run)}

Ratios are phrased so that above 1× means Metronome is better.
${roundsText(run)}
### Targets

${markdownTable(['target', 'wanted', 'Metronome', ''], targetRows)}

${targetNotes(run)}

## Durability settings in this run

${durabilityText(run)}

The three do not promise the same thing: a Metronome enqueue returns once
JetStream has stored the job (a planned or transactional one is a committed
Postgres row plus an outbox relay), and each finished attempt is a committed
Postgres row before its ack; a BullMQ add is a Redis write with the persistence
above; a pg-boss send is a committed Postgres insert.

## What is measured, and how

- **Same job everywhere**: a ${'~'}200-byte JSON payload (\`phase\`, \`seq\`, enqueue
  timestamp \`t\`, \`fail\`, tenant, kind, a note). Each worker runs the same no-op
  handler, which counts the job by (phase, seq) in a typed array: a job never
  counted is *missing*, every extra successful run is *duplicated*. All phases
  (warm-up included) are counted.
- **Warm-up** (${run.plan.warmup} jobs, discarded): enqueued first through both
  the single and the bulk path, and burned down by the worker before the
  measured backlog.
- **Enqueue, single**: ${run.plan.single.toLocaleString('en-US')} jobs, one call per job, ${run.plan.singleConcurrency} concurrent callers.
  **Bulk**: ${run.plan.bulk.toLocaleString('en-US')} jobs in calls of ${run.plan.bulkBatch}. No worker runs meanwhile.
- **Burn-down**: those ${(run.plan.single + run.plan.bulk).toLocaleString('en-US')} queued jobs, worker concurrency ${run.plan.concurrency},
  history kept; from the first measured job's handler start to the last one's
  stored completion (Metronome: run history committed; BullMQ: \`completed\`
  event; pg-boss: \`complete()\` resolved).
- **Steady**: ${run.plan.steadyRate.toLocaleString('en-US')} jobs/s for ${run.plan.steadySeconds} s, one enqueue call per job, paced
  from a 1 ms timer; latency = handler start − \`t\` (taken just before the enqueue
  call, so it includes the enqueue itself), same machine clock
  (\`performance.timeOrigin + performance.now()\`).
- **Retry**: the same with every 100th job failing its first attempt and retried
  at once (Metronome \`nak(0)\`, BullMQ \`attempts: 2\` without backoff, pg-boss
  \`retryLimit: 1, retryDelay: 0\`); latency to the successful attempt's start.
- **CPU and peak RSS** of the worker process: it runs in its own child
  process; \`process.cpuUsage()\` over its whole life (start-up, warm-up and all
  phases) and \`VmHWM\` from \`/proc/self/status\`. Broker CPU is nats-server's or
  redis-server's from \`/proc/<pid>/stat\` while the worker ran; Postgres CPU
  (Metronome, pg-boss) is that of the database's backends and background
  processes, sampled every 500 ms while they live. *CPU per job, all processes*
  adds worker, broker and database (not the producer) and divides by the jobs run.
  *CPU per job in the burn-down* reads the same processes (the worker from
  \`/proc/<pid>/stat\`, all its threads) when the burn-down starts and ends, and
  \`latest.json\`'s \`burndown_cpu\` gives it by process with the host's busy share
  (\`/proc/stat\`) meanwhile: the phase where the two CPUs are saturated.
  *Worker thread in GC pauses* adds up the worker's \`gc\` performance entries
  (young: scavenges; full: mark-compact and its incremental steps) that began
  between the burn-down's first handler start and its last completion, as a share
  of that time (\`burndown_gc\` has the counts and milliseconds): time the job path
  could not run, which the young generation's size trades against peak RSS.
- **Isolation**: Metronome gets a private nats-server (temporary storage) and a
  fresh migrated database; BullMQ its own Redis database (db 13, flushed before
  and after); pg-boss a fresh database. All are removed at the end.

${how}

## Fixes this benchmark led to

- Run history's COPY wrote a bare-string payload or result unquoted into a
  jsonb column: the batch was refused and the row stored without them
  (2026-12-04; found by the test written for the one-statement path).
- The bench read Postgres CPU after the worker's backends had exited
  (0.04 s reported for 2.9 s used): now sampled while they live.

- Batched job_runs writes lock rows in id order: the enqueuer's "published"
  UPDATE and a worker's start/settle batches deadlocked under load (failed
  starts, lost marks, and a failed settle re-ran a finished job — duplicates).
- The job runtime waits for room when a priority lane is full instead of
  deferring the backlog 10–60 s at a time (a 5,000-job backlog went from
  167 to ~2,000 jobs/s).
- \`JobEnqueuer.enqueue\` group-commits concurrent calls (4 transactions in flight,
  later calls share the next): single enqueues went from ~500 to ~1,300–1,600/s.
- The transport looks a message type's handler up once (Nest's lookup throws
  and catches a JSON.parse error per message).

## Reproduce

\`\`\`bash
npm ci
npm run bench          # or: npm run bench:quick
\`\`\`
`;
}

/** `name`: the results' file name instead of latest, quick or partial (an overlay's run). */
export function writeResults(run: RunResults, options: { writeLatest: boolean; name?: string; root: string; log: (m: string) => void }): void {
  run.targets = targets(run);
  const dir = join(options.root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const name = options.name ?? (!options.writeLatest ? 'partial' : run.mode === 'full' ? 'latest' : 'quick');
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(join(dir, `${name}.svg`), svg(run));
  process.stdout.write(`\n${table(run)}\n\n`);
  for (const [k, v] of Object.entries(run.targets ?? {})) {
    process.stdout.write(`target ${k}: ${v.target} → ${fmt(v.value)} ${v.met === null ? '' : v.met ? 'met' : 'MISSED'}\n`);
  }
  if (name === 'latest') writeFileSync(join(options.root, 'bench', 'README.md'), readme(run));
  options.log(`wrote bench/results/${name}.json and ${name}.svg${name === 'latest' ? ' and bench/README.md' : ''}`);
}
