import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Keys merged per statement: bounds one transaction's locks and the rows it rewrites. */
export const COMPACTION_KEYS_PER_STATEMENT = 5_000;
/** The advisory lock (hashtextextended of this name): one scheduler replica compacts at a time; the others skip the pass. */
export const COMPACTION_LOCK = 'job_stats_minute:compaction';

/**
 * Merges job_stats_minute's rows: the roller (JobStatsRoller) appends a rollup
 * row per pass, minute, job, queue and tenant, and this folds every key's rows
 * into one. Each statement deletes the rows it merges and inserts their sum in one
 * transaction, so a reader (which always sums over the key) sees the same
 * totals before, during and after. A row appended meanwhile is not in the
 * statement's snapshot and stays for the next pass.
 */
@Injectable()
export class JobStatsCompactionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Compacts keys with more than one row in minutes [from, to), at most
   * COMPACTION_KEYS_PER_STATEMENT of them. Returns the rows removed and the
   * merged rows written; null when another replica holds the compaction lock.
   */
  async compact(from: Date, to: Date): Promise<{ removed: number; merged: number } | null> {
    return this.dataSource.transaction(async (manager) => {
      const [{ got }]: { got: boolean }[] = await manager.query(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS got`, [COMPACTION_LOCK]);
      if (!got) return null;
      const [row]: { removed: string; merged: string }[] = await manager.query(
        `WITH keys AS (
           SELECT minute, job, queue, company_id FROM job_stats_minute
            WHERE minute >= $1 AND minute < $2
            GROUP BY 1, 2, 3, 4 HAVING count(*) > 1
            LIMIT $3
         ), gone AS (
           DELETE FROM job_stats_minute s USING keys k
            WHERE s.minute = k.minute AND s.job = k.job AND s.queue = k.queue AND s.company_id = k.company_id
           RETURNING s.*
         ), sums AS (
           SELECT minute, job, queue, company_id, sum(succeeded)::int AS succeeded, sum(failed)::int AS failed, sum(retried)::int AS retried,
                  sum(dead)::int AS dead, sum(cancelled)::int AS cancelled, sum(duration_ms_sum)::bigint AS duration_ms_sum
             FROM gone GROUP BY 1, 2, 3, 4
         ), buckets AS (
           SELECT minute, job, queue, company_id, h.i, sum(h.n)::int AS n
             FROM gone, unnest(gone.duration_hist) WITH ORDINALITY AS h(n, i) GROUP BY 1, 2, 3, 4, 5
         ), hists AS (
           SELECT minute, job, queue, company_id, array_agg(n ORDER BY i) AS duration_hist FROM buckets GROUP BY 1, 2, 3, 4
         ), merged AS (
           INSERT INTO job_stats_minute (minute, job, queue, company_id, succeeded, failed, retried, dead, cancelled, duration_ms_sum, duration_hist)
           SELECT s.minute, s.job, s.queue, s.company_id, s.succeeded, s.failed, s.retried, s.dead, s.cancelled, s.duration_ms_sum,
                  coalesce(h.duration_hist, '{}')
             FROM sums s LEFT JOIN hists h USING (minute, job, queue, company_id)
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM gone) AS removed, (SELECT count(*) FROM merged) AS merged`,
        [from, to, COMPACTION_KEYS_PER_STATEMENT],
      );
      return { removed: Number(row.removed), merged: Number(row.merged) };
    });
  }
}
