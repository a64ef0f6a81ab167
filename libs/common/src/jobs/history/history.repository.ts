import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { AttemptRecord } from './attempt-record.js';
import { BatchIds } from './batch-ids.js';
import { CopyBatchQuery } from './copy-batch-query.js';
import { copyBatchStatement, copyLine, jsonRow, markerSpan, ONE_STATEMENT, ONE_STATEMENT_PLANNED, plannedUpdates } from './history-statements.js';

/** Days of job_attempts partitions kept ready ahead of today. */
export const PARTITION_DAYS_AHEAD = 7;

/**
 * Batches up to this many rows go in one JSON statement; larger ones by COPY
 * (Postgres parses COPY text about four times cheaper than JSON). Measured
 * 2026-12-04, when COPY took four round trips in a transaction: 4-row batches
 * cost the worker 40–48 µs a row in one statement against 110–170 µs by COPY,
 * Postgres 87–93 against 167–173; 1,000-row batches 9.5 against 6.3 (worker)
 * and 32 against 7–9 (Postgres).
 */
const ONE_STATEMENT_MAX_ROWS = 100;

/** The history writer's statements (job_attempts, job_history_batches, planned job_runs). */
@Injectable()
export class HistoryRepository {
  private readonly batchIds = new BatchIds();

  constructor(private readonly dataSource: DataSource) {}

  /**
   * One transaction per batch: the attempts, the batch's marker (the per-minute
   * rollup is made from it later: job_stats_minute) and the planned runs they
   * settle.
   */
  async write(records: readonly AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    const pool = (this.dataSource.driver as unknown as { master?: Pool }).master;
    if (!pool) throw new Error('the data source is not connected to Postgres');
    const client = await pool.connect();
    let broken: unknown;
    // A checked-out pg client has no error listener: a backend terminated mid-batch (failover, restart,
    // pg_terminate_backend) emits 'error' on it, which would crash the process. The failed statement rejects
    // on its own; the client is discarded on release.
    const onError = (e: unknown) => (broken = e);
    client.on('error', onError);
    try {
      if (records.length <= ONE_STATEMENT_MAX_ROWS) await this.writeInOneStatement(client, records);
      else await this.writeByCopy(client, records);
    } finally {
      client.removeListener('error', onError);
      client.release(broken instanceof Error ? broken : broken === undefined ? undefined : new Error(String(broken)));
    }
  }

  private async writeInOneStatement(client: PoolClient, records: readonly AttemptRecord[]): Promise<void> {
    const planned = plannedUpdates(records);
    const attempts = JSON.stringify(records.map(jsonRow));
    const marker = markerSpan(records);
    if (planned.length) await client.query({ ...ONE_STATEMENT_PLANNED, values: [attempts, ...marker, JSON.stringify(planned)] });
    else await client.query({ ...ONE_STATEMENT, values: [attempts, ...marker] });
  }

  /** Marker, COPY and planned runs in one simple query: one write, one round trip (CopyBatchQuery). */
  private async writeByCopy(client: PoolClient, records: readonly AttemptRecord[]): Promise<void> {
    const id = await this.batchIds.next(client);
    const text = copyBatchStatement(id, markerSpan(records), plannedUpdates(records), (s) => client.escapeLiteral(s));
    let data = '';
    for (const r of records) data += copyLine(r, id) + '\n';
    await new Promise<void>((resolve, reject) => {
      client.query(new CopyBatchQuery(text, Buffer.from(data), (e) => (e ? reject(e) : resolve())));
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
