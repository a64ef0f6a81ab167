import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  APP_CONFIG,
  Clock,
  errorText,
  EventPublisher,
  MetronomeMetrics,
  occurrenceRunId,
  OutboxRelay,
  OutboxRepository,
  outboxRowOf,
  planRun,
  ROOT_LOGGER,
  type AppConfig,
  type Logger,
  type PlannedRun,
} from '../../../../libs/common/src/index.js';
import { runOptions } from '../../../../libs/common/src/schedule/run-options.js';
import { planClaim, type ClaimPlan } from '../schedules/schedule-timing.js';
import { SchedulesRepository, type ScheduleAdvance } from '../schedules/schedules.repository.js';
import { SCHEDULE_KINDS, TENANT_TIMEZONE, type Schedule } from '../schedules/schedule.types.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';

const GAUGE_EVERY_MS = 10_000;
/** When due rows are held by another replica, look again this soon. */
const CONTENDED_RETRY_MS = 10;

export { runOptions } from '../../../../libs/common/src/schedule/run-options.js';

/**
 * The claim loop (ARCHITECTURE.md invariant 2). Sleeps until the earliest
 * next_fire_at (at most SCHEDULER_POLL_MS), then, per batch, in one
 * transaction: locks due schedules FOR UPDATE SKIP LOCKED, writes one job_runs
 * row and one outbox row per occurrence and tenant (unique on schedule,
 * occurrence and tenant; the run id is derived from the same three), and
 * advances the schedules. After the commit it publishes the batch with
 * Nats-Msg-Id = run id (occurrences claimed ahead of time too: the job runtime
 * holds them until due); a crash before that leaves the rows to the relay.
 */
