import { Injectable } from '@nestjs/common';
import { LiveRuns, type QueuedRun, type RunningRun } from '../../../../../libs/common/src/index.js';
import { RunsRepository, type AttemptView, type RunFilter, type RunRecord } from './runs.repository.js';

const fromRunning = (r: RunningRun): RunRecord => ({
  id: r.runId, job: r.job, queue: r.priority, companyId: r.companyId, scheduleId: null, occurrenceAt: null, priority: r.priority, state: 'running',
  attempts: r.attempt, maxAttempts: r.maxAttempts, payload: null, scheduledFor: r.scheduledFor ? new Date(r.scheduledFor) : null, publishedAt: null,
  startedAt: new Date(r.startedAt), finishedAt: null, durationMs: null, progress: r.progress, progressMessage: r.progressMessage, error: null,
  result: null, retryOf: null, parentRunId: null, worker: r.worker, createdAt: new Date(r.startedAt), updatedAt: new Date(r.startedAt),
});

const fromQueued = (q: QueuedRun): RunRecord => ({
  id: q.runId, job: q.job, queue: q.priority, companyId: q.companyId, scheduleId: null, occurrenceAt: null, priority: q.priority, state: 'queued',
  attempts: 0, maxAttempts: null, payload: q.payload, scheduledFor: q.scheduledFor ? new Date(q.scheduledFor) : null, publishedAt: new Date(q.enqueuedAt),
  startedAt: null, finishedAt: null, durationMs: null, progress: null, progressMessage: null, error: null, result: null, retryOf: null, parentRunId: null,
  worker: null, createdAt: new Date(q.enqueuedAt), updatedAt: new Date(q.enqueuedAt),
});

const newestFirst = (a: RunRecord, b: RunRecord) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * Runs as the admin API lists them, from where each lives: running ones from
 * the workers' heartbeats, waiting ones from JetStream (JOBS holds exactly the
 * jobs not yet acked), planned ones from job_runs and finished or retrying ones
 * from the run history. The live sources join the first page only.
 */
@Injectable()
export class RunsService {
  constructor(
    private readonly repository: RunsRepository,
    private readonly live: LiveRuns,
  ) {}

  async list(f: RunFilter): Promise<RunRecord[]> {
    const want = (s: string) => !f.states || f.states.includes(s);
    const firstPage = !f.cursor && !f.offset;
    const sources: Promise<RunRecord[]>[] = [this.repository.history(f), this.repository.planned(f)];
    if (firstPage && want('running')) {
      sources.push(this.live.running({ job: f.job, companyId: f.scope }).then((rs) => rs.filter((r) => !f.scheduleId).map(fromRunning)));
    }
    // Waiting jobs are read message by message: only when asked for.
    if (firstPage && f.states?.includes('queued') && !f.scheduleId) {
      sources.push(this.live.queued({ job: f.job, companyId: f.scope, limit: f.limit }).then((q) => q.items.map(fromQueued)));
    }
    const seen = new Set<string>();
    const merged: RunRecord[] = [];
    for (const r of (await Promise.all(sources)).flat().sort(newestFirst)) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      merged.push(r);
    }
    return merged.slice(0, f.limit);
  }

  /** A run with every attempt; null when the caller's tenant has no such run. */
  async get(id: string, scope: string | null): Promise<(RunRecord & { attemptHistory: AttemptView[] }) | null> {
    const [stored, running, attempts] = await Promise.all([this.repository.get(id, scope), this.live.findRunning(id), this.repository.attempts(id, scope)]);
    if (running && (scope === null || running.companyId === scope)) {
      const live = fromRunning(running);
      // The heartbeat knows the attempt; the planned row or earlier attempts know where the run comes from (schedule, flow, retry).
      return {
        ...(stored ?? live), ...live, payload: stored?.payload ?? null, scheduleId: stored?.scheduleId ?? null, occurrenceAt: stored?.occurrenceAt ?? null,
        retryOf: stored?.retryOf ?? null, parentRunId: stored?.parentRunId ?? null, attemptHistory: attempts,
      };
    }
    if (stored) return { ...stored, attemptHistory: attempts };
    const waiting = await this.live.queued({ limit: 1, companyId: scope, match: id });
    return waiting.items[0] ? { ...fromQueued(waiting.items[0]), attemptHistory: [] } : null;
  }
}
