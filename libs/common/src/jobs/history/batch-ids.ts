import type { Pool } from 'pg';

/** Batch ids taken from job_history_batches' sequence at once: one round trip per this many batches. */
const BLOCK = 64;

/**
 * Ids for history batches (job_history_batches.id, each attempt's batch_id),
 * reserved from the table's sequence in blocks so a batch needs no round trip
 * of its own to learn its id. Ids are unique, not ordered by
 * commit (batches in flight at once already commit in any order); a process
 * that stops leaves the rest of its block unused.
 */
export class BatchIds {
  private readonly free: string[] = [];

  async next(pool: Pool): Promise<string> {
    if (this.free.length === 0) {
      const { rows } = await pool.query<{ id: string }>(`SELECT nextval('job_history_batches_id_seq')::text AS id FROM generate_series(1, $1)`, [BLOCK]);
      this.free.push(...rows.map((r) => r.id));
    }
    return this.free.shift()!;
  }
}
