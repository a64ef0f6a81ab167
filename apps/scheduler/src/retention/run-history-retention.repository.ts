import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { drain, RETENTION_BATCH } from './drain.js';

const FAILED = ['failed', 'dead'];
const UNFINISHED = ['scheduled', 'queued', 'running', 'retrying'];
/** The two branches of job_attempts: `ok` (succeeded, cancelled) and `failed` (failed, retrying, dead, lost). */
const BRANCHES = ['ok', 'failed'] as const;
type Branch = (typeof BRANCHES)[number];
const DAY_PARTITION = /^job_attempts_(ok|failed)_p(\d{4})(\d{2})(\d{2})$/;

export interface RunHistoryCutoffs {
  /** Succeeded and cancelled runs (and attempts) that finished before this go. */
  runsBefore: Date;
  /** Failed and dead runs (and failed, retrying, dead, lost attempts) that finished before this go. */
  failedRunsBefore: Date;
  /** Published outbox rows older than this go. */
  outboxBefore: Date;
}

export interface RunHistoryPurge {
  /** Planned job_runs rows and ok-branch attempt rows removed. */
  runs: number;
  /** Failed and dead job_runs rows and failed-branch attempt rows removed. */
  failedRuns: number;
  outbox: number;
  /** Whole daily partitions of job_attempts dropped (their rows are counted in runs / failedRuns). */
  partitionsDropped: number;
}

/**
 * Run history retention. job_attempts is partitioned by branch and UTC day of
 * finished_at, so a day older than its branch's cut-off goes by DROP TABLE,
 * not by deleting rows: constant work whatever the volume, no bloat, no
 * vacuum debt. Jobs whose own policy (`retention.runsMs`) keeps them longer
 * than the platform are the exception: their rows of a day about to be dropped
 * are first copied back into the table, where they land in the default
 * partition (the day has no partition any more), and the per-job purger
 * deletes them when their own time comes. Rows in the default partitions
 * (written for a day without a partition) go by batched deletes. Planned
 * job_runs rows (unfinished ones kept), the minute rollup, SLA breaches and
 * published outbox rows are trimmed to the same cut-offs.
 */
@Injectable()
export class RunHistoryRetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  async purgeRunHistory(cutoffs: RunHistoryCutoffs, signal?: AbortSignal): Promise<RunHistoryPurge> {
    const before: Record<Branch, Date> = { ok: cutoffs.runsBefore, failed: cutoffs.failedRunsBefore };
    const kept = await this.jobsKeptLonger();
    const out: RunHistoryPurge = { runs: 0, failedRuns: 0, outbox: 0, partitionsDropped: 0 };
    const add = (branch: Branch, n: number) => (branch === 'ok' ? (out.runs += n) : (out.failedRuns += n));
    for (const branch of BRANCHES) {
      for (const partition of await this.expiredPartitions(branch, before[branch])) {
        signal?.throwIfAborted();
        add(branch, await this.dropPartition(branch, partition, kept));
        out.partitionsDropped += 1;
      }
      add(branch, await drain(() => this.deleteDefaultAttempts(branch, before[branch], kept), signal));
    }
    out.runs += await drain(() => this.deleteRuns(cutoffs.runsBefore, false), signal);
    out.failedRuns += await drain(() => this.deleteRuns(cutoffs.failedRunsBefore, true), signal);
    out.outbox = await drain(() => this.deletePublishedOutbox(cutoffs.outboxBefore), signal);
    const oldest = new Date(Math.min(cutoffs.runsBefore.getTime(), cutoffs.failedRunsBefore.getTime()));
    await drain(() => this.deleteRollup(oldest), signal);
    await drain(() => this.deleteSlaBreaches(cutoffs.runsBefore), signal);
    return out;
  }

  /** Jobs with a run-history policy of their own: the platform's cut-off never removes their history; the per-job purger does. */
  private async jobsKeptLonger(): Promise<string[]> {
    const rows: { job: string }[] = await this.dataSource.query(`SELECT job FROM job_retention WHERE runs_ms IS NOT NULL`);
    return rows.map((r) => r.job);
  }

  /** The daily partitions of a branch whose whole day ends at or before the cut-off. */
  private async expiredPartitions(branch: Branch, before: Date): Promise<string[]> {
    const rows: { name: string }[] = await this.dataSource.query(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = $1 ORDER BY c.relname`,
      [`job_attempts_${branch}`],
    );
    return rows
      .map((r) => r.name)
      .filter((name) => {
        const m = DAY_PARTITION.exec(name);
        if (!m) return false;
        const dayEnd = Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]) + 1);
        return dayEnd <= before.getTime();
      });
  }

  /** Detaches one day, copies back the rows of jobs kept longer, drops it; returns the rows removed. */
  private async dropPartition(branch: Branch, partition: string, kept: string[]): Promise<number> {
    return this.dataSource.transaction(async (tx: EntityManager) => {
      await tx.query(`ALTER TABLE job_attempts_${branch} DETACH PARTITION ${partition}`);
      const [{ n }] = (await tx.query(`SELECT count(*)::int AS n FROM ${partition}`)) as { n: number }[];
      let copied = 0;
      if (kept.length > 0) {
        const [row] = (await tx.query(
          `WITH c AS (INSERT INTO job_attempts SELECT * FROM ${partition} WHERE job = ANY($1::text[]) RETURNING 1) SELECT count(*)::int AS n FROM c`,
          [kept],
        )) as { n: number }[];
        copied = row.n;
      }
      if (branch === 'ok') {
        // A run that succeeded after retrying has its earlier attempts on the failed branch, kept longer: without
        // its final row they would read as a run still retrying. They go with the run (only runs with attempt > 1).
        await tx.query(
          `DELETE FROM job_attempts_failed f USING ${partition} p
            WHERE p.attempt > 1 AND p.final AND f.run_id = p.run_id AND NOT f.final AND NOT (p.job = ANY($1::text[]))`,
          [kept],
        );
      }
      await tx.query(`DROP TABLE ${partition}`);
      return n - copied;
    });
  }

  private async deleteDefaultAttempts(branch: Branch, before: Date, kept: string[]): Promise<number> {
    const res: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM job_attempts_${branch}_default WHERE ctid IN (
         SELECT ctid FROM job_attempts_${branch}_default WHERE finished_at < $1 AND NOT (job = ANY($2::text[])) LIMIT $3
       )`,
      [before, kept, RETENTION_BATCH],
    );
    return res[1];
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

  private async deleteRollup(before: Date): Promise<number> {
    const res: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM job_stats_minute WHERE ctid IN (SELECT ctid FROM job_stats_minute WHERE minute < $1 LIMIT $2)`,
      [before, RETENTION_BATCH],
    );
    return res[1];
  }

  private async deleteSlaBreaches(before: Date): Promise<number> {
    const res: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM job_sla_breaches WHERE ctid IN (SELECT ctid FROM job_sla_breaches WHERE breached_at < $1 LIMIT $2)`,
      [before, RETENTION_BATCH],
    );
    return res[1];
  }
}
