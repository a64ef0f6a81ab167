import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface StoredStep {
  name: string;
  seq: number;
  result: unknown;
  attempt: number;
  durationMs: number;
  completedAt: Date;
}

/** The only file touching job_steps. */
@Injectable()
export class JobStepsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async completed(runId: string): Promise<StoredStep[]> {
    const rows: { name: string; seq: number; result: unknown; attempt: number; duration_ms: number; completed_at: Date }[] = await this.dataSource.query(
      `SELECT name, seq, result, attempt, duration_ms, completed_at FROM job_steps WHERE run_id = $1 ORDER BY seq, completed_at`,
      [runId],
    );
    return rows.map((r) => ({ name: r.name, seq: r.seq, result: r.result, attempt: r.attempt, durationMs: r.duration_ms, completedAt: r.completed_at }));
  }

  /** Records a completed step; a step recorded already (a concurrent duplicate) keeps its first result, which is returned. */
  async record(step: { runId: string; name: string; seq: number; job: string; companyId: string | null; result: unknown; attempt: number; durationMs: number }): Promise<unknown> {
    const rows: { result: unknown }[] = await this.dataSource.query(
      `WITH ins AS (
         INSERT INTO job_steps (run_id, name, seq, job, company_id, result, attempt, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
         ON CONFLICT (run_id, name) DO NOTHING
         RETURNING result
       )
       SELECT result FROM ins UNION ALL SELECT result FROM job_steps WHERE run_id = $1 AND name = $2 LIMIT 1`,
      [step.runId, step.name, step.seq, step.job, step.companyId, JSON.stringify({ v: step.result === undefined ? null : step.result }), step.attempt, Math.round(step.durationMs)],
    );
    return rows[0]?.result;
  }

  /** Steps of a run for the run detail, optionally tenant-scoped. */
  async forRun(runId: string, companyId?: string | null): Promise<StoredStep[]> {
    const rows: { name: string; seq: number; result: unknown; attempt: number; duration_ms: number; completed_at: Date }[] = await this.dataSource.query(
      `SELECT name, seq, result, attempt, duration_ms, completed_at FROM job_steps
        WHERE run_id = $1 AND ($2::text IS NULL OR company_id = $2) ORDER BY seq, completed_at`,
      [runId, companyId ?? null],
    );
    return rows.map((r) => ({ name: r.name, seq: r.seq, result: unwrap(r.result), attempt: r.attempt, durationMs: r.duration_ms, completedAt: r.completed_at }));
  }
}

/** Results are stored as {"v": result} so that undefined/null/primitives round-trip. */
export function unwrap(stored: unknown): unknown {
  return stored && typeof stored === 'object' && 'v' in stored ? (stored as { v: unknown }).v : stored;
}
