import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The planned runs emptying a queue cancels. */
export interface CancelledPlan {
  id: string;
  companyId: string | null;
  scheduledFor: Date;
}

/** SQL of emptying a queue: planned runs not yet published. */
@Injectable()
export class QueueEmptyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Cancels the planned runs of a queue (priority) or job that were never
   * published (delayed, or due and not yet relayed) and deletes their outbox
   * rows in the same statement, so no relay publishes them afterwards.
   */
  async cancelUnpublished(target: { queue?: string; job?: string }, reason: string): Promise<CancelledPlan[]> {
    const rows: { id: string; company_id: string | null; scheduled_for: Date }[] = await this.dataSource.query(
      `WITH c AS (
         UPDATE job_runs SET state = 'cancelled', finished_at = now(), error = $3, updated_at = now()
          WHERE state IN ('scheduled', 'queued') AND published_at IS NULL AND ($1::text IS NULL OR queue = $1) AND ($2::text IS NULL OR job = $2)
            AND EXISTS (SELECT 1 FROM outbox o WHERE o.run_id = job_runs.id AND o.published_at IS NULL)
          RETURNING id, company_id, scheduled_for
       ), d AS (
         DELETE FROM outbox o USING c WHERE o.run_id = c.id AND o.published_at IS NULL
       )
       SELECT id, company_id, scheduled_for FROM c`,
      [target.queue ?? null, target.job ?? null, reason],
    );
    return rows.map((r) => ({ id: r.id, companyId: r.company_id, scheduledFor: r.scheduled_for }));
  }
}
