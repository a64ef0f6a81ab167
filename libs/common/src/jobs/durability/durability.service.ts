import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { containsEncrypted, FieldEncryption, isEncrypted, REDACTED, sensitivePath, sensitiveFieldsOf } from '../../crypto/field-cipher.js';
import type { Logger } from '../../logging/logger.js';
import { lazyLogger } from '../../logging/lazy-logger.js';
import type { CloudEvent } from '../../messaging/cloud-event.js';
import { errorText } from '../../messaging/errors.js';
import { FlowCoordinator } from '../chains/flow-coordinator.js';
import type { ChildResult } from '../chains/flow.types.js';
import { assertNoDependencyCycle } from '../chains/job-dependencies.js';
import type { JobHandlerOptions } from '../job-handler.decorator.js';
import { RetentionPurger } from '../retention/retention-purger.js';
import { SlaMonitor } from '../sla/sla-monitor.js';
import { JobStepsRepository } from '../steps/job-steps.repository.js';
import { StepRunner, type StepCodec } from '../steps/step-runner.js';

interface DurableSpec {
  sensitive: readonly string[];
  options: JobHandlerOptions;
}

const NO_WATCH = (): void => undefined;
const NO_CHILDREN: readonly ChildResult[] = Object.freeze([]);

export interface PreparedRun {
  /** The payload with sensitive fields decrypted (for the handler only). */
  payload: unknown;
  /** The run's logger, censoring the job's sensitive fields. */
  logger: Logger;
  readonly step: StepRunner;
  childResults: readonly ChildResult[];
  /** Ends the attempt's SLA watch. */
  done: () => void;
}

/** A prepared attempt: a class, not a literal with a getter closure, for the reason AttemptContext gives. */
class PreparedAttempt implements PreparedRun {
  private runner?: StepRunner;

  constructor(
    readonly payload: unknown,
    readonly logger: Logger,
    readonly childResults: readonly ChildResult[],
    readonly done: () => void,
    private readonly steps: JobStepsRepository,
    private readonly run: { runId: string; job: string; companyId: string | null; attempt: number },
    private readonly codec: StepCodec | undefined,
  ) {}

  /** Most handlers never use durable steps: the runner is made on first use. */
  get step(): StepRunner {
    return (this.runner ??= new StepRunner(this.steps, this.run, this.logger, this.codec));
  }
}

/** Pino redact paths for a job's sensitive fields: under `payload`, and bare at the top and one level down. */
export function redactPaths(paths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const segs = sensitivePath(p);
    if (segs.length === 0) continue;
    const rel = segs.join('.');
    out.add(`payload.${rel}`);
    out.add(rel);
    out.add(`*.${rel}`);
  }
  return [...out].filter((p) => !p.split('.').some((s) => s !== '*' && !/^[A-Za-z_$][\w$]*$/.test(s)));
}

/**
 * What the job runtime adds to every run for durability (docs/durability.md):
 * decrypts sensitive fields for the handler only, gives it a redacting logger,
 * durable steps, its children's results, and watches its SLA. The runtime
 * calls `register` per handler at start, `check` once, `prepare` per attempt.
 */
@Injectable()
export class DurabilityHooks implements OnApplicationBootstrap {
  private readonly specs = new Map<string, DurableSpec>();

  constructor(
    private readonly cipher: FieldEncryption,
    private readonly steps: JobStepsRepository,
    private readonly flows: FlowCoordinator,
    private readonly sla: SlaMonitor,
    private readonly retention: RetentionPurger,
  ) {}

  register(job: string, options: JobHandlerOptions): void {
    this.specs.set(job, { sensitive: [...new Set([...sensitiveFieldsOf(job), ...(options.sensitive ?? [])])], options });
    if (options.sla) this.sla.declare(job, options.sla);
  }

  /** Start-up problems: sensitive fields without a key, a dependency cycle. */
  problems(): string[] {
    const problems: string[] = [];
    for (const [job, s] of this.specs) {
      if (s.sensitive.length && !this.cipher.enabled) problems.push(`job "${job}" declares sensitive fields but no encryption key is configured (ENCRYPTION_KEYS, ENCRYPTION_ACTIVE_KEY)`);
    }
    try {
      assertNoDependencyCycle();
    } catch (e) {
      problems.push(errorText(e));
    }
    return problems;
  }

  async onApplicationBootstrap(): Promise<void> {
    const entries = [...this.specs].filter(([, s]) => s.options.retention).map(([job, s]) => ({ job, retention: s.options.retention! }));
    await this.retention.declare(entries);
  }

  sensitiveOf(job: string): readonly string[] {
    return this.specs.get(job)?.sensitive ?? [];
  }

  /** Synchronous unless the run is a flow's parent (its children's results are read first). */
  prepare(input: {
    runId: string;
    job: string;
    companyId: string | undefined;
    attempt: number;
    scheduledFor: Date | undefined;
    payload: unknown;
    event: CloudEvent;
    logger: Logger;
  }): PreparedRun | Promise<PreparedRun> {
    const spec = this.specs.get(input.job);
    const sensitive = spec?.sensitive ?? [];
    const payload = containsEncrypted(input.payload) ? this.cipher.decryptDeep(input.payload) : input.payload;
    const logger = sensitive.length ? lazyLogger(() => input.logger.child({}, { redact: { paths: redactPaths(sensitive), censor: REDACTED } })) : input.logger;
    const codec: StepCodec | undefined = sensitive.length && this.cipher.enabled
      ? { encode: (v) => this.cipher.encrypt(v), decode: (v) => (isEncrypted(v) ? this.cipher.decrypt(v) : v) }
      : undefined;
    const isParent = (input.event.data as { flow?: unknown } | null)?.flow === true;
    if (isParent) return this.flows.childResults(input.runId).then((children) => this.prepared(input, spec, payload, logger, codec, children));
    return this.prepared(input, spec, payload, logger, codec, NO_CHILDREN);
  }

  private prepared(
    input: { runId: string; job: string; companyId: string | undefined; attempt: number; scheduledFor: Date | undefined },
    spec: DurableSpec | undefined,
    payload: unknown,
    logger: Logger,
    codec: StepCodec | undefined,
    childResults: readonly ChildResult[],
  ): PreparedRun {
    const sla = spec?.options.sla;
    const done = sla
      ? this.sla.watch({ runId: input.runId, job: input.job, companyId: input.companyId, scheduledFor: input.scheduledFor, attempt: input.attempt, startedAt: new Date() }, sla)
      : NO_WATCH;
    const run = { runId: input.runId, job: input.job, companyId: input.companyId ?? null, attempt: input.attempt };
    return new PreparedAttempt(payload, logger, childResults, done, this.steps, run, codec);
  }
}
