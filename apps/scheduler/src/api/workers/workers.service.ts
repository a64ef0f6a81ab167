import { Injectable } from '@nestjs/common';
import { HEARTBEAT_INTERVAL_MS, LiveRuns, type WorkerBeat } from '../../../../../libs/common/src/index.js';

/** One worker process as GET /api/v1/workers lists it. */
export interface WorkerView {
  /** `<service>.<instance>`: the key of its heartbeat. */
  id: string;
  service: string;
  instance: string;
  host: string;
  pid: number;
  /** Jobs its runtime handles. */
  jobs: string[];
  /** Handlers it runs at once (JOB_CONCURRENCY_<SERVICE>, JOB_CONCURRENCY or the service's default). */
  concurrency: number;
  inFlight: number;
  /** Pulled and waiting for a slot or parked while paused; held until due; finished and being recorded. */
  waiting: number;
  held: number;
  settling: number;
  startedAt: string;
  beatAt: string;
  heartbeatAgeMs: number;
  /** No beat for more than three intervals: stopped or stuck (the entry expires after WORKER_HEARTBEAT_TTL_MS). */
  stale: boolean;
  running: { runId: string; job: string; companyId: string | null; attempt: number; startedAt: string; progress: number | null }[];
}

/** The job runtimes' workers, from their heartbeats in the `workers` KV bucket. */
@Injectable()
export class WorkersService {
  constructor(private readonly live: LiveRuns) {}

  async list(now = Date.now()): Promise<WorkerView[]> {
    return (await this.live.workers()).map((w) => view(w, now));
  }
}

function view(w: WorkerBeat, now: number): WorkerView {
  const age = Math.max(0, now - Date.parse(w.beatAt));
  return {
    id: `${w.service}.${w.instance}`,
    service: w.service,
    instance: w.instance,
    host: w.host,
    pid: w.pid,
    jobs: w.jobs,
    concurrency: w.concurrency,
    inFlight: w.inFlight,
    waiting: w.waiting,
    held: w.held,
    settling: w.settling,
    startedAt: w.startedAt,
    beatAt: w.beatAt,
    heartbeatAgeMs: age,
    stale: age > 3 * HEARTBEAT_INTERVAL_MS,
    running: w.running.map((r) => ({ runId: r.runId, job: r.job, companyId: r.companyId, attempt: r.attempt, startedAt: r.startedAt, progress: r.progress })),
  };
}
