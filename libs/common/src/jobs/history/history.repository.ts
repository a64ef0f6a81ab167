import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { AttemptRecord } from './attempt-record.js';
import { BatchIds } from './batch-ids.js';
import { CopyBatchQuery } from './copy-batch-query.js';
import { CopyText } from './copy-text.js';
import { copyBatchStatement, copyRow, markerSpan, plannedUpdates } from './history-statements.js';

/** Days of job_attempts partitions kept ready ahead of today. */
export const PARTITION_DAYS_AHEAD = 7;

/** About a succeeded attempt's row of COPY text: the buffer a batch starts with (it grows for larger rows). */
const ROW_BYTES = 320;

/** The history writer's statements (job_attempts, job_history_batches, planned job_runs). */
@Injectable()
export class HistoryRepository {
  private readonly batchIds = new BatchIds();

  constructor(private readonly dataSource: DataSource) {}

  /**
   * An id for a batch (job_history_batches.id, each attempt's batch_id), taken before its first try and kept
   * for its retries: `write(…, retried)` then finds out whether a try whose answer was lost had committed.
   */
  async batchId(): Promise<string> {
    return this.batchIds.next(this.pool());
  }

  /**
   * One transaction per batch: the attempts, the batch's marker (the per-minute rollup is made from it later:
   * job_stats_minute) and the planned runs they settle. `retried`: an earlier try of this batch failed, and
   * may have committed all the same (the connection lost after the statement reached the server, which
   * finishes it alone): then its rows are there under `batchId` and nothing is written twice.
   */
  async write(records: readonly AttemptRecord[], batchId: string, retried = false): Promise<void> {
    if (records.length === 0) return;
    const client = await this.pool().connect();
    let broken: unknown;
    // A checked-out pg client has no error listener: a backend terminated mid-batch (failover, restart,
    // pg_terminate_backend) emits 'error' on it, which would crash the process. The failed statement rejects
    // on its own; the client is discarded on release.
    const onError = (e: unknown) => (broken = e);
    client.on('error', onError);
    try {
      if (retried && (await this.committed(client, batchId))) return;
      await this.writeByCopy(client, records, batchId);
    } finally {
      client.removeListener('error', onError);
      client.release(broken instanceof Error ? broken : broken === undefined ? undefined : new Error(String(broken)));
    }
  }

  private pool(): Pool {
    const pool = (this.dataSource.driver as unknown as { master?: Pool }).master;
    if (!pool) throw new Error('the data source is not connected to Postgres');
    return pool;
  }

  /** The batch's rows are stored (its marker may be rolled up and gone; its attempts stay, found by batch_id). */
  private async committed(client: PoolClient, batchId: string): Promise<boolean> {
    const { rows } = await client.query<{ found: boolean }>(`SELECT EXISTS (SELECT 1 FROM job_attempts WHERE batch_id = $1) AS found`, [batchId]);
    return rows[0].found;
  }

  /** COPY, marker and planned runs in one simple query: one write, one round trip (CopyBatchQuery). */
  private async writeByCopy(client: PoolClient, records: readonly AttemptRecord[], batchId: string): Promise<void> {
    // Rows first: one whose result cannot be kept fails here (UnstorableValueError), before its planned run's statement holds the result too.
    const data = new CopyText(records.length * ROW_BYTES);
    for (const r of records) copyRow(data, r, batchId);
    const text = copyBatchStatement(batchId, markerSpan(records), plannedUpdates(records), (s) => client.escapeLiteral(s));
    await new Promise<void>((resolve, reject) => {
      client.query(new CopyBatchQuery(text, data.bytes(), (e) => (e ? reject(e) : resolve())));
    });
  }

  /** The latest attempt of a run (its tenant's, or any with scope null), or undefined when it has none. */
  async latest(runId: string, scope: string | null = null): Promise<{ outcome: string; attempt: number; final: boolean; companyId: string | null } | undefined> {
    const rows: { outcome: string; attempt: number; final: boolean; company_id: string | null }[] = await this.dataSource.query(
      `SELECT outcome, attempt, final, company_id FROM job_attempts WHERE run_id = $1 AND ($2::text IS NULL OR company_id = $2)
        ORDER BY attempt DESC, final DESC, finished_at DESC LIMIT 1`,
      [runId, scope],
    );
    const r = rows[0];
    return r ? { outcome: r.outcome, attempt: r.attempt, final: r.final, companyId: r.company_id } : undefined;
  }

  /**
   * Each run's latest recorded attempt: its final one when it has one (the last to finish, should a stalled worker's
   * late result have been recorded beside the winner's), else the highest attempt; with whether it was final.
   */
  async lastAttempts(runIds: readonly string[]): Promise<Map<string, { outcome: string; attempt: number; final: boolean }>> {
    const rows: { run_id: string; outcome: string; attempt: number; final: boolean }[] = await this.dataSource.query(
      `SELECT DISTINCT ON (run_id) run_id, outcome, attempt, final FROM job_attempts WHERE run_id = ANY($1)
       ORDER BY run_id, final DESC, CASE WHEN final THEN finished_at END DESC, attempt DESC, finished_at DESC`,
      [runIds],
    );
    return new Map(rows.map((r) => [r.run_id, { outcome: r.outcome, attempt: r.attempt, final: r.final }]));
  }

  /** Makes sure daily partitions exist from yesterday to PARTITION_DAYS_AHEAD days ahead; returns how many were made. */
  async ensurePartitions(now = new Date()): Promise<number> {
    const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1)).toISOString().slice(0, 10);
    const [row] = (await this.dataSource.query(`SELECT job_attempts_ensure_partitions($1::date, $2) AS made`, [day, PARTITION_DAYS_AHEAD + 2])) as { made: number }[];
    return row.made;
  }
}
