import { Injectable } from '@nestjs/common';
import { HistoryRepository } from '../history/history.repository.js';
import { JobControl } from '../job-control.js';
import type { RunState } from '../job.types.js';
import { JobRunsRepository } from '../job-runs.repository.js';
import { LiveRuns } from './live-runs.js';

/**
 * Cancels a run wherever it is: a planned run by its job_runs row, any run by
 * asking every worker through the `runs` bucket (a waiting message is settled
 * cancelled without running, a running handler's signal aborts). Returns the
 * state it was in, or null when it is not this tenant's, already finished, or
 * unknown. `companyId` is the tenant the caller acts for (undefined: the platform).
 */
@Injectable()
export class RunCanceller {
  constructor(
    private readonly control: JobControl,
    private readonly planned: JobRunsRepository,
    private readonly history: HistoryRepository,
    private readonly live: LiveRuns,
  ) {}

  async cancel(runId: string, options: { companyId?: string } = {}): Promise<RunState | null> {
    const scope = options.companyId ?? null;
    const previous = await this.planned.cancel(runId, options.companyId);
    if (previous !== null) {
      await this.control.requestCancel(runId, scope);
      return previous;
    }
    if (await this.planned.exists(runId, options.companyId)) return null;
    const last = await this.history.latest(runId, scope);
    if (last?.final) return null;
    const running = await this.live.findRunning(runId);
    if (running && (scope === null || running.companyId === scope)) {
      await this.control.requestCancel(runId, scope);
      return 'running';
    }
    const waiting = await this.live.queued({ limit: 1, companyId: scope, match: runId });
    if (waiting.items.length || last) {
      await this.control.requestCancel(runId, scope);
      return last ? 'retrying' : 'queued';
    }
    return null;
  }
}
