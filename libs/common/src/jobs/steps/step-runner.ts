import type { Logger } from '../../logging/logger.js';
import { unwrap, type JobStepsRepository } from './job-steps.repository.js';

export interface StepOptions {
  /** Encrypt the recorded result (default: when the job declares sensitive fields and a key is configured). */
  encrypt?: boolean;
}

/** Encrypts and decrypts step results of jobs with sensitive data. */
export interface StepCodec {
  encode(value: unknown): unknown;
  decode(value: unknown): unknown;
}

/**
 * A run's durable steps (ctx.step). `run(name, fn)` runs fn and records its
 * result in job_steps keyed by (run id, name); when the run is retried (a
 * crash, a redelivery, a thrown error) a recorded step is not run again, its
 * result comes back from Postgres, and the handler continues from the first
 * unfinished step. Results must be JSON: what JSON.stringify drops, the replay
 * drops too. Step names are unique within a run; a name used twice in one
 * attempt is refused, since the replay could not tell them apart.
 */
export class StepRunner {
  private done?: Promise<Map<string, unknown>>;
  private readonly used = new Set<string>();
  private seq = 0;
  private executedNow: string[] = [];
  private replayedNow: string[] = [];

  constructor(
    private readonly steps: JobStepsRepository,
    private readonly run_: { runId: string; job: string; companyId: string | null; attempt: number },
    private readonly logger: Logger,
    private readonly codec?: StepCodec,
  ) {}

  private load(): Promise<Map<string, unknown>> {
    this.done ??= this.steps.completed(this.run_.runId).then((rows) => new Map(rows.map((r) => [r.name, r.result])));
    return this.done;
  }

  async run<T>(name: string, fn: () => Promise<T> | T, options: StepOptions = {}): Promise<T> {
    if (!name) throw new Error('a step needs a name');
    if (this.used.has(name)) throw new Error(`step "${name}" is used twice in run ${this.run_.runId}: step names must be unique within a run`);
    this.used.add(name);
    const seq = ++this.seq;
    const done = await this.load();
    if (done.has(name)) {
      this.replayedNow.push(name);
      this.logger.debug({ step: name }, 'step already completed: replaying its recorded result');
      return this.decode(unwrap(done.get(name))) as T;
    }
    const started = performance.now();
    const result = await fn();
    const encode = options.encrypt ?? true;
    const stored = await this.steps.record({
      runId: this.run_.runId,
      name,
      seq,
      job: this.run_.job,
      companyId: this.run_.companyId,
      result: encode && this.codec ? this.codec.encode(result) : result,
      attempt: this.run_.attempt,
      durationMs: performance.now() - started,
    });
    this.executedNow.push(name);
    done.set(name, stored);
    return result;
  }

  /** Names of steps whose results were replayed / executed in this attempt. */
  get replayed(): readonly string[] {
    return this.replayedNow;
  }

  get executed(): readonly string[] {
    return this.executedNow;
  }

  private decode(value: unknown): unknown {
    return this.codec ? this.codec.decode(value) : value;
  }
}
