import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { affectedRows } from './dead-letter-tools.repository.js';
import type { RunState } from './job.types.js';

/**
 * The job runtime's one write to a planned run outside the history writer:
 * cancelling it. (Attempts and outcomes of planned runs are written by the
 * history writer with the attempts themselves.)
 */
@Injectable()
export class JobRunsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Flags a run cancelled unless it already finished; a queued run is then
   * settled without running when its message arrives. Returns the state it was
   * in, or null when it did not exist or had already finished.
   */
  async cancel(runId: string, companyId?: string): Promise<RunState | null> {
    const rows = affectedRows<{ previous: RunState }>(await this.dataSource.query(
      `UPDATE job_runs r SET state = 'cancelled', finished_at = CASE WHEN p.state = 'running' THEN NULL ELSE now() END,
              error = coalesce(r.error, 'cancelled by an operator'), updated_at = now()
         FROM (SELECT id, state FROM job_runs WHERE id = $1 AND ($2::text IS NULL OR company_id = $2) FOR UPDATE) p
        WHERE r.id = p.id AND p.state NOT IN ('succeeded', 'failed', 'dead', 'cancelled')
        RETURNING p.state AS previous`,
      [runId, companyId ?? null],
    ));
    return rows[0]?.previous ?? null;
  }

  /** Whether a planned run exists (for this tenant, when given). */
  async exists(runId: string, companyId?: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM job_runs WHERE id = $1 AND ($2::text IS NULL OR company_id = $2)`, [runId, companyId ?? null]);
    return rows.length > 0;
  }
}
