import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { drain, RETENTION_BATCH } from './drain.js';

const FAILED = ['failed', 'dead'];
const UNFINISHED = ['scheduled', 'queued', 'running', 'retrying'];

export interface RunHistoryCutoffs {
  /** Succeeded and cancelled runs created before this go. */
  runsBefore: Date;
  /** Failed and dead runs created before this go. */
  failedRunsBefore: Date;
  /** Published outbox rows older than this go. */
  outboxBefore: Date;
}

export interface RunHistoryPurge {
  runs: number;
  failedRuns: number;
  outbox: number;
}

/**
 * Run history retention, the one method the retention job calls for it. Today
 * it deletes job_runs rows in bounded batches (unfinished runs are kept; jobs
 * with their own `retention.runsMs` are left to the per-job purger) and
 * published outbox rows. The run-history redesign (time-partitioned
 * job_attempts) replaces the body of purgeRunHistory with partition drops.
 */
@Injectable()
export class RunHistoryRetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  async purgeRunHistory(cutoffs: RunHistoryCutoffs, signal?: AbortSignal): Promise<RunHistoryPurge> {
    return {
      runs: await drain(() => this.deleteRuns(cutoffs.runsBefore, false), signal),
      failedRuns: await drain(() => this.deleteRuns(cutoffs.failedRunsBefore, true), signal),
      outbox: await drain(() => this.deletePublishedOutbox(cutoffs.outboxBefore), signal),
    };
  }

  private async deleteRuns(before: Date, failed: boolean): Promise<number> {
    const states = failed ? FAILED : [...FAILED, ...UNFINISHED];
    const res: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM job_runs WHERE id IN (
         SELECT id FROM job_runs WHERE created_at < $1 AND (state = ANY($2::text[])) = $3
           AND NOT EXISTS (SELECT 1 FROM job_retention p WHERE p.job = job_runs.job AND p.runs_ms IS NOT NULL)
         LIMIT $4
       )`,
      [before, states, failed, RETENTION_BATCH],
    );
    return res[1];
  }

  private async deletePublishedOutbox(before: Date): Promise<number> {
    const res: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE published_at IS NOT NULL AND published_at < $1 ORDER BY seq LIMIT $2)`,
      [before, RETENTION_BATCH],
    );
    return res[1];
  }
}