@Injectable()
export class FiringService implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = true;
  private loopDone = Promise.resolve();
  private wakeUp?: () => void;
  private gaugeTimer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly schedules: SchedulesRepository,
    private readonly tenants: TenantsRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly publisher: EventPublisher,
    private readonly clock: Clock,
    private readonly metrics: MetronomeMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Each kind reports its fires from 0, so a rate exists before the first one.
    for (const kind of SCHEDULE_KINDS) this.metrics.schedulerFires.inc({ kind }, 0);
    this.start();
    this.relay.start();
    const gauges = () => {
      void this.updateGauges().finally(() => {
        if (!this.stopped) this.gaugeTimer = setTimeout(gauges, GAUGE_EVERY_MS);
      });
    };
    gauges();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.gaugeTimer) clearTimeout(this.gaugeTimer);
    this.wake();
    await this.loopDone;
    await Promise.allSettled([...this.inFlight]);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loopDone = this.loop();
  }

  /** Look for due schedules now (a schedule was created or changed in this process). */
  wake(): void {
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let claimed = 0;
      try {
        claimed = await this.claimDue();
      } catch (e) {
        this.logger.warn({ error: errorText(e) }, 'claiming due schedules failed; retrying');
      }
      if (this.stopped) break;
      let wait = this.config.schedulerPollMs;
      try {
        const next = await this.schedules.nextDueAt();
        if (next) {
          const until = next.getTime() - this.config.schedulerLookaheadMs - this.clock.now().getTime();
          wait = Math.min(wait, until > 0 ? until : claimed > 0 ? 0 : CONTENDED_RETRY_MS);
        }
      } catch {
        // the claim above already logged the database problem
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wakeUp = done;
      });
      this.wakeUp = undefined;
    }
  }

  /**
   * Claims every due schedule, batch after batch; returns the runs planned.
   * Claims in one process run one after another (a caller arriving during a
   * claim waits for it, then claims again), so a caller never sees rows
   * skipped only because its own process holds them.
   */
  claimDue(): Promise<number> {
    const run = this.claimChain.then(() => this.claimAll());
    this.claimChain = run.then(() => undefined, () => undefined);
    return run;
  }

  private claimChain: Promise<void> = Promise.resolve();

  private async claimAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const { runs, claimed } = await this.claimBatch();
      total += runs;
      if (claimed < this.config.schedulerBatchSize) return total;
    }
  }

  /** Waits until every publish started by a claim has settled (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async claimBatch(): Promise<{ runs: number; claimed: number }> {
    const now = this.clock.now();
    // Occurrences due within the look-ahead are claimed now and published when due.
    const horizon = new Date(now.getTime() + this.config.schedulerLookaheadMs);
    const t0 = performance.now();
    const source = this.publisher.source;
    const { inserted, claimed, kinds } = await this.schedules.transaction(async (tx) => {
      const due = await this.schedules.lockDue(tx, horizon, this.config.schedulerBatchSize);
      if (due.length === 0) return { inserted: [] as PlannedRun[], claimed: 0, kinds: new Map<string, string>() };
      const needsTenants = due.some((s) => s.scope === 'per_tenant' || s.timezone === TENANT_TIMEZONE);
      const tenants = needsTenants ? await this.tenants.activeByZone(tx) : new Map<string, string[]>();
      const runs: PlannedRun[] = [];
      const advances: ScheduleAdvance[] = [];
      const kinds = new Map<string, string>();
      for (const s of due) {
        kinds.set(s.id, s.kind);
        let plan: ClaimPlan;
        try {
          plan = planClaim(s, horizon, this.config.schedulerMisfireMs, tenants);
        } catch (e) {
          // A schedule that cannot be evaluated must not block the others: look again in a minute.
          this.logger.error({ scheduleId: s.id, schedule: s.name, error: errorText(e) }, 'schedule could not be evaluated');
          advances.push({ id: s.id, nextFireAt: new Date(now.getTime() + 60_000), zoneCursors: s.zoneCursors, fired: 0, lastFireAt: null });
          continue;
        }
        const options = runOptions(s);
        for (const occ of plan.occurrences) {
          for (const companyId of occ.companyIds) {
            runs.push(
              planRun({
                source,
                job: s.job,
                payload: s.payload,
                now,
                runId: occurrenceRunId(s.id, occ.at, companyId),
                companyId,
                scheduleId: s.id,
                occurrenceAt: occ.at,
                scheduledFor: occ.at,
                notBefore: occ.at > now ? occ.at : null,
                options,
              }),
            );
          }
        }
        if (plan.skipped > 0) this.logger.info({ scheduleId: s.id, schedule: s.name, skipped: plan.skipped, policy: s.missedPolicy }, 'missed occurrences skipped');
        const last = plan.occurrences.length ? plan.occurrences[plan.occurrences.length - 1].at : null;
        advances.push({ id: s.id, nextFireAt: plan.nextFireAt, zoneCursors: plan.zoneCursors, fired: plan.fired, lastFireAt: last });
      }
      const inserted = await this.outbox.insertRuns(tx, runs);
      await this.schedules.advance(tx, advances, now);
      return { inserted, claimed: due.length, kinds };
    });
    if (inserted.length === 0) return { runs: 0, claimed };
    if (this.config.faults.crashAfterClaim) {
      // Test-only: die between the claim's commit and the publish.
      // stderr to a pipe is synchronous, unlike the logger, so this line survives the kill.
      process.stderr.write(`FAULT_CRASH_AFTER_CLAIM: killing the process after committing ${inserted.length} runs\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    const byKind = new Map<string, number>();
    for (const r of inserted) {
      const kind = kinds.get(r.scheduleId!) ?? 'unknown';
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    }
    for (const [kind, n] of byKind) this.metrics.schedulerFires.inc({ kind }, n);
    this.metrics.schedulerLastFire.set(now.getTime() / 1000);
    const t1 = performance.now();
    // Published at once, look-ahead claims too (up to SCHEDULER_LOOKAHEAD_MS early): every job
    // carries its scheduled time and the job runtime holds an early one until then, so the
    // transport's latency is spent before the due instant instead of after it.
    const rows = inserted.map(outboxRowOf).sort((a, b) => a.scheduledFor!.getTime() - b.scheduledFor!.getTime());
    const publishing = this.relay.publishAndMark(rows);
    if (this.logger.isLevelEnabled('debug')) {
      const t2 = performance.now();
      void publishing.then(() => this.logger.debug({ runs: rows.length, claimMs: Math.round(t1 - t0), publishMs: Math.round(performance.now() - t2), aheadMs: rows[0].scheduledFor!.getTime() - this.clock.now().getTime() }, 'claimed and published'));
    }
    this.inFlight.add(publishing);
    void publishing.finally(() => this.inFlight.delete(publishing));
    return { runs: inserted.length, claimed };
  }

  private async updateGauges(): Promise<void> {
    try {
      this.metrics.schedulerActiveSchedules.set(await this.schedules.countActive());
      // The last fire of any replica, also after a restart (this process's own claims set it at once as well).
      const last = await this.schedules.lastFireAt();
      if (last) this.metrics.schedulerLastFire.set(last.getTime() / 1000);
      this.metrics.outboxBacklog.set(await this.outbox.backlog());
    } catch (e) {
      this.logger.debug({ error: errorText(e) }, 'scheduler gauges not updated');
    }
  }
}
