import { createHash, randomUUID } from 'node:crypto';
import { afterCommit, inAmbient } from '../audit/ambient-transaction.js';
import { Global, Inject, Injectable, Module, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { createCloudEvent } from '../messaging/cloud-event.js';
import { EventPublisher } from '../messaging/event-publisher.js';
import { assertSubjectToken, HEADERS, subjects, type Priority } from '../messaging/subjects.js';
import { EncryptionNotConfiguredError, FieldEncryption, sensitiveFieldsOf } from '../crypto/field-cipher.js';
import { Clock, SystemClock } from './clock.js';
import type { JobMessage, JobOptions } from './job.types.js';
import { OutboxRelay, outboxRowOf } from './outbox-relay.js';
import { OutboxRepository, type PlannedRun } from './outbox.repository.js';
import { DEFAULT_JOB_MAX_ATTEMPTS } from './runtime/job-spec.js';
import { toPriority, type PriorityInput } from './priority.js';

export const DEFAULT_MAX_ATTEMPTS = DEFAULT_JOB_MAX_ATTEMPTS;
/** Enqueue transactions of single `enqueue()` calls in flight at once before later calls are grouped. */
const COALESCE_TRANSACTIONS = 2;
const COALESCE_MAX_RUNS = 500;
/** How long an idempotency key returns the same run by default. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;
/** Delayed runs due within this are published by a timer in the enqueuing process; later ones by a relay. */
export const MAX_IN_PROCESS_DELAY_MS = 60_000;

export interface EnqueueOptions extends Partial<Omit<JobOptions, 'priority'>> {
  /** A name (critical, high, normal, low) or the seeds' number (1, 5, 10, 15). */
  priority?: PriorityInput;
  companyId?: string;
  /** Publish no earlier than this many milliseconds from now. */
  delayMs?: number;
  /** Publish no earlier than this time (wins over delayMs). */
  runAt?: Date;
  /** The same (job, key) within the window returns the run already planned. */
  idempotencyKey?: string;
  idempotencyWindowMs?: number;
  /** Set by the scheduler. */
  scheduleId?: string;
  occurrenceAt?: Date;
  runId?: string;
  /** Payload fields to encrypt besides those the job declares (@JobHandler `sensitive`, registerSensitiveFields). */
  sensitive?: string[];
}

export interface EnqueueRequest<P = unknown> {
  job: string;
  payload: P;
  options?: EnqueueOptions;
}

export interface EnqueuedRun {
  runId: string;
  job: string;
  scheduledFor: Date;
  /** False when an idempotency key matched an existing run, which is returned instead. */
  created: boolean;
  state: string;
}

/** A deterministic run id (UUID-shaped) for a schedule occurrence, so every replica derives the same Nats-Msg-Id. */
export function occurrenceRunId(scheduleId: string, occurrenceAt: Date | string, companyId: string | null | undefined, discriminator = ''): string {
  const at = typeof occurrenceAt === 'string' ? occurrenceAt : occurrenceAt.toISOString();
  const h = createHash('sha256').update(`${scheduleId}|${at}|${companyId ?? ''}|${discriminator}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The body of a job message (CloudEvent data); only what differs from the handler's defaults is carried. */
function jobMessage(input: { runId: string; payload: unknown; scheduledFor: Date; companyId: string | null; maxAttempts?: number; options?: Partial<JobOptions>; planned: boolean }): JobMessage {
  const data: JobMessage = { runId: input.runId, payload: input.payload ?? {}, scheduledFor: input.scheduledFor.toISOString() };
  if (input.companyId) data.companyId = input.companyId;
  if (input.planned) data.planned = true;
  if (input.maxAttempts) data.maxAttempts = input.maxAttempts;
  if (input.options && Object.keys(input.options).length) data.options = input.options;
  return data;
}

interface GatheredCall {
  message: DirectMessage;
  resolve: (r: EnqueuedRun) => void;
  reject: (e: unknown) => void;
}

interface DirectMessage {
  subject: string;
  event: ReturnType<typeof createCloudEvent<JobMessage>>;
  job: string;
  scheduledFor: Date;
}

/** Whether a request can go straight to JetStream: due now, no run id or idempotency key of its own, not part of a schedule. */
function isDirect(r: EnqueueRequest, now: number): boolean {
  const o = r.options;
  if (!o) return true;
  if (o.idempotencyKey || o.runId || o.scheduleId || o.occurrenceAt) return false;
  const at = o.runAt ? o.runAt.getTime() : now + (o.delayMs ?? 0);
  return at <= now;
}

/**
 * Builds the job_runs row and its outbox row (a CloudEvent whose id is the run
 * id, type the job name and data a JobMessage) for one run.
 */
export function planRun(input: {
  source: string;
  job: string;
  payload: unknown;
  now: Date;
  runId?: string;
  companyId?: string | null;
  scheduleId?: string | null;
  occurrenceAt?: Date | null;
  scheduledFor?: Date;
  notBefore?: Date | null;
  idempotencyKey?: string | null;
  options?: (Partial<Omit<JobOptions, 'priority'>> & { priority?: PriorityInput }) | null;
}): PlannedRun {
  const o = input.options ?? {};
  const priority: Priority = toPriority(o.priority ?? 'normal');
  const id = input.runId ?? randomUUID();
  const scheduledFor = input.scheduledFor ?? input.now;
  const companyId = input.companyId ?? null;
  const extra: Partial<JobOptions> = {};
  if (o.backoff) extra.backoff = o.backoff;
  if (o.timeoutMs) extra.timeoutMs = o.timeoutMs;
  if (o.concurrency) extra.concurrency = o.concurrency;
  const data = jobMessage({ runId: id, payload: input.payload, scheduledFor, companyId, maxAttempts: o.maxAttempts, options: extra, planned: true });
  if (input.scheduleId) data.scheduleId = input.scheduleId;
  const body = createCloudEvent({ type: input.job, source: input.source, data, companyId: companyId ?? undefined, id, time: input.now });
  return {
    id,
    job: input.job,
    queue: priority,
    companyId,
    scheduleId: input.scheduleId ?? null,
    occurrenceAt: input.occurrenceAt ?? null,
    priority,
    maxAttempts: o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    payload: input.payload ?? {},
    idempotencyKey: input.idempotencyKey ?? null,
    scheduledFor,
    options: Object.keys(extra).length ? extra : null,
    subject: subjects.job(priority, input.job),
    body,
    headers: { [HEADERS.runId]: id, [HEADERS.scheduledFor]: scheduledFor.toISOString() },
    notBefore: input.notBefore ?? null,
    createdAt: input.now,
  };
}

/**
 * Enqueues jobs from any service. A job due now goes straight to JetStream
 * (Nats-Msg-Id = run id, many publishes in flight) and the call returns once
 * the stream has it: no Postgres write before the handler starts. Jobs that
 * need a plan take the transactional outbox instead — delayed ones, ones with
 * an idempotency key or an explicit run id, schedule occurrences, and
 * `enqueueInTransaction`, where the jobs commit with the caller's own rows:
 * job_runs and outbox rows in one transaction, published after the commit,
 * relayed later with the same Nats-Msg-Id if the process dies in between.
 */
@Injectable()
export class JobEnqueuer {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly publisher: EventPublisher,
    private readonly clock: Clock,
    @Optional() private readonly cipher?: FieldEncryption,
    @Optional() @Inject(APP_CONFIG) config?: AppConfig,
  ) {
    this.packMax = config?.jobs.packMax ?? 1;
  }

  /** Due-now jobs of one subject published together share one message (JOB_PACK_MAX). */
  private readonly packMax: number;
  /** Due-now single calls made while a publish was in flight, published together (in packs) at the end of the tick. */
  private gathered: GatheredCall[] = [];
  private packPublishes = 0;

  /** The payload with the job's sensitive fields encrypted (docs/durability.md): they never leave this process in clear. */
  private protect(job: string, payload: unknown, extra: string[] | undefined): unknown {
    const paths = extra?.length ? [...sensitiveFieldsOf(job), ...extra] : sensitiveFieldsOf(job);
    if (paths.length === 0) return payload;
    if (!this.cipher?.enabled) throw new EncryptionNotConfiguredError(`job "${job}" has sensitive fields`);
    return this.cipher.encryptPaths(payload, paths);
  }

  private coalesced: { request: EnqueueRequest; resolve: (r: EnqueuedRun) => void; reject: (e: unknown) => void }[] = [];
  private coalescing = 0;

  /**
   * One run. Due now: published straight to JetStream. Otherwise planned
   * through the outbox; concurrent planned calls are group-committed (while
   * COALESCE_TRANSACTIONS transactions are in flight, later calls go together
   * in the next one). Calls with an idempotency key or an explicit run id keep
   * their own transaction; a batch that fails is retried call by call.
   */
  async enqueue<P>(job: string, payload: P, options: EnqueueOptions = {}): Promise<EnqueuedRun> {
    const request: EnqueueRequest = { job, payload, options };
    if (isDirect(request, this.clock.now().getTime())) {
      if (this.packMax > 1) return this.packWithOthers(request);
      return (await this.publishDirect([request]))[0];
    }
    // Inside an audited transaction the run is planned in it (a savepoint), never group-committed with other callers'.
    if (options.idempotencyKey || options.runId || inAmbient()) return (await this.enqueueMany([request]))[0];
    return new Promise<EnqueuedRun>((resolve, reject) => {
      this.coalesced.push({ request, resolve, reject });
      this.drainCoalesced();
    });
  }

  /**
   * Concurrent callers' due-now jobs share packs: a call made while a publish
   * of this kind is in flight waits for the end of the tick (setImmediate) and
   * goes with the tick's other calls. A call that finds nothing in flight is
   * published at once, so a quiet producer adds no wait to its jobs.
   */
  private packWithOthers(request: EnqueueRequest): Promise<EnqueuedRun> {
    return new Promise<EnqueuedRun>((resolve, reject) => {
      const call = { message: this.directMessage(request, this.clock.now()), resolve, reject };
      if (this.packPublishes === 0) return this.publishGathered([call]);
      this.gathered.push(call);
      if (this.gathered.length === 1) setImmediate(() => this.publishGathered(this.gathered.splice(0)));
    });
  }

  private publishGathered(batch: GatheredCall[]): void {
    this.packPublishes++;
    void this.publishBuilt(batch.map((b) => b.message))
      .then(
        (runs) => batch.forEach((b, i) => b.resolve(runs[i])),
        (e: unknown) => batch.forEach((b) => b.reject(e)),
      )
      .finally(() => this.packPublishes--);
  }

  private drainCoalesced(): void {
    while (this.coalescing < COALESCE_TRANSACTIONS && this.coalesced.length) {
      const batch = this.coalesced.splice(0, COALESCE_MAX_RUNS);
      this.coalescing++;
      let slotHeld = true;
      const releaseSlot = () => {
        if (!slotHeld) return;
        slotHeld = false;
        this.coalescing--;
        this.drainCoalesced();
      };
      void this.commit(batch.map((p) => p.request))
        .then(
          async ({ runs, publish }) => {
            // The slot bounds transactions, not publishes: the next group commits while this one's are acknowledged.
            releaseSlot();
            await publish();
            batch.forEach((p, i) => p.resolve(runs[i]));
          },
          async (e) => {
            if (batch.length === 1) return batch[0].reject(e);
            await Promise.all(batch.map((p) => this.enqueueMany([p.request]).then((r) => p.resolve(r[0]), p.reject)));
          },
        )
        .catch((e: unknown) => batch.forEach((p) => p.reject(e)))
        .finally(releaseSlot);
    }
  }

  /**
   * Many runs; results in request order. Those due now are published straight
   * to JetStream together; the rest are planned in one transaction and one
   * multi-row INSERT.
   */
  async enqueueMany(requests: EnqueueRequest[]): Promise<EnqueuedRun[]> {
    const now = this.clock.now().getTime();
    const direct: number[] = [];
    const planned: number[] = [];
    requests.forEach((r, i) => (isDirect(r, now) ? direct : planned).push(i));
    const out = new Array<EnqueuedRun>(requests.length);
    const work: Promise<void>[] = [];
    if (direct.length) work.push(this.publishDirect(direct.map((i) => requests[i])).then((runs) => runs.forEach((r, k) => (out[direct[k]] = r))));
    if (planned.length) {
      work.push((async () => {
        const { runs, publish } = await this.commit(planned.map((i) => requests[i]));
        await publish();
        runs.forEach((r, k) => (out[planned[k]] = r));
      })());
    }
    await Promise.all(work);
    return out;
  }

  /**
   * Plans runs inside the caller's transaction, so a domain change and the
   * jobs it causes commit together; call `publish()` after the commit (a relay
   * publishes them anyway if the process dies first).
   */
  enqueueInTransaction(tx: EntityManager, requests: EnqueueRequest[]): Promise<{ runs: EnqueuedRun[]; publish: () => Promise<void> }> {
    return this.enqueueWithin(tx, requests);
  }

  /** Jobs due now, straight to JetStream; resolves once the stream stored them all. */
  private async publishDirect(requests: EnqueueRequest[]): Promise<EnqueuedRun[]> {
    const now = this.clock.now();
    return this.publishBuilt(requests.map((r) => this.directMessage(r, now)));
  }

  /** A due-now job's message; throws for this request alone (a bad name, a sensitive field without encryption). */
  private directMessage(r: EnqueueRequest, now: Date): DirectMessage {
    for (const token of r.job.split('.')) assertSubjectToken(token, 'job name segment');
    const o = r.options ?? {};
    const priority: Priority = toPriority(o.priority ?? 'normal');
    const companyId = o.companyId ?? null;
    if (companyId !== null) assertSubjectToken(companyId, 'companyId');
    const runId = randomUUID();
    const options: Partial<JobOptions> = {};
    if (o.backoff) options.backoff = o.backoff;
    if (o.timeoutMs) options.timeoutMs = o.timeoutMs;
    // A runAt in the past keeps its time: lateness and SLAs count from it.
    const scheduledFor = o.runAt ?? now;
    const data = jobMessage({ runId, payload: this.protect(r.job, r.payload, o.sensitive), scheduledFor, companyId, maxAttempts: o.maxAttempts, options, planned: false });
    const event = createCloudEvent({ type: r.job, source: this.publisher.source, data, companyId: companyId ?? undefined, id: runId, time: now });
    return { subject: subjects.job(priority, r.job), event, job: r.job, scheduledFor };
  }

  private async publishBuilt(messages: DirectMessage[]): Promise<EnqueuedRun[]> {
    const acks = await this.publisher.publishMany(messages, this.packMax);
    return acks.map((a, i) => ({ runId: a.id, job: messages[i].job, scheduledFor: messages[i].scheduledFor, created: !a.duplicate, state: 'queued' }));
  }

  /**
   * Writes the runs and their outbox rows. Without idempotency keys that is one
   * statement, atomic on its own, so it runs without BEGIN/COMMIT round trips;
   * keys need their locks and lookups in one transaction with the insert.
   */
  private commit(requests: EnqueueRequest[]): Promise<{ runs: EnqueuedRun[]; publish: () => Promise<void> }> {
    if (requests.some((r) => r.options?.idempotencyKey)) return this.outbox.transaction((tx) => this.enqueueWithin(tx, requests));
    return this.enqueueWithin(this.outbox.db, requests);
  }

  /**
   * Plans runs inside the caller's transaction (so a domain change and the jobs
   * it causes commit together). Call `publish()` after the commit.
   */
  async enqueueWithin(tx: EntityManager, requests: EnqueueRequest[]): Promise<{ runs: EnqueuedRun[]; publish: () => Promise<void> }> {
    const now = this.clock.now();
    for (const r of requests) {
      for (const token of r.job.split('.')) assertSubjectToken(token, 'job name segment');
      if (r.options?.delayMs !== undefined && (!Number.isFinite(r.options.delayMs) || r.options.delayMs < 0)) {
        throw new RangeError(`delayMs must be a non-negative number, got ${r.options.delayMs}`);
      }
    }
    const keyed = requests.filter((r) => r.options?.idempotencyKey);
    const existing = new Map<string, EnqueuedRun>();
    if (keyed.length) {
      await this.outbox.lockIdempotencyKeys(tx, keyed.map((r) => `${r.job}\u001f${r.options!.idempotencyKey!}`));
      const window = Math.max(...keyed.map((r) => r.options?.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS));
      const found = await this.outbox.findByIdempotencyKeys(tx, keyed.map((r) => ({ job: r.job, key: r.options!.idempotencyKey! })), new Date(now.getTime() - window));
      for (const f of found) existing.set(`${f.job}\u001f${f.idempotencyKey}`, { runId: f.id, job: f.job, scheduledFor: f.scheduledFor, created: false, state: f.state });
    }

    const results: EnqueuedRun[] = [];
    const planned: PlannedRun[] = [];
    const plannedByKey = new Map<string, EnqueuedRun>();
    for (const r of requests) {
      const o = r.options ?? {};
      const key = o.idempotencyKey ? `${r.job}\u001f${o.idempotencyKey}` : undefined;
      const hit = key ? existing.get(key) ?? plannedByKey.get(key) : undefined;
      if (hit) {
        results.push({ ...hit, created: false });
        continue;
      }
      const scheduledFor = o.runAt ?? new Date(now.getTime() + (o.delayMs ?? 0));
      const run = planRun({
        source: this.publisher.source,
        job: r.job,
        payload: this.protect(r.job, r.payload, o.sensitive),
        now,
        runId: o.runId,
        companyId: o.companyId ?? null,
        scheduleId: o.scheduleId ?? null,
        occurrenceAt: o.occurrenceAt ?? null,
        scheduledFor,
        notBefore: scheduledFor.getTime() > now.getTime() ? scheduledFor : null,
        idempotencyKey: o.idempotencyKey ?? null,
        options: o,
      });
      planned.push(run);
      const result: EnqueuedRun = { runId: run.id, job: r.job, scheduledFor, created: true, state: run.notBefore ? 'scheduled' : 'queued' };
      if (key) plannedByKey.set(key, result);
      results.push(result);
    }
    const inserted = await this.outbox.insertRuns(tx, planned);
    const insertedIds = new Set(inserted.map((r) => r.id));
    for (const r of results) if (r.created && !insertedIds.has(r.runId)) r.created = false; // an explicit runId that already existed
    const due = inserted.filter((r) => r.notBefore === null);
    // Short delays are published on time by this process; longer ones by a relay once due.
    const soon = inserted.filter((r) => r.notBefore !== null && r.notBefore.getTime() - now.getTime() <= MAX_IN_PROCESS_DELAY_MS);
    return {
      runs: results,
      publish: async () => {
        const go = async () => {
          for (const r of soon) void this.relay.publishAt([outboxRowOf(r)], r.notBefore!);
          await this.relay.publishNow(due.map(outboxRowOf));
        };
        // Inside an audited transaction the rows are not committed yet: they go out once it has (the relay if this fails).
        if (inAmbient()) return afterCommit(() => void go().catch(() => undefined));
        await go();
      },
    };
  }
}

/**
 * The outbox, relay and enqueuer for any service. The relay loop runs where
 * OUTBOX_RELAY is on, and always in the scheduler.
 */
@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, OutboxRepository, OutboxRelay, JobEnqueuer],
  exports: [Clock, OutboxRepository, OutboxRelay, JobEnqueuer],
})
export class JobEnqueuerModule {}
