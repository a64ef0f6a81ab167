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
 * What a handler gets for one attempt. A class with prototype getters rather
 * than an object literal: a literal with `get signal()` /
 * `get step()` closures gets a V8 map of its own per attempt, allocated in old
 * space, which then holds the whole attempt (message, event, payload) through
 * every young-generation GC until the next full one. In the bench that was
 * most of what the worker promoted, with a full GC every 2 s at 1,000 jobs/s.
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

  // Own arrow functions, not prototype methods, so a handler may take them apart (`const { progress } = ctx`).
  readonly progress = async (percent: number, message?: string): Promise<void> => {
    this.running.progress(Math.max(0, Math.min(100, Math.round(percent))), message ?? null);
  };

  readonly working = (): void => {
    this.msg.working();
  };

  readonly throwIfAborted = (): void => {
    if (this.abort.aborted) throw this.abort.reason;
  };
}
