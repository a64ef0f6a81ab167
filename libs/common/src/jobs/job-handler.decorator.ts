import 'reflect-metadata';
import type { Logger } from '../logging/logger.js';
import type { BackoffPolicy } from '../messaging/backoff.js';
import type { ContractClass } from '../messaging/contracts/contract-registry.js';
import type { Priority } from '../messaging/subjects.js';
import type { PriorityInput } from './priority.js';
import type { RunResult } from './job.types.js';
import { registerSensitiveFields } from '../crypto/field-cipher.js';
import type { ChildResult } from './chains/flow.types.js';
import { declareJobDependencies } from './chains/job-dependencies.js';
import type { JobSla } from './sla/sla.types.js';
import type { JobRetention } from './retention/retention.types.js';
import type { StepRunner } from './steps/step-runner.js';

/** Options of one job handler; a schedule or an enqueue may override attempts, backoff and timeout per run. */
export interface JobHandlerOptions {
  /** The priority the job is published at by default (enqueuers choose; the subject says which): a name, or 1/5/10/15. */
  priority?: PriorityInput;
  /** Attempts before the run is dead-lettered (default 3, DEFAULT_JOB_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Delay before each retry (default exponential from 2 s, DEFAULT_JOB_BACKOFF). */
  backoff?: BackoffPolicy;
  /** The handler's signal aborts after this long and the attempt fails as retryable (default 5 minutes). */
  timeoutMs?: number;
  /** Handlers of this job running at once in one process (default: the runtime's slots). */
  concurrency?: number;
  /** Handlers of this job one tenant may run at once in one process (default JOB_TENANT_CONCURRENCY). */
  tenantConcurrency?: number;
  /** The class the payload must satisfy (class-validator); a payload that fails is dead-lettered, never retried. */
  payload?: ContractClass;
  /** Payload fields encrypted before they leave the producer ('payload.ssn', 'payload.cards.*.number'); decrypted only for the handler (docs/durability.md). */
  sensitive?: string[];
  /** Maximum duration and lateness; a breach is recorded, counted and published as job.sla_breached. */
  sla?: JobSla;
  /** How long this job's finished runs, step results and dead letters are kept. */
  retention?: JobRetention;
  /** Jobs that must run (as children) before this one when it is enqueued as a flow; cycles are refused. */
  dependsOn?: string[];
  /**
   * A job of the platform (spans tenants, acts for the platform: fan-outs, retention, digests): only a
   * system-admin or the scheduler itself may schedule, trigger or retry it (docs/jobs.md).
   */
  platform?: boolean;
  /**
   * Tenant roles may name this job in their own schedules and triggers (default false). Its handler must
   * check the run's tenant against the payload and act inside it only. Not together with `platform`.
   */
  tenantSchedulable?: boolean;
}

/** What a handler receives. */
export interface JobContext<P = unknown> {
  readonly runId: string;
  readonly job: string;
  readonly companyId: string | undefined;
  readonly payload: P;
  /** 1 on the first attempt; counted in job_runs, not from JetStream deliveries. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly priority: Priority;
  readonly scheduledFor: Date | undefined;
  /** A pino child with runId, job, companyId and attempt on every line. */
  readonly logger: Logger;
  /** Aborts at the timeout (reason: JobTimeoutError) or on cancellation (reason: CancelledError). */
  readonly signal: AbortSignal;
  /** Reports 0–100 with a message; batched into job_runs.progress. */
  progress(percent: number, message?: string): Promise<void>;
  /** Resets the message's ack wait now (the runtime also does it every ackWait/2 while the handler runs). */
  working(): void;
  /** Throws the abort reason when the signal has fired: call between units of work. */
  throwIfAborted(): void;
  /** Durable steps: `await ctx.step.run('name', fn)` runs fn once per run; a retried run gets the recorded result back. */
  readonly step: StepRunner;
  /** The settled children of a flow's parent run (empty for other runs). */
  readonly childResults: readonly ChildResult[];
}

/** A class-style handler (`@JobHandler(NAME) class X implements JobHandler { handle(ctx) {...} }`). */
export interface JobHandler<P = unknown> {
  handle(context: JobContext<P>): Promise<RunResult | void> | RunResult | void;
}

export type JobHandlerFn<P = unknown> = (context: JobContext<P>) => Promise<RunResult | void> | RunResult | void;

export const JOB_HANDLER_METADATA = Symbol('metronome:job-handler');

export interface JobHandlerMetadata {
  job: string;
  options: JobHandlerOptions;
}

/**
 * Declares a job handler, on a method of a provider or on a provider class
 * implementing `JobHandler`. The runtime discovers it at start, registers it on
 * the JetStream transport and refuses to start when a declared job has no
 * handler or two.
 */
export function JobHandler(job: string, options: JobHandlerOptions = {}): ClassDecorator & MethodDecorator {
  const metadata: JobHandlerMetadata = { job, options };
  if (options.sensitive?.length) registerSensitiveFields(job, options.sensitive);
  if (options.dependsOn?.length) declareJobDependencies(job, options.dependsOn);
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      Reflect.defineMetadata(JOB_HANDLER_METADATA, metadata, descriptor.value as object);
      return descriptor;
    }
    Reflect.defineMetadata(JOB_HANDLER_METADATA, metadata, target);
    return undefined;
  }) as ClassDecorator & MethodDecorator;
}

export function jobHandlerMetadata(target: object): JobHandlerMetadata | undefined {
  return Reflect.getMetadata(JOB_HANDLER_METADATA, target) as JobHandlerMetadata | undefined;
}
