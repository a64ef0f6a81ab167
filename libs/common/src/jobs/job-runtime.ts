import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { MessageHandler } from '@nestjs/microservices';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { IsISO8601, IsOptional, IsString } from 'class-validator';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { lazyLogger } from '../logging/lazy-logger.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from '../messaging/backoff.js';
import { MAX_ENVELOPE_BYTES, parseCloudEvent, type CloudEvent } from '../messaging/cloud-event.js';
import { ContractRegistry } from '../messaging/contracts/contract-registry.js';
import { CancelledError, errorText, RetryableError, SnoozeError } from '../messaging/errors.js';
import type { JetStreamContext } from '../messaging/jetstream.context.js';
import { JetStreamServer, type SettledMessage, type SettlementObserver } from '../messaging/jetstream.server.js';
import { NatsConnectionService } from '../messaging/nats-connection.service.js';
import { HEADERS, PRIORITIES, type Priority } from '../messaging/subjects.js';
import type { ConsumerDeclaration } from '../messaging/topology.js';
import { MetronomeMetrics } from '../metrics/metrics.registry.js';
import { AttemptAbort } from './attempt-abort.js';
import { deferDelay } from './defer-delay.js';
import { DueHold } from './due-hold.js';
import { JobControl } from './job-control.js';
import { JobDispatcher, type Waiting } from './job-dispatcher.js';
import { jobHandlerMetadata, type JobContext, type JobHandlerFn, type JobHandlerMetadata, type JobHandlerOptions } from './job-handler.decorator.js';
import type { RunStart, StartedRun, StoredRun } from './job-runs.repository.js';
import type { RunResult, RunState } from './job.types.js';
import { RunRecorder } from './run-recorder.js';
import { DurabilityHooks } from './durability/durability.service.js';
import { JobTimeoutPublisher } from './timeouts/job-timeout.publisher.js';

export const JOB_RUNTIME_OPTIONS = Symbol('JOB_RUNTIME_OPTIONS');

export interface JobRuntimeOptions {
  /** Every job this service handles: start-up fails unless each has exactly one @JobHandler. */
  names: string[];
  /** The per-priority durable consumers to pull (jobConsumerDeclarations(service)). */
  consumers: ConsumerDeclaration[];
  /** Handlers running at once in this process, all jobs together (default 16). */
  concurrency?: number;
}

export const DEFAULT_JOB_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_JOB_MAX_ATTEMPTS = 5;
const PULL_BATCH = 512;
/**
 * A message delivered at most this long before its scheduled time waits in
 * memory until then (the scheduler publishes look-ahead claims early); one due
 * later than that goes back to the stream until it is due.
 */
export const MAX_EARLY_HOLD_MS = 5_000;

/** The handler ran out of time: its signal aborted and the attempt is retried with backoff. */
export class JobTimeoutError extends RetryableError {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

/**
 * The contract the transport checks on every job message: a JobMessage
 * (runId, payload, scheduledFor) from the outbox, or a bare payload. The
 * handler's own `payload` class is checked by the runtime.
 */
export class JobEnvelope {
  @IsOptional()
  @IsString()
  runId?: string;

