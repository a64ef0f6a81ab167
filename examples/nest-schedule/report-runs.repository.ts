import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** One row per run of a scheduled method: what ran, for which occurrence, on which replica. */
export interface ReportRun {
  kind: string;
  runId: string | null;
  occurrence: Date;
  attempt: number;
  worker: string;
  phase: 'run' | 'start' | 'end';
}

/** The example's only table (a real service would create it in a migration). */
@Injectable()
export class ReportRunsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async ensureTable(): Promise<void> {
    await this.dataSource.query(`CREATE TABLE IF NOT EXISTS report_runs (
      kind text NOT NULL, run_id text, occurrence timestamptz NOT NULL, attempt int NOT NULL,
      worker text NOT NULL, phase text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  }

  async record(r: ReportRun): Promise<void> {
    await this.dataSource.query('INSERT INTO report_runs (kind, run_id, occurrence, attempt, worker, phase) VALUES ($1, $2, $3, $4, $5, $6)', [
      r.kind, r.runId, r.occurrence, r.attempt, r.worker, r.phase,
    ]);
  }
}
