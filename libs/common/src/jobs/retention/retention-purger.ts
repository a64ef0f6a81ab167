import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import type { JobRetention } from './retention.types.js';
import { AuditLog } from '../../audit/audit-log.js';

export interface PurgeCounts {
  job: string;
  runs: number;
  steps: number;
  deadLetters: number;
  /** Of those, rows that held encrypted values. */
  encrypted: number;
}

const TERMINAL = `('succeeded','failed','dead','cancelled')`;

/**
 * Per-job retention: each worker writes its handlers' `retention` to
 * job_retention at start; `purge()` deletes what is older than that —
 * finished runs (their attempts in job_attempts, their planned job_runs row,
 * outbox rows and steps), step results of finished runs, dead letters — encrypted payloads included, and writes one audit_log
 * entry per job purged (action `retention.purge`, actor `system`).
 */
@Injectable()
export class RetentionPurger {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  async declare(entries: { job: string; retention: JobRetention }[]): Promise<void> {
    if (entries.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO job_retention (job, runs_ms, steps_ms, dead_letters_ms)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
       ON CONFLICT (job) DO UPDATE SET runs_ms = EXCLUDED.runs_ms, steps_ms = EXCLUDED.steps_ms,
         dead_letters_ms = EXCLUDED.dead_letters_ms, updated_at = now()`,
      [
        entries.map((e) => e.job),
        entries.map((e) => e.retention.runsMs ?? null),
        entries.map((e) => e.retention.stepsMs ?? null),
        entries.map((e) => e.retention.deadLettersMs ?? null),
      ],
    );
  }

  /** Purges every job with a retention; `now` is the reference time (tests move it). */
  async purge(now = new Date(), actor = 'system'): Promise<PurgeCounts[]> {
    const policies: { job: string; runs_ms: string | null; steps_ms: string | null; dead_letters_ms: string | null }[] =
      await this.dataSource.query(`SELECT job, runs_ms, steps_ms, dead_letters_ms FROM job_retention ORDER BY job`);
    const out: PurgeCounts[] = [];
    for (const p of policies) {
      const cutoff = (ms: string | null) => (ms === null ? null : new Date(now.getTime() - Number(ms)).toISOString());
      const counts = await this.dataSource.transaction(async (tx) => {
        const c: PurgeCounts = { job: p.job, runs: 0, steps: 0, deadLetters: 0, encrypted: 0 };
        const runsBefore = cutoff(p.runs_ms);
        if (runsBefore) {
          // A run's history: its planned job_runs row (schedules, keyed, delayed, flows) and its attempts in
          // job_attempts (every run), once its final attempt is older than the cutoff.
          const [r] = (await tx.query(
            `WITH planned AS (
               DELETE FROM job_runs WHERE job = $1 AND state IN ${TERMINAL} AND finished_at < $2 RETURNING id, payload
             ), attempts AS (
               DELETE FROM job_attempts WHERE job = $1 AND finished_at < $2
                  AND run_id IN (SELECT run_id FROM job_attempts WHERE job = $1 AND final AND finished_at < $2)
               RETURNING run_id, payload
             ), gone AS (SELECT id FROM planned UNION SELECT run_id FROM attempts),
             s AS (DELETE FROM job_steps WHERE run_id IN (SELECT id FROM gone) RETURNING result),
             o AS (DELETE FROM outbox WHERE run_id IN (SELECT id FROM gone) RETURNING run_id)
             SELECT (SELECT count(*) FROM gone)::int AS runs, (SELECT count(*) FROM s)::int AS steps,
                    (SELECT count(*) FROM planned WHERE payload::text LIKE '%"$enc"%')::int
                    + (SELECT count(*) FROM attempts WHERE payload::text LIKE '%"$enc"%')::int
                    + (SELECT count(*) FROM s WHERE result::text LIKE '%"$enc"%')::int AS encrypted`,
            [p.job, runsBefore],
          )) as { runs: number; steps: number; encrypted: number }[];
          c.runs += r.runs;
          c.steps += r.steps;
          c.encrypted += r.encrypted;
        }
        const stepsBefore = cutoff(p.steps_ms);
        if (stepsBefore) {
          const [r] = (await tx.query(
            // A run is finished by its planned row or, for one published straight to JetStream, by its final attempt.
            `WITH s AS (
               DELETE FROM job_steps st
                WHERE st.job = $1 AND st.completed_at < $2
                  AND (EXISTS (SELECT 1 FROM job_runs r WHERE r.id = st.run_id AND r.state IN ${TERMINAL} AND r.finished_at < $2)
                       OR EXISTS (SELECT 1 FROM job_attempts a WHERE a.run_id = st.run_id AND a.final AND a.finished_at < $2))
                RETURNING st.result
             ) SELECT count(*)::int AS steps, count(*) FILTER (WHERE result::text LIKE '%"$enc"%')::int AS encrypted FROM s`,
            [p.job, stepsBefore],
          )) as { steps: number; encrypted: number }[];
          c.steps += r.steps;
          c.encrypted += r.encrypted;
        }
        const dlqBefore = cutoff(p.dead_letters_ms);
        if (dlqBefore) {
          const [r] = (await tx.query(
            `WITH d AS (DELETE FROM dead_letters WHERE message_type = $1 AND created_at < $2 RETURNING payload)
             SELECT count(*)::int AS n, count(*) FILTER (WHERE payload LIKE '%"$enc"%')::int AS encrypted FROM d`,
            [p.job, dlqBefore],
          )) as { n: number; encrypted: number }[];
          c.deadLetters += r.n;
          c.encrypted += r.encrypted;
        }
        if (c.runs + c.steps + c.deadLetters > 0) {
          // In the purge's transaction: the entry commits with the deletion or not at all.
          await this.audit.system({
            action: 'retention.purge', targetType: 'job', targetId: p.job, companyId: null,
            before: { runsBefore, stepsBefore, deadLettersBefore: dlqBefore, policy: { runsMs: p.runs_ms, stepsMs: p.steps_ms, deadLettersMs: p.dead_letters_ms } },
            after: { runs: c.runs, steps: c.steps, deadLetters: c.deadLetters, encrypted: c.encrypted },
          }, tx, actor);
        }
        return c;
      });
      if (counts.runs + counts.steps + counts.deadLetters > 0) this.log.info({ ...counts }, 'retention purge');
      out.push(counts);
    }
    return out;
  }
}
