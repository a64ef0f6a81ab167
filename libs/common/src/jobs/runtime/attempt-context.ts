import type { Logger } from '../../logging/logger.js';
import type { Priority } from '../../messaging/subjects.js';
import type { AttemptAbort } from '../attempt-abort.js';
import type { ChildResult } from '../chains/flow.types.js';
import type { PreparedRun } from '../durability/durability.service.js';
import type { JobContext } from '../job-handler.decorator.js';
import type { StepRunner } from '../steps/step-runner.js';
import type { Delivery } from './delivery.js';
import type { RunningHandle } from './worker-heartbeat.js';

/**
 * What a handler gets for one attempt, with nothing allocated per attempt
 * beyond the object itself.
 *
 * - Getters on the prototype, not an object literal: a literal with `get
 *   signal()` / `get step()` closures gets a V8 map of its own per attempt,
 *   allocated in old space, which then holds the whole attempt (message, event,
 *   payload) through every young-generation GC until the next full one.
 * - No closures made in the constructor either: with `progress`, `working` and
 *   `throwIfAborted` as arrow-function fields, the bench worker still promoted
 *   ≈ 290 KB of attempts per young GC at 1,000 jobs/s (four full GCs in 18 s);
 *   without them, 4 KB and none (2026-12-04, the attempt path cut after the
 *   context was made, `--trace-gc-nvp`). They are bound on first use instead,
 *   so a handler may still take them apart (`const { progress } = ctx`).
 */
export class AttemptContext<P = unknown> implements JobContext<P> {
  readonly runId: string;
  readonly job: string;
  readonly companyId: string | undefined;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly priority: Priority;
  readonly scheduledFor: Date | undefined;
  readonly logger: Logger;
  readonly childResults: readonly ChildResult[];
  private readonly msg: Delivery['msg'];
  private bound?: Pick<JobContext<P>, 'progress' | 'working' | 'throwIfAborted'>;

  constructor(
    d: Delivery,
    readonly payload: P,
    private readonly abort: AttemptAbort,
    private readonly running: RunningHandle,
    private readonly durable: PreparedRun,
  ) {
    this.runId = d.event.id;
    this.job = d.spec.name;
    this.companyId = d.parts.companyId;
    this.attempt = d.attempt;
    this.maxAttempts = d.maxAttempts;
    this.priority = d.priority;
    this.scheduledFor = d.parts.scheduledFor;
    this.logger = durable.logger;
    this.childResults = durable.childResults;
    this.msg = d.msg;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get step(): StepRunner {
    return this.durable.step;
  }

  get progress(): JobContext<P>['progress'] {
    return this.methods().progress;
  }

  get working(): JobContext<P>['working'] {
    return this.methods().working;
  }

  get throwIfAborted(): JobContext<P>['throwIfAborted'] {
    return this.methods().throwIfAborted;
  }

  private methods(): Pick<JobContext<P>, 'progress' | 'working' | 'throwIfAborted'> {
    return (this.bound ??= {
      progress: this.reportProgress.bind(this),
      working: this.keepWorking.bind(this),
      throwIfAborted: this.abortIfAsked.bind(this),
    });
  }

  private async reportProgress(percent: number, message?: string): Promise<void> {
    this.running.progress(Math.max(0, Math.min(100, Math.round(percent))), message ?? null);
  }

  private keepWorking(): void {
    this.msg.working();
  }

  private abortIfAsked(): void {
    if (this.abort.aborted) throw this.abort.reason;
  }
}
