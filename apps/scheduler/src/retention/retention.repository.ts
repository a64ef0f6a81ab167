import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

const FAILED = ['failed', 'dead'];
const UNFINISHED = ['scheduled', 'queued', 'running', 'retrying'];

/** Deletes old run history in bounded batches, so no statement holds locks for long. */
@Injectable()
export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Finished runs (not failed/dead) created before `before`; returns rows deleted. */
  async deleteRuns(before: Date, failed: boolean, batch: number): Promise<number> {
    const states = failed ? FAILED : [...FAILED, ...UNFINISHED];
    const res: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM job_runs WHERE id IN (
         SELECT id FROM job_runs WHERE created_at < $1 AND (state = ANY($2::text[])) = $3 LIMIT $4
       )`,
      [before, states, failed, batch],
    );
    return res[1];
  }

  /** Published outbox rows older than `before`. */
  async deletePublishedOutbox(before: Date, batch: number): Promise<number> {
    const res: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE published_at IS NOT NULL AND published_at < $1 ORDER BY seq LIMIT $2)`,
      [before, batch],
    );
    return res[1];
  }
}