  @IsOptional()
  @IsISO8601()
  scheduledFor?: string;
}

interface JobSpec {
  name: string;
  owner: string;
  fn: JobHandlerFn;
  priority: Priority;
  maxAttempts: number;
  backoff: BackoffPolicy;
  timeoutMs: number;
  concurrency: number;
  tenantConcurrency?: number;
  payload?: JobHandlerOptions['payload'];
}

interface Held {
  msg: JsMsg;
  event: CloudEvent;
  /** Its payload, scheduled time and tenant, read from the envelope once. */
  parts: JobMessageParts;
  declaration: ConsumerDeclaration;
  spec: JobSpec;
  /** For a job delivered early: its run as stored, read while it waited. */
  stored?: Promise<StoredRun | undefined>;
}

interface Started {
  run: StartedRun;
  spec: JobSpec;
  priority: Priority;
  payload: unknown;
  scheduledFor?: Date;
  companyId?: string;
  /** Gives the dispatcher slot back once the handler returned (the ack still waits for the outcome's commit). */
  release: () => void;
}

type Outcome = { kind: 'result'; result: RunResult } | { kind: 'snooze' } | { kind: 'skip' };

const TERMINAL: RunState[] = ['succeeded', 'failed', 'dead', 'cancelled'];

/** Shared in-process state between the runtime and its settlement observer. */
@Injectable()
export class RunBook {
  readonly specs = new Map<string, JobSpec>();
  readonly outcomes = new Map<string, Outcome>();
}

const DEFERRAL_REASONS = ['tenant_full', 'paused', 'no_handler', 'stopping', 'database_unavailable', 'not_due'] as const;
type DeferralReason = (typeof DEFERRAL_REASONS)[number];

/** jobs.<priority>.<job>: the job name, for a message not yet parsed. */
function jobOfSubject(subject: string): string {
  return subject.split('.').slice(2).join('.') || 'unknown';
}

/** jobs.<priority>.<job>: the priority (normal when the token is not one). */
function priorityOf(subject: string): Priority {
  const start = subject.indexOf('.') + 1;
  const end = subject.indexOf('.', start);
  const token = subject.slice(start, end < 0 ? undefined : end);
  return (PRIORITIES as readonly string[]).includes(token) ? (token as Priority) : 'normal';
}

function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** The payload and scheduled time of a job message, whether it is a JobMessage or a bare payload. */
export function jobMessageOf(event: CloudEvent, msg?: JsMsg): JobMessageParts {
  const data = event.data as Record<string, unknown> | null;
  // Headers are decoded on first access: read them only when the body does not say.
  const header = () => msg?.headers?.get(HEADERS.scheduledFor) || undefined;
  const companyId = event.companyid ?? (typeof data?.companyId === 'string' ? data.companyId : undefined);
  if (data && typeof data === 'object' && typeof data.runId === 'string' && 'payload' in data) {
    const at = typeof data.scheduledFor === 'string' ? data.scheduledFor : header();
    return { payload: data.payload, scheduledFor: at ? new Date(at) : undefined, companyId };
  }
  const at = header();
  return { payload: data, scheduledFor: at ? new Date(at) : undefined, companyId };
}

export interface JobMessageParts {
  payload: unknown;
  scheduledFor?: Date;
  companyId?: string;
}

/**
 * The job runtime of one service process. At start it discovers `@JobHandler`
 * declarations, refuses to start unless every declared job has exactly one,
 * and registers each on the JetStream transport (so its typed settle, retry
 * and dead-letter path applies). It then pulls the service's per-priority
 * consumers into an in-process dispatcher (priorities by weight, tenants
 * round-robin, concurrency caps, pause) and runs each message through the
 * transport with the attempt counted in job_runs.
 */
@Injectable()
export class JobRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly dispatcher: JobDispatcher<Held>;
  private readonly payloads = new ContractRegistry();
  private readonly started = new WeakMap<JsMsg, Started>();
  private readonly active = new Map<string, AttemptAbort>();
  /** Messages whose handler is running: the heartbeat keeps their ack wait from running out. */
  private readonly running = new Set<JetStreamContext>();
  private readonly pulls: ConsumerMessages[] = [];
  private heartbeat?: NodeJS.Timeout;
  private roomWaiters: (() => void)[] = [];
  private stopping = false;
  private readonly slots: number;
  /** Handlers that returned and gave their slot back, whose outcome write and ack are still pending. */
  private settling = 0;
  private readonly maxSettling: number;
  /** Messages delivered ahead of their scheduled time, admitted to the dispatcher when due. */
  private readonly early = new DueHold<Held>((items) => {
    for (const h of items) this.admit(h);
  });

