import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import { errorText } from '../../messaging/errors.js';
import type { JobSettled, JobSettlementObserver } from '../runtime/job-settled.js';
import { HEADERS } from '../../messaging/subjects.js';
import { OutboxRelay } from '../outbox-relay.js';
import type { OutboxRow } from '../outbox.repository.js';
import type { ChildResult } from './flow.types.js';

const FAILED = ['failed', 'dead', 'cancelled'];
const TERMINAL = ['succeeded', ...FAILED];

/**
 * Releases a flow's parent once its children settled (a settlement observer
 * after the run history one, so the child's state is already committed).
 * Under the parent's row lock: with policy 'fail' a failed, dead or cancelled
 * child fails the parent at once (its held outbox row is retired and its own
 * parent re-evaluated); otherwise, when every child is terminal, the parent's
 * outbox row is made due now and published. Idempotent: a parent is released
 * or failed once, whatever number of processes see its children settle.
 */
@Injectable()
export class FlowCoordinator implements JobSettlementObserver {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
    /** Absent where JobEnqueuerModule is not imported: a released parent is then published by a relay (the scheduler's) within a second or two. */
    @Optional() private readonly relay?: OutboxRelay,
  ) {}

  onJobSettled(s: JobSettled): Promise<void> | undefined {
    const parent = (s.event.data as { parentRunId?: unknown } | null | undefined)?.parentRunId;
    if (typeof parent !== 'string' || s.outcome === 'retrying' || s.outcome === 'lost') return undefined;
    return this.childSettled(parent);
  }

  private async childSettled(parent: string): Promise<void> {
    try {
      await this.evaluate(parent);
    } catch (e) {
      // The parent stays held; the next settling child (or a redelivery of this one) evaluates it again.
      this.log.error({ parentRunId: parent, error: errorText(e) }, 'could not evaluate flow parent');
    }
  }

  /** Decides one parent: wait, release, or fail. */
  async evaluate(parentRunId: string): Promise<'waiting' | 'released' | 'failed' | 'settled'> {
    let release: OutboxRow | undefined;
    let failedUp: string | null = null;
    const outcome = await this.dataSource.transaction(async (tx) => {
      const [parent] = (await tx.query(`SELECT id, job, state, flow_policy, parent_run_id FROM job_runs WHERE id = $1 FOR UPDATE`, [parentRunId])) as {
        id: string; job: string; state: string; flow_policy: string | null; parent_run_id: string | null;
      }[];
      if (!parent || parent.state !== 'scheduled') return 'settled' as const;
      const children = (await tx.query(`SELECT id, job, state, error FROM job_runs WHERE parent_run_id = $1 ORDER BY id`, [parentRunId])) as {
        id: string; job: string; state: string; error: string | null;
      }[];
      const failed = children.find((c) => FAILED.includes(c.state));
      const policy = parent.flow_policy ?? 'fail';
      if (failed && policy === 'fail') {
        await tx.query(
          `UPDATE job_runs SET state = 'failed', finished_at = now(), updated_at = now(), error = $2 WHERE id = $1`,
          [parentRunId, `child run ${failed.id} (${failed.job}) ended ${failed.state}${failed.error ? `: ${failed.error}` : ''}`],
        );
        await tx.query(`UPDATE outbox SET published_at = now() WHERE run_id = $1 AND published_at IS NULL`, [parentRunId]);
        failedUp = parent.parent_run_id;
        return 'failed' as const;
      }
      if (!children.every((c) => TERMINAL.includes(c.state))) return 'waiting' as const;
      const now = new Date().toISOString();
      // Due now: lateness and SLAs count from the release, not from when the flow was planned.
      const rows = (await tx.query(
        `UPDATE outbox SET not_before = $2::timestamptz,
                body = jsonb_set(body, '{data,scheduledFor}', to_jsonb($2::text)),
                headers = headers || jsonb_build_object($3::text, $2::text)
          WHERE run_id = $1 AND published_at IS NULL
          RETURNING seq, run_id, subject, body, headers`,
        [parentRunId, now, HEADERS.scheduledFor],
      )) as { seq: string; run_id: string; subject: string; body: unknown; headers: Record<string, string> }[];
      await tx.query(`UPDATE job_runs SET scheduled_for = $2, updated_at = now() WHERE id = $1`, [parentRunId, now]);
      const r = (Array.isArray(rows[0]) ? rows[0] : rows) as typeof rows;
      if (r[0]) release = { seq: String(r[0].seq), runId: r[0].run_id, subject: r[0].subject, body: r[0].body, headers: r[0].headers ?? {}, job: parent.job, scheduledFor: new Date(now) };
      return 'released' as const;
    });
    if (release) {
      this.log.info({ runId: parentRunId, job: release.job }, 'flow parent released: its children settled');
      if (this.relay) await this.relay.publishNow([release]);
    }
    if (failedUp) await this.evaluate(failedUp);
    return outcome;
  }

  /** The children of a parent run as the handler sees them (ctx.childResults). */
  async childResults(parentRunId: string): Promise<ChildResult[]> {
    const rows: { id: string; job: string; state: string; result: unknown; error: string | null }[] = await this.dataSource.query(
      `SELECT id, job, state, result, error FROM job_runs WHERE parent_run_id = $1 ORDER BY created_at, id`,
      [parentRunId],
    );
    return rows.map((r) => ({ runId: r.id, job: r.job, state: r.state, result: r.result, error: r.error }));
  }
}
