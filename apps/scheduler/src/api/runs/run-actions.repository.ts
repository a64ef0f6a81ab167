import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { affectedRows } from '../../../../../libs/common/src/jobs/dead-letter-tools.repository.js';

/** What deleting one run removed. */
export interface DeletedRun {
  attempts: number;
  planned: number;
  steps: number;
}

/** SQL of the run actions: retrying a failed run as a new linked run, deleting a finished run. Every statement is scoped by tenant. */
@Injectable()
export class RunActionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Serialises retries of one run (the lock is released with the transaction). */
  async lockRetries(tx: EntityManager, runId: string): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('run-retry'), hashtext($1))`, [runId]);
  }

  /** The run already retried from `runId`, if any. */
  async retriedAs(tx: EntityManager, runId: string): Promise<string | null> {
    const rows: { id: string }[] = await tx.query(`SELECT id FROM job_runs WHERE retry_of = $1 ORDER BY created_at LIMIT 1`, [runId]);
    return rows[0]?.id ?? null;
  }

  async linkRetry(tx: EntityManager, runId: string, retryOf: string): Promise<void> {
    await tx.query(`UPDATE job_runs SET retry_of = $2 WHERE id = $1`, [runId, retryOf]);
  }

  /** The dead letter of a run still waiting for a retry (a dead run is retried through it, so it is marked retried too). */
  async pendingDeadLetter(runId: string, scope: string | null): Promise<string | null> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM dead_letters WHERE run_id = $1 AND retried_at IS NULL AND subject LIKE 'jobs.%' AND ($2::text IS NULL OR company_id = $2) ORDER BY created_at DESC LIMIT 1`,
      [runId, scope],
    );
    return rows[0]?.id ?? null;
  }

  /** The planned row's options (backoff, timeout) a retry keeps. */
  async plannedOptions(runId: string): Promise<Record<string, unknown> | null> {
    const rows: { options: Record<string, unknown> | null }[] = await this.dataSource.query(`SELECT options FROM job_runs WHERE id = $1`, [runId]);
    return rows[0]?.options ?? null;
  }

  /**
   * Deletes a finished run's attempts, its planned row (only when finished) and
   * its durable step results, in one transaction. The per-minute rollup keeps
   * its counts (it is an aggregate, not a list of runs).
   */
  async deleteFinished(runId: string, scope: string | null): Promise<DeletedRun> {
    return this.dataSource.transaction(async (tx) => {
      const planned = affectedRows(await tx.query(
        `DELETE FROM job_runs WHERE id = $1 AND ($2::text IS NULL OR company_id = $2) AND state IN ('succeeded', 'failed', 'dead', 'cancelled') RETURNING id`,
        [runId, scope],
      )).length;
      const attempts = affectedRows(await tx.query(
        `DELETE FROM job_attempts WHERE run_id = $1 AND ($2::text IS NULL OR company_id = $2) RETURNING attempt`,
        [runId, scope],
      )).length;
      const steps = affectedRows(await tx.query(
        `DELETE FROM job_steps WHERE run_id = $1 AND ($2::text IS NULL OR company_id = $2) RETURNING seq`,
        [runId, scope],
      )).length;
      // Its published outbox row goes with its planned row (an unpublished one means the run is not finished).
      if (planned) await tx.query(`DELETE FROM outbox WHERE run_id = $1 AND published_at IS NOT NULL`, [runId]);
      return { attempts, planned, steps };
    });
  }
}
