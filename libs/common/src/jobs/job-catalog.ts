import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER, SERVICE_NAME } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { errorText } from '../messaging/errors.js';
import { KvBuckets } from '../messaging/kv-buckets.js';
import { JOB_CATALOG_BUCKET, type Priority } from '../messaging/subjects.js';
import type { JobHandlerOptions } from './job-handler.decorator.js';

/** What a service says about one of its jobs; the scheduler decides who may enqueue it from this. */
export interface JobDeclaration {
  job: string;
  service: string;
  /** Spans tenants or acts for the platform: only platform administrators (and the scheduler itself) start it. */
  platform: boolean;
  /** Tenant roles may name it in their schedules and triggers. */
  tenantSchedulable: boolean;
  priority: Priority;
  maxAttempts: number;
  timeoutMs: number;
  concurrency?: number;
  tenantConcurrency?: number;
  dependsOn?: string[];
  /** When and by which process it was last published. */
  announcedAt: string;
  instance: string;
}

/** The parts of a registered handler a declaration is made of (the runtime's spec, defaults applied). */
export interface DeclaredJob {
  name: string;
  priority: Priority;
  maxAttempts: number;
  timeoutMs: number;
}

/** A declaration that contradicts itself (start-up fails). */
export class JobDeclarationError extends Error {
  constructor(problems: string[]) {
    super(`Job declarations are invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'JobDeclarationError';
  }
}

/** The declaration of one job from its handler's spec and @JobHandler options. */
export function jobDeclaration(service: string, instance: string, spec: DeclaredJob, options: JobHandlerOptions, at = new Date()): JobDeclaration {
  return {
    job: spec.name,
    service,
    platform: options.platform === true,
    tenantSchedulable: options.tenantSchedulable === true,
    priority: spec.priority,
    maxAttempts: spec.maxAttempts,
    timeoutMs: spec.timeoutMs,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.tenantConcurrency !== undefined ? { tenantConcurrency: options.tenantConcurrency } : {}),
    ...(options.dependsOn?.length ? { dependsOn: [...options.dependsOn] } : {}),
    announcedAt: at.toISOString(),
    instance,
  };
}

function parse(value: Uint8Array): JobDeclaration | undefined {
  try {
    const d = JSON.parse(new TextDecoder().decode(value)) as Partial<JobDeclaration>;
    if (typeof d?.job !== 'string' || typeof d.service !== 'string') return undefined;
    return { ...d, platform: d.platform === true, tenantSchedulable: d.tenantSchedulable === true } as JobDeclaration;
  } catch {
    return undefined;
  }
}

const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/**
 * The catalog of job declarations in the JetStream KV bucket `job-catalog`
 * (key: job name). Each service's job runtime announces its handlers'
 * declarations at start (`announce`, published once NATS is up, retried in the
 * background if the bucket cannot be written); the scheduler, which may run in
 * another process than the handlers, watches the bucket and holds it in memory
 * (`watch`, `get`). A job nobody declared is unknown: callers decide what that
 * means (the admin API refuses it to tenant roles).
 */
@Injectable()
export class JobCatalog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private pending: JobDeclaration[] = [];
  private readonly known = new Map<string, JobDeclaration>();
  private watcher?: QueuedIterator<KvWatchEntry>;
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly buckets: KvBuckets,
    @Inject(SERVICE_NAME) private readonly service: string,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  /**
   * Declares this process's jobs (called once by the job runtime while it
   * registers handlers; the scheduler declares its own consumer jobs the same
   * way). Throws when a declaration contradicts itself. Published at bootstrap.
   */
  announce(specs: Iterable<DeclaredJob>, optionsOf: (job: string) => JobHandlerOptions): void {
    const problems: string[] = [];
    for (const spec of specs) {
      const options = optionsOf(spec.name);
      if (options.platform && options.tenantSchedulable) problems.push(`job "${spec.name}" is declared both platform and tenantSchedulable`);
      this.pending.push(jobDeclaration(this.service, this.config.instanceId, spec, options));
    }
    if (problems.length) throw new JobDeclarationError(problems);
    // Known locally at once: a scheduler in the same process answers without waiting for the bucket.
    for (const d of this.pending) this.known.set(d.job, d);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.pending.length) await this.publish(0);
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.watcher?.stop();
    this.watcher = undefined;
  }

  private async publish(attempt: number): Promise<void> {
    try {
      const kv = await this.bucket();
      for (const d of this.pending) await kv.put(d.job, JSON.stringify(d));
      this.log.info({ jobs: this.pending.map((d) => d.job) }, 'job declarations published');
    } catch (e) {
      if (this.stopped) return;
      // The service runs without it; the scheduler refuses unknown jobs to tenant roles meanwhile.
      const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
      this.log.error({ bucket: JOB_CATALOG_BUCKET, error: errorText(e), retryInMs: delay }, 'could not publish job declarations; retrying');
      this.retry = setTimeout(() => void this.publish(attempt + 1), delay);
      this.retry.unref();
    }
  }

  private bucket(): Promise<KV> {
    return this.buckets.open(JOB_CATALOG_BUCKET);
  }

  /** Starts following the bucket; resolves once the declarations present now are loaded. */
  async watch(): Promise<void> {
    if (this.watcher) return;
    const kv = await this.bucket();
    this.watcher = await kv.watch({ key: '>' });
    void (async () => {
      try {
        for await (const e of this.watcher!) this.apply(e.key, e.operation, e.value);
      } catch (e) {
        if (!this.stopped) this.log.warn({ error: errorText(e) }, 'job catalog watch ended');
      }
    })();
    for await (const key of await kv.keys('>')) {
      const entry = await kv.get(key);
      if (entry) this.apply(key, entry.operation, entry.value);
    }
  }

  private apply(key: string, operation: string, value: Uint8Array): void {
    if (operation !== 'PUT') {
      this.known.delete(key);
      return;
    }
    const d = parse(value);
    if (d && d.job === key) this.known.set(key, d);
  }

  /** The declaration of a job, or undefined when no service declared it. */
  get(job: string): JobDeclaration | undefined {
    return this.known.get(job);
  }

  all(): JobDeclaration[] {
    return [...this.known.values()].sort((a, b) => a.job.localeCompare(b.job));
  }
}
