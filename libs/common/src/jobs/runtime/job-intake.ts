import { Inject, Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { deadLetterOf } from '../../dead-letters/dead-letter-of.js';
import { DeadLetterWriter } from '../../dead-letters/dead-letter.writer.js';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import { MAX_ENVELOPE_BYTES, parseCloudEvent, type CloudEvent } from '../../messaging/cloud-event.js';
import { isPack, PACK_HEADER, parsePack } from '../../messaging/job-pack.js';
import { redactedErrorText } from '../../audit/redact-secrets.js';
import { errorText } from '../../messaging/errors.js';
import { NatsConnectionService } from '../../messaging/nats-connection.service.js';
import type { Priority } from '../../messaging/subjects.js';
import type { ConsumerDeclaration } from '../../messaging/topology.js';
import { JobControl } from '../job-control.js';
import { AttemptLedger, EMPTY_LEDGER } from './attempt-ledger.js';
import { ConsumerPull } from './consumer-pull.js';
import { Deferrals, type DeferralReason } from './deferrals.js';
import { DeliveryRouting, nakQuietly } from './delivery-routing.js';
import { jobOfSubject, priorityOf, type Delivery } from './delivery.js';
import type { JobSpec } from './job-spec.js';
import { asJsMsg, JobPack, PackMember } from './pack-member.js';
import { PackHandOff } from './pack-hand-off.js';
import { PackUnpacking } from './pack-unpacking.js';
import { pullExpiresMs } from './pull-expiry.js';

/** Jobs pulled per request from each consumer: 512 messages, or as many packs of JOB_PACK_MAX as hold about 512 jobs. */
const PULL_JOBS = 512;
const MIN_PULL_PACKS = 16;
/** Longest stop() waits for the pull loops to hand back what they had received. */
const STOP_WAIT_MS = 5_000;

/**
 * Pulls the service's job consumers and decodes each message once: malformed
 * ones are dead-lettered, those of a job with no handler here are handed back,
 * a pack's jobs are taken from it (or, on a redelivery, only those history has
 * not finished), and a redelivery's attempt ledger is read (a first delivery
 * reads nothing). DeliveryRouting numbers each job's attempt and sends it on.
 */
@Injectable()
export class JobIntake {
  private readonly pulls: { priority: Priority; pull: ConsumerPull }[] = [];
  /** The pull loops, and redeliveries waiting for their ledger entry: stop() waits for both. */
  private readonly loops: Promise<void>[] = [];
  private readonly reads = new Set<Promise<void>>();
  private specs = new Map<string, JobSpec>();
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
    private readonly nats: NatsConnectionService,
    private readonly ledger: AttemptLedger,
    private readonly deferrals: Deferrals,
    private readonly control: JobControl,
    private readonly deadLetters: DeadLetterWriter,
    private readonly routing: DeliveryRouting,
    private readonly handOffs: PackHandOff,
    private readonly unpacking: PackUnpacking,
  ) {}

  async start(
    consumers: readonly ConsumerDeclaration[],
    specs: Map<string, JobSpec>,
    onDue: (d: Delivery) => void,
    room: (priority: Priority, maxWaitMs: number, count: number) => Promise<void> | undefined,
  ): Promise<void> {
    this.specs = specs;
    this.routing.start(onDue);
    const js = await this.nats.js();
    // A pulled pack holds up to JOB_PACK_MAX jobs: pulling 512 of them would hold 50 times the jobs (and memory).
    const pullBatch = this.config.jobs.packMax > 1 ? Math.max(MIN_PULL_PACKS, Math.ceil(PULL_JOBS / this.config.jobs.packMax)) : PULL_JOBS;
    // A full priority lane means this process has plenty to do: wait for room instead of deferring a
    // backlog, but not so long that messages pulled and not yet held (no keep-alive) reach their ack wait.
    const roomWaitMs = Math.min(...consumers.map((c) => c.ackWaitMs ?? this.config.ackWaitMs)) / 4;
    this.control.onQueuePauseChange((priority, paused) => {
      for (const p of this.pulls) if (p.priority === priority) (paused ? p.pull.pause() : p.pull.resume());
    });
    for (const declaration of consumers) {
      const consumer = await js.consumers.get(declaration.stream, declaration.durable);
      const priority = priorityOf(declaration.filterSubject);
      const pull = new ConsumerPull(
        () => consumer.consume({ max_messages: pullBatch, expires: pullExpiresMs(declaration.ackWaitMs ?? this.config.ackWaitMs) }),
        () => this.control.isQueuePaused(priority),
        (msg) => {
          // Every message of this consumer is on its lane (jobs.<priority>.…): no subject to parse per message.
          const wait = room(priority, roomWaitMs, isPack(msg.data) ? packSizeOf(msg) : 1);
          if (!wait) return void this.accept(declaration, msg);
          return wait.then(() => this.accept(declaration, msg));
        },
        (e, what) => this.log.error({ consumer: declaration.durable, error: errorText(e) }, what),
      );
      this.pulls.push({ priority, pull });
      this.loops.push((await pull.start()).loop);
    }
  }

  /** Stops pulling and hands back what is held until due. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const p of this.pulls) p.pull.stop();
    await this.routing.stop();
    // Messages the pulls had already received still come out of their loops (each handed back); the wait is bounded
    // so a stuck iterator cannot hold the shutdown (what is left comes back after its ack wait).
    const bounded = (work: Promise<unknown>) => Promise.race([work, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
    await bounded(Promise.allSettled(this.loops));
    await bounded(Promise.allSettled([...this.reads]));
  }

  private accept(declaration: ConsumerDeclaration, msg: JsMsg): void {
    if (this.stopping) return this.handBack(msg, jobOfSubject(msg.subject), 0, 'stopping');
    if (isPack(msg.data)) return this.acceptPack(declaration, msg);
    let event: CloudEvent;
    try {
      event = parseCloudEvent(msg.data, MAX_ENVELOPE_BYTES);
    } catch (e) {
      void this.malformed(declaration, msg, e);
      return;
    }
    const spec = this.specs.get(event.type);
    if (!spec) {
      // A job this version does not handle (a rolling deploy): leave it for a worker that does.
      this.log.warn({ job: event.type, consumer: declaration.durable }, 'no handler for this job here; deferring it');
      return this.handBack(msg, 'unknown', 60_000, 'no_handler');
    }
    if (msg.info.deliveryCount === 1) return this.routing.number(declaration, msg, event, spec, EMPTY_LEDGER);
    this.track(this.ledger.read(msg.info.stream, msg.info.streamSequence).then(
      (entry) => this.routing.number(declaration, msg, event, spec, entry),
      (e: unknown) => {
        this.log.warn({ runId: event.id, error: errorText(e) }, 'could not read the attempt ledger; retrying the message later');
        nakQuietly(msg, 5_000);
      },
    ));
  }

  /**
   * A pack (job-pack.ts). On its first delivery its jobs run from it, each as
   * attempt 1; one that may have been delivered before is unpacked from history
   * first (pack-unpacking.ts) and acked once nothing of it is left to run here.
   */
  private acceptPack(declaration: ConsumerDeclaration, msg: JsMsg): void {
    let events: CloudEvent[];
    try {
      events = parsePack(msg.data, MAX_ENVELOPE_BYTES);
      if (events.some((e) => e.type !== events[0].type)) throw new Error('a pack holds jobs of one type only');
    } catch (e) {
      void this.malformed(declaration, msg, e);
      return;
    }
    const spec = this.specs.get(events[0].type);
    if (!spec) {
      this.log.warn({ job: events[0].type, consumer: declaration.durable }, 'no handler for this job here; deferring its pack');
      return this.handBack(msg, 'unknown', 60_000, 'no_handler');
    }
    if (msg.info.deliveryCount === 1 && Date.now() - msg.info.timestampNanos / 1e6 <= (declaration.ackWaitMs ?? this.config.ackWaitMs)) {
      return this.runPack(declaration, msg, events, spec);
    }
    this.track(this.unpacking.jobsToRun(msg, events).then((run) => {
      if (run.length) return this.runPack(declaration, msg, run, spec);
      msg.ack();
    }).catch((e: unknown) => {
      this.log.warn({ consumer: declaration.durable, seq: msg.info.streamSequence, error: errorText(e) }, 'could not unpack a redelivered job pack; retrying it later');
      nakQuietly(msg, 5_000);
    }));
  }

  private runPack(declaration: ConsumerDeclaration, msg: JsMsg, events: CloudEvent[], spec: JobSpec): void {
    const pack = new JobPack(msg, events.length);
    events.forEach((event, i) => this.routing.number(declaration, asJsMsg(new PackMember(pack, event, i, this.handOffs)), event, spec, EMPTY_LEDGER));
  }

  /**
   * Hands back a message not yet numbered. A redelivery's earlier deferrals are read first, so its note keeps
   * them (noting it from an empty entry would turn them into attempts and could exhaust a deferred run).
   */
  private handBack(msg: JsMsg, job: string, delayMs: number, reason: DeferralReason): void {
    if (msg.info.deliveryCount === 1) return void this.deferrals.defer(msg, EMPTY_LEDGER, delayMs, job, reason);
    this.track(this.ledger.read(msg.info.stream, msg.info.streamSequence).then(
      (entry) => this.deferrals.defer(msg, entry, delayMs, job, reason),
      () => nakQuietly(msg, delayMs),
    ));
  }

  private track(work: Promise<void>): void {
    this.reads.add(work);
    void work.finally(() => this.reads.delete(work));
  }

  private async malformed(declaration: ConsumerDeclaration, msg: JsMsg, error: unknown): Promise<void> {
    try {
      await this.deadLetters.write(deadLetterOf({
        msg, event: undefined, stream: declaration.stream, consumer: declaration.durable, reason: 'malformed', error: redactedErrorText(error), attempts: msg.info.deliveryCount,
      }));
      // No reason argument: nats-server 2.9 ignores a +TERM that carries one and redelivers the message.
      msg.term();
    } catch (e) {
      this.log.error({ consumer: declaration.durable, error: errorText(e) }, 'could not dead-letter a malformed job message; retrying later');
      nakQuietly(msg, 5_000);
    }
  }
}

/** The jobs in a pack, from its header (1 when the header is missing or wrong: the pack is checked when parsed). */
function packSizeOf(msg: JsMsg): number {
  const n = Number(msg.headers?.get(PACK_HEADER));
  return Number.isInteger(n) && n > 0 ? n : 1;
}