  constructor(
    @Inject(JOB_RUNTIME_OPTIONS) private readonly options: JobRuntimeOptions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly server: JetStreamServer,
    private readonly contracts: ContractRegistry,
    private readonly nats: NatsConnectionService,
    private readonly recorder: RunRecorder,
    private readonly control: JobControl,
    private readonly metrics: MetronomeMetrics,
    private readonly book: RunBook,
    private readonly durability: DurabilityHooks,
    private readonly timeouts: JobTimeoutPublisher,
  ) {
    this.slots = options.concurrency ?? 16;
    this.maxSettling = this.slots * 4;
    const jobs = config.jobs;
    this.dispatcher = new JobDispatcher<Held>({
      slots: this.slots,
      tenantBuffer: jobs.tenantBuffer,
      laneCapacity: Math.max(jobs.tenantBuffer * 8, this.slots * 4, PULL_BATCH),
      tenantConcurrency: (job) => this.book.specs.get(job)?.tenantConcurrency ?? jobs.tenantConcurrency,
      jobConcurrency: (job) => this.book.specs.get(job)?.concurrency ?? 0,
      isPaused: (job, priority) => this.control.isPaused(job) || this.control.isQueuePaused(priority),
    });
  }

  /** Discovers handlers and registers them; throws (start-up fails) listing every problem. */
  onModuleInit(): void {
    const found = new Map<string, { meta: JobHandlerMetadata; fn: JobHandlerFn; owner: string }[]>();
    const add = (meta: JobHandlerMetadata, fn: JobHandlerFn, owner: string) => {
      const list = found.get(meta.job) ?? [];
      list.push({ meta, fn, owner });
      found.set(meta.job, list);
    };
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || seen.has(instance) || !wrapper.metatype) continue;
      seen.add(instance);
      const classMeta = jobHandlerMetadata(wrapper.metatype);
      if (classMeta) {
        if (typeof instance.handle !== 'function') throw new Error(`${wrapper.metatype.name} is a @JobHandler class without a handle(context) method`);
        add(classMeta, (ctx) => (instance.handle as JobHandlerFn).call(instance, ctx), wrapper.metatype.name);
      }
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = (proto as Record<string, unknown>)[method];
        const meta = typeof fn === 'function' ? jobHandlerMetadata(fn) : undefined;
        if (meta) add(meta, (ctx) => (fn as JobHandlerFn).call(instance, ctx), `${wrapper.metatype.name}.${method}`);
      }
    }

    const problems: string[] = [];
    const declared = new Set(this.options.names);
    for (const name of declared) {
      const list = found.get(name) ?? [];
      if (list.length === 0) problems.push(`job "${name}" is declared but has no @JobHandler`);
      if (list.length > 1) problems.push(`job "${name}" has ${list.length} handlers: ${list.map((h) => h.owner).join(', ')}`);
    }
    for (const [name, list] of found) {
      if (!declared.has(name)) problems.push(`@JobHandler "${name}" (${list.map((h) => h.owner).join(', ')}) is not in this service's job list`);
    }
    for (const name of declared) {
      const uncovered = PRIORITIES.filter((p) => !this.options.consumers.some((c) => subjectMatches(c.filterSubject, `jobs.${p}.${name}`)));
      if (uncovered.length) problems.push(`job "${name}" has no consumer for priority ${uncovered.join(', ')}`);
    }
    for (const [name, [h]] of found) if (declared.has(name)) this.durability.register(name, h.meta.options);
    problems.push(...this.durability.problems());
    if (problems.length) throw new Error(`Job handlers are misdeclared:\n  - ${problems.join('\n  - ')}`);

    for (const [name, [h]] of found) {
      const o = h.meta.options;
      const spec: JobSpec = {
        name,
        owner: h.owner,
        fn: h.fn,
        priority: o.priority ?? 'normal',
        maxAttempts: o.maxAttempts ?? DEFAULT_JOB_MAX_ATTEMPTS,
        backoff: o.backoff ?? DEFAULT_BACKOFF,
        timeoutMs: o.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
        concurrency: o.concurrency ?? 0,
        tenantConcurrency: o.tenantConcurrency,
        payload: o.payload,
      };
      this.book.specs.set(name, spec);
      for (const reason of DEFERRAL_REASONS) this.metrics.jobDeferrals.inc({ job: name, reason }, 0);
      this.timeouts.declare(name);
      if (spec.payload) this.payloads.register(name, spec.payload);
      if (!this.contracts.has(name)) this.contracts.register(name, JobEnvelope);
      const handler = ((data: unknown, ctx: JetStreamContext) => this.invoke(spec, ctx)) as unknown as MessageHandler;
      this.server.addHandler(name, handler, true);
    }
    this.log.info({ jobs: [...this.book.specs.keys()] }, 'job handlers registered');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.control.watch();
    this.control.onPauseChange((job, paused) => {
      if (paused) {
        // Held messages of a paused job go back to the stream; running ones finish.
        for (const w of this.dispatcher.remove((x) => x.job === job)) this.defer(w.item.msg, this.config.jobs.pausedRecheckMs, w.job, 'paused');
      } else this.pump();
    });
    this.control.onQueuePauseChange((priority, paused) => {
      // A paused priority lane (queue.<priority>): the same, for every job of that priority.
      if (paused) {
        for (const w of this.dispatcher.remove((x) => x.priority === priority)) this.defer(w.item.msg, this.config.jobs.pausedRecheckMs, w.job, 'paused');
      } else this.pump();
    });
    this.control.onCancel((runId) => this.active.get(runId)?.abort(new CancelledError('cancelled by an operator')));
    const js = await this.nats.js();
    // A full priority lane means this process has plenty to do: wait for room instead of deferring
    // a backlog 10-60 s at a time (which collapses its throughput), but not so long that messages
    // pulled and not yet held (no keep-alive) reach their ack wait.
    const roomWaitMs = Math.min(...this.options.consumers.map((c) => c.ackWaitMs ?? this.config.ackWaitMs)) / 4;
    for (const declaration of this.options.consumers) {
      const consumer = await js.consumers.get(declaration.stream, declaration.durable);
      const messages = await consumer.consume({ max_messages: PULL_BATCH, expires: 5_000 });
      this.pulls.push(messages);
      void (async () => {
        try {
          for await (const msg of messages) {
            await this.room(priorityOf(msg.subject), roomWaitMs);
            this.accept(declaration, msg);
          }
        } catch (e) {
          if (!this.stopping) this.log.error({ consumer: declaration.durable, error: errorText(e) }, 'job consumer loop ended');
        }
      })();
    }
    const ackWait = Math.min(...this.options.consumers.map((c) => c.ackWaitMs ?? this.config.ackWaitMs));
    // One timer for every message this process holds (waiting, early, running), not one per job.
    this.heartbeat = setInterval(() => {
      for (const w of this.dispatcher.all()) w.item.msg.working();
      for (const h of this.early.all()) h.msg.working();
      for (const ctx of this.running) ctx.working();
    }, Math.max(100, ackWait / 2));
    this.log.info({ consumers: this.options.consumers.map((c) => c.durable), slots: this.slots }, 'job runtime started');
  }

  /** Stops pulling, returns held messages, lets running handlers finish within the grace period. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.heartbeat);
    for (const p of this.pulls) {
      try {
        p.stop();
      } catch {
        // already stopped
      }
    }
    for (const w of this.dispatcher.remove(() => true)) this.defer(w.item.msg, 0, w.job, 'stopping');
    const now = Date.now();
    for (const { dueAt, item } of this.early.drain()) this.defer(item.msg, Math.max(0, dueAt - now), item.spec.name, 'stopping');
    const deadline = Date.now() + this.config.shutdownGraceMs;
    while ((this.dispatcher.inFlight > 0 || this.settling > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.dispatcher.inFlight > 0) this.log.warn({ running: this.dispatcher.inFlight }, 'job handlers still running at the end of the grace period');
    await this.recorder.flush().catch(() => undefined);
    this.control.stop();
  }

  /** Handlers running, messages waiting for a slot, and messages held until their scheduled time, in this process. */
  stats(): { running: number; waiting: number; early: number } {
    return { running: this.dispatcher.inFlight, waiting: this.dispatcher.waiting, early: this.early.size };
  }

  private defer(msg: JsMsg, delayMs: number, job: string, reason: DeferralReason): void {
    this.metrics.jobDeferrals.inc({ job, reason });
    try {
      msg.nak(delayMs);
    } catch {
      // the connection is gone: the ack wait brings it back
    }
  }

  private accept(declaration: ConsumerDeclaration, msg: JsMsg): void {
    if (this.stopping) return this.defer(msg, 0, jobOfSubject(msg.subject), 'stopping');
    let event: CloudEvent;
    try {
      event = parseCloudEvent(msg.data, MAX_ENVELOPE_BYTES);
    } catch {
      // Not a CloudEvent: the transport dead-letters it with the reason.
      void this.server.dispatch(declaration, msg);
      return;
    }
    const spec = this.book.specs.get(event.type);
    if (!spec) {
      // A job this version does not handle (a rolling deploy): leave it for a worker that does.
      this.log.warn({ job: event.type, consumer: declaration.durable }, 'no handler for this job here; deferring it');
      return this.defer(msg, 60_000, 'unknown', 'no_handler');
    }
    const parts = jobMessageOf(event, msg);
    const held: Held = { msg, event, parts, declaration, spec };
    // A job never starts before its scheduled time: one delivered early waits here, not in a slot.
    const { scheduledFor } = parts;
    const early = scheduledFor ? scheduledFor.getTime() - Date.now() : 0;
    if (early > MAX_EARLY_HOLD_MS) return this.defer(msg, early, spec.name, 'not_due');
    if (early > 0) {
      // Read its run meanwhile, so at the due instant the handler need not wait for Postgres.
      held.stored = this.recorder.peek(event.id).catch(() => undefined);
      return this.early.hold(scheduledFor!.getTime(), held);
    }
    this.admit(held);
  }

  /** Offers a due message to the dispatcher (or hands it back: paused, tenant buffer full). */
  private admit(held: Held): void {
    const { msg, spec } = held;
    if (this.stopping) return this.defer(msg, 0, spec.name, 'stopping');
    const priority = priorityOf(msg.subject);
    if (this.control.isPaused(spec.name) || this.control.isQueuePaused(priority)) return this.defer(msg, this.config.jobs.pausedRecheckMs, spec.name, 'paused');
    const waiting: Waiting<Held> = { item: held, job: spec.name, tenant: held.parts.companyId ?? '', priority };
    if (!this.dispatcher.offer(waiting)) return this.defer(msg, deferDelay(msg.info.deliveryCount), spec.name, 'tenant_full');
    this.pump();
  }

  private pump(): void {
    if (this.stopping) return;
    for (let w = this.dispatcher.next(); w; w = this.dispatcher.next()) void this.execute(w);
    if (this.roomWaiters.length) for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /** Resolves when the priority's lane has room, the runtime stops, or after `maxWaitMs`. */
  private async room(priority: Priority, maxWaitMs: number): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    while (!this.stopping && !this.dispatcher.hasRoom(priority) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.roomWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async execute(w: Waiting<Held>): Promise<void> {
    const { msg, event, declaration, spec } = w.item;
    // The slot is given back when the handler returns, not when its outcome is committed and
    // acked, so `concurrency` bounds running handlers rather than handlers waiting on Postgres;
    // at most maxSettling finished jobs wait for their outcome write at once (beyond that the
    // slot is held until the ack, which throttles the pull).
    let held = true;
    let early = false;
    const release = () => {
      if (!held || this.settling >= this.maxSettling) return;
      held = false;
      early = true;
      this.settling++;
      this.dispatcher.done(w);
      this.pump();
    };
    try {
      const { payload, scheduledFor, companyId } = w.item.parts;
      const start: RunStart = {
        id: event.id,
        job: spec.name,
        priority: w.priority,
        companyId: companyId ?? null,
        maxAttempts: spec.maxAttempts,
        payload,
        scheduledFor: scheduledFor ?? new Date(event.time),
        startedAt: new Date(),
        publishedAt: new Date(msg.info.timestampNanos / 1e6),
      };
      const run = (w.item.stored && (await this.startAhead(await w.item.stored, start))) || (await this.recorder.start(start));
      this.started.set(msg, { run, spec, priority: w.priority, payload, scheduledFor, companyId, release });
      const perJob: ConsumerDeclaration = { ...declaration, maxAttempts: run.maxAttempts, backoff: run.options?.backoff ?? spec.backoff };
      await this.server.dispatch(perJob, msg, run.attempts, event);
    } catch (e) {
      // Recording the start failed (database away): the message comes back later, no attempt counted.
      this.log.error({ runId: event.id, job: spec.name, error: errorText(e) }, 'could not start job run; retrying later');
      this.defer(msg, backoffDelay(spec.backoff, 1), spec.name, 'database_unavailable');
    } finally {
      if (early) this.settling--;
      if (held) {
        held = false;
        this.dispatcher.done(w);
      }
      this.pump();
    }
  }

  /**
   * A job delivered early whose run was read while it waited starts without
   * waiting for its start write (a 1,000-row write at one instant takes tens of
   * ms): the attempt is the stored count plus one, the write goes out now and
   * the outcome waits for it (RunRecorder.startBehind). Undefined (start the usual
   * way) when the run has no row yet, is finished, or is running elsewhere.
   */
  private startAhead(stored: StoredRun | undefined, start: RunStart): StartedRun | undefined {
    if (!stored || stored.state === 'running' || TERMINAL.includes(stored.state)) return undefined;
    const expected = stored.attempts + 1;
    void this.recorder.startBehind(start).then(
      (r) => {
        if (r.attempts !== expected) this.log.warn({ runId: start.id, job: start.job, expected, recorded: r.attempts }, 'run changed while its job waited to start');
      },
      (e: unknown) => this.log.error({ runId: start.id, job: start.job, error: errorText(e) }, 'could not record the start of a run already running'),
    );
    return { id: stored.id, attempts: expected, maxAttempts: stored.maxAttempts, state: 'running', options: stored.options };
  }

  /** The handler registered on the transport: runs after the envelope passed its contract. */
  private async invoke(spec: JobSpec, ctx: JetStreamContext): Promise<void> {
    const info = this.started.get(ctx.message);
    if (!info) throw new RetryableError(`job "${spec.name}" reached the transport outside the job runtime: serve it through the job consumers`);
    const runId = ctx.eventId;
    const { run } = info;
    if (run.state === 'cancelled') throw new CancelledError('cancelled before it started');
    if (TERMINAL.includes(run.state)) {
      this.book.outcomes.set(runId, { kind: 'skip' });
      return;
    }
    const companyId = ctx.companyId ?? info.companyId;
    // Sensitive fields are decrypted here, for the handler only (docs/durability.md).
    const durable = await this.durability.prepare({
      runId, job: spec.name, companyId, attempt: run.attempts, scheduledFor: info.scheduledFor, payload: info.payload, event: ctx.event,
      logger: lazyLogger(() => this.log.child({ runId, job: spec.name, companyId, attempt: run.attempts })),
    });
    let payload: unknown;
    try {
      payload = spec.payload ? await this.payloads.validate(spec.name, durable.payload) : durable.payload;
    } catch (e) {
      durable.done();
      throw e;
    }
    if (run.attempts === 1 && info.scheduledFor) {
      this.metrics.jobLateness.observe({ job: spec.name, stage: 'started' }, Math.max(0, Date.now() - info.scheduledFor.getTime()) / 1000);
    }
    const timeoutMs = run.options?.timeoutMs ?? spec.timeoutMs;
    const abort = new AttemptAbort();
    const timer = setTimeout(() => abort.abort(new JobTimeoutError(timeoutMs)), timeoutMs);
    this.running.add(ctx);
    this.active.set(runId, abort);
    if (this.control.isCancelled(runId)) abort.abort(new CancelledError('cancelled by an operator'));
    const logger = durable.logger;
    const context: JobContext = {
      runId,
      job: spec.name,
      companyId,
      payload,
      attempt: run.attempts,
      maxAttempts: run.maxAttempts,
      priority: info.priority,
      scheduledFor: info.scheduledFor,
      logger,
      get signal() {
        return abort.signal;
      },
      progress: (percent, message) => {
        const p = Math.max(0, Math.min(100, Math.round(percent)));
        return this.recorder.progress({ id: runId, progress: p, message: message ?? null }).catch((e) => {
          logger.warn({ error: errorText(e) }, 'could not record progress');
        });
      },
      working: () => ctx.working(),
      throwIfAborted: () => {
        if (abort.aborted) throw abort.reason;
      },
      step: durable.step,
      childResults: durable.childResults,
    };
    try {
      const work = Promise.resolve().then(() => spec.fn(context));
      const result = await abort.race(work);
      this.book.outcomes.set(runId, { kind: 'result', result: normalize(result) });
    } catch (e) {
      const reason: unknown = abort.aborted ? abort.reason : undefined;
      if (reason instanceof CancelledError) throw reason;
      if (reason instanceof JobTimeoutError) {
        logger.warn({ timeoutMs }, 'job timed out; retrying with backoff');
        this.timeouts.timedOut({ runId, job: spec.name, companyId, attempt: run.attempts, maxAttempts: run.maxAttempts, timeoutMs });
        throw reason;
      }
      if (e instanceof SnoozeError) this.book.outcomes.set(runId, { kind: 'snooze' });
      throw e;
    } finally {
      clearTimeout(timer);
      this.running.delete(ctx);
      durable.done();
      this.active.delete(runId);
      info.release();
    }
  }
}

function normalize(result: RunResult | void | undefined): RunResult {
  if (!result || typeof result !== 'object') return { status: 'success' };
  return { ...result, status: result.status ?? 'success' };
}

/**
 * Records each job run's outcome in job_runs before its message is acked
 * (the transport awaits observers before settling), plus the run metrics.
 */
@Injectable()
export class RunHistoryObserver implements SettlementObserver {
  constructor(
    private readonly book: RunBook,
    private readonly recorder: RunRecorder,
    private readonly control: JobControl,
    private readonly metrics: MetronomeMetrics,
  ) {}

  async onSettled(s: SettledMessage): Promise<void> {
    const event = s.event;
    if (!event || !this.book.specs.has(event.type) || !s.subject.startsWith('jobs.')) return;
    const runId = event.id;
    const outcome = this.book.outcomes.get(runId);
    this.book.outcomes.delete(runId);
    if (outcome?.kind === 'skip' || s.settlement === 'ignored') return;
    const result = outcome?.kind === 'result' ? outcome.result : undefined;
    let state: RunState;
    let attemptsDelta = 0;
    switch (s.settlement) {
      case 'acked':
        state = result?.status === 'failure' ? 'failed' : 'succeeded';
        break;
      case 'retried':
        state = outcome?.kind === 'snooze' ? 'queued' : 'retrying';
        if (outcome?.kind === 'snooze') attemptsDelta = -1;
        break;
      case 'cancelled':
        state = 'cancelled';
        break;
      default:
        state = 'dead';
    }
    const finished = state === 'retrying' || state === 'queued' ? null : new Date();
    const stored = {
      status: result?.status ?? (state === 'succeeded' ? 'success' : 'failure'),
      durationMs: Math.round(s.durationMs),
      recordsProcessed: result?.recordsProcessed,
      message: result?.message,
      data: result?.data,
    };
    await this.recorder.settle({ id: runId, state, finishedAt: finished, error: s.error ?? (state === 'failed' ? result?.message ?? 'failed' : null), result: stored, attemptsDelta, attempt: s.attempt });
    const queue = priorityOf(s.subject);
    this.metrics.jobRuns.inc({ job: event.type, queue, outcome: state });
    this.metrics.jobDuration.observe({ job: event.type, queue, outcome: state }, s.durationMs / 1000);
    if (state === 'cancelled') void this.control.cancellationDone(runId);
  }
}
