import { Inject, Injectable, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER, SERVICE_NAME } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import type { Priority } from '../messaging/subjects.js';
import type { ConsumerDeclaration } from '../messaging/topology.js';
import { DurabilityHooks } from './durability/durability.service.js';
import { HistoryWriter } from './history/history-writer.js';
import { JobControl } from './job-control.js';
import { JobDispatcher, type Waiting } from './job-dispatcher.js';
import { AttemptRunner } from './runtime/attempt-runner.js';
import { Deferrals } from './runtime/deferrals.js';
import type { Delivery } from './runtime/delivery.js';
import { EXTRA_JOB_HANDLERS, type ExtraJobHandlers } from './runtime/extra-handlers.js';
import { discoverHandlers, handlerProblems, specOf } from './runtime/handler-registry.js';
import { DeliveryRouting } from './runtime/delivery-routing.js';
import { JobIntake } from './runtime/job-intake.js';
import { LaneRoom } from './runtime/lane-room.js';
import { OverflowSpread } from './runtime/overflow-spread.js';
import type { JobSpec } from './runtime/job-spec.js';
import { PausedParking } from './runtime/paused-parking.js';
import { Settlement } from './runtime/settlement.js';
import { SlotRunner } from './runtime/slot-runner.js';
import { WorkerHeartbeat } from './runtime/worker-heartbeat.js';
import { JobCatalog } from './job-catalog.js';
import { keepShortLivedObjectsYoung } from './runtime/young-generation.js';

export const JOB_RUNTIME_OPTIONS = Symbol('JOB_RUNTIME_OPTIONS');

export interface JobRuntimeOptions {
  /** Every job this service handles: start-up fails unless each has exactly one @JobHandler. */
  names: string[];
  /** The per-priority durable consumers to pull (jobConsumerDeclarations(service)). */
  consumers: ConsumerDeclaration[];
  /** Handlers running at once in this process, all jobs together (default 16; JOB_CONCURRENCY overrides). */
  concurrency?: number;
}

/**
 * The job runtime of one service process. At start it discovers `@JobHandler`
 * declarations and refuses to start unless every declared job has exactly
 * one. It then pulls the service's per-priority consumers (JobIntake, which
 * numbers and routes each delivery with DeliveryRouting) into an in-process
 * dispatcher (priorities by weight, tenants round-robin, concurrency caps,
 * pauses), and runs each due delivery in a slot (SlotRunner: AttemptRunner,
 * then Settlement: history committed, then ack, nak or dead letter). Nothing
 * is written to Postgres between a job's publish and its handler's start.
 */
@Injectable()
export class JobRuntime implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly specs = new Map<string, JobSpec>();
  private readonly dispatcher: JobDispatcher<Delivery>;
  private readonly parking: PausedParking;
  private keepAlive?: NodeJS.Timeout;
  /** Intake loops waiting for their priority's lane to refill, woken by pump(). */
  private readonly room = new LaneRoom((priority, count) => this.dispatcher.hasRoom(priority, count), () => this.stopping);
  /** Delays for messages handed back because their tenant's buffer is full, spread by the tenant's recent overflow. */
  private readonly overflow = new OverflowSpread();
  /** Delays for messages of a paused job handed back because the parking is full, spread by the job's recent overflow. */
  private readonly pausedOverflow: OverflowSpread;
  private stopping = false;
  private pumping = false;
  private readonly slots: number;
  private readonly slotRunner: SlotRunner;

  constructor(
    @Inject(JOB_RUNTIME_OPTIONS) private readonly options: JobRuntimeOptions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
    @Inject(SERVICE_NAME) service: string,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly intake: JobIntake,
    private readonly routing: DeliveryRouting,
    private readonly runner: AttemptRunner,
    private readonly settlement: Settlement,
    private readonly deferrals: Deferrals,
    private readonly control: JobControl,
    private readonly durability: DurabilityHooks,
    private readonly history: HistoryWriter,
    private readonly heartbeat: WorkerHeartbeat,
    private readonly catalog: JobCatalog,
    @Optional() @Inject(EXTRA_JOB_HANDLERS) private readonly extra?: ExtraJobHandlers,
  ) {
    const jobs = config.jobs;
    this.slots = jobs.concurrencyByService[service] ?? jobs.concurrency ?? options.concurrency ?? 16;
    // Finished jobs waiting for their history batch, each holding its message and its whole attempt. Under a
    // backlog every one of them outlives young GCs and is promoted, so this room is paid for in GC. 64 per slot
    // took the worker's peak RSS to 201 MB; 8 per slot, when a held slot sent its row alone beside the write in
    // flight, made 60 % of all batches one row long (Postgres 34–37 µs a job); 16 once a held slot's row waited for
    // that write to return (Postgres 22–27 µs). Now 8 again (2026-12-06, AMD EPYC host): GC pauses 17–21 % of the
    // burn-down's worker thread in twelve runs against 20–26 % in eighteen at 16, peak RSS 137–143 against
    // 141–146 MB; the rate in alternated pairs 19,797–22,661 against 17,554–22,393 jobs/s, inside the host's noise.
    const maxSettling = this.slots * 8;
    this.parking = new PausedParking(Math.max(1_000, this.slots * 64));
    this.pausedOverflow = new OverflowSpread(Math.random, () => jobs.pausedRecheckMs);
    this.dispatcher = new JobDispatcher<Delivery>({
      slots: this.slots,
      tenantBuffer: jobs.tenantBuffer,
      laneCapacity: Math.max(jobs.tenantBuffer * 8, this.slots * 4, 512),
      tenantConcurrency: (job) => this.specs.get(job)?.tenantConcurrency ?? jobs.tenantConcurrency,
      jobConcurrency: (job) => this.specs.get(job)?.concurrency ?? 0,
      isPaused: (job, priority) => this.isPaused(job, priority),
    });
    this.slotRunner = new SlotRunner(this.dispatcher, runner, settlement, log, maxSettling, () => this.pump());
  }

  /** Discovers handlers and registers them; throws (start-up fails) listing every problem. */
  onModuleInit(): void {
    const found = discoverHandlers(this.discovery, this.scanner);
    // Handlers contributed by modules (MetronomeScheduleModule's scheduled methods) are declared jobs too.
    const extra = this.extra?.handlers() ?? [];
    for (const h of extra) found.set(h.job, [...(found.get(h.job) ?? []), { meta: { job: h.job, options: h.options }, fn: h.fn, owner: h.owner }]);
    const names = [...this.options.names, ...extra.map((h) => h.job)];
    const problems = handlerProblems(found, names, this.options.consumers);
    const declared = new Set(names);
    for (const [name, [h]] of found) if (declared.has(name)) this.durability.register(name, h.meta.options);
    problems.push(...this.durability.problems());
    if (problems.length) throw new Error(`Job handlers are misdeclared:\n  - ${problems.join('\n  - ')}`);
    for (const [name, [h]] of found) {
      const spec = specOf(name, h);
      this.specs.set(name, spec);
      this.runner.register(spec);
      this.deferrals.declare(name);
      this.settlement.declare(name);
    }
    this.heartbeat.describe([...this.specs.keys()], this.slots, () => ({
      inFlight: this.dispatcher.inFlight,
      waiting: this.dispatcher.waiting + this.parking.size,
      held: this.routing.held,
      settling: this.slotRunner.settling,
    }));
    this.catalog.announce(this.specs.values(), (job) => this.specs.get(job)!.options);
    this.log.info({ jobs: [...this.specs.keys()] }, 'job handlers registered');
  }

  async onApplicationBootstrap(): Promise<void> {
    keepShortLivedObjectsYoung();
    await this.control.watch();
    const unpark = () => {
      for (const d of this.parking.release((x) => !this.isPaused(x.spec.name, x.priority))) this.admit(d);
      this.pump();
    };
    this.control.onPauseChange((job, paused) => (paused ? this.parkWaiting((w) => w.job === job) : unpark()));
    this.control.onQueuePauseChange((priority, paused) => (paused ? this.parkWaiting((w) => w.priority === priority) : unpark()));
    await this.intake.start(this.options.consumers, this.specs, (d) => this.admit(d), (p, ms, count) => this.room.wait(p, ms, count));
    const ackWait = Math.min(...this.options.consumers.map((c) => c.ackWaitMs ?? this.config.ackWaitMs));
    // One timer for every message this process holds (waiting, early, parked, running, settling), not one per job.
    this.keepAlive = setInterval(() => {
      for (const w of this.dispatcher.all()) w.item.msg.working();
      for (const d of this.routing.heldDeliveries()) d.msg.working();
      for (const d of this.parking.all()) d.msg.working();
      for (const d of this.slotRunner.busyDeliveries()) d.msg.working();
    }, Math.max(100, ackWait / 2));
    this.log.info({ consumers: this.options.consumers.map((c) => c.durable), slots: this.slots }, 'job runtime started');
  }

  /** Stops pulling, hands back what waits, lets running handlers finish within the grace period. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const handBack = [
      ...this.dispatcher.remove(() => true).map((w) => w.item),
      ...this.parking.release(() => true),
    ].map((d) => this.deferrals.defer(d.msg, d.ledger, 0, d.spec.name, 'stopping'));
    await Promise.all([this.intake.stop(), ...handBack]);
    const deadline = Date.now() + this.config.shutdownGraceMs;
    while ((this.dispatcher.inFlight > 0 || this.slotRunner.settling > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.dispatcher.inFlight > 0) this.log.warn({ running: this.dispatcher.inFlight }, 'job handlers still running at the end of the grace period');
    clearInterval(this.keepAlive);
    // Every hand-back begun (its ledger note and nak) completes while the connection is still open.
    await this.deferrals.idle();
    await this.history.flush().catch(() => undefined);
    this.control.stop();
  }

  /** Handlers running, messages waiting for a slot (or parked while paused), and messages held until their scheduled time, in this process. */
  stats(): { running: number; waiting: number; early: number } {
    return { running: this.dispatcher.inFlight, waiting: this.dispatcher.waiting + this.parking.size, early: this.routing.held };
  }

  private isPaused(job: string, priority: Priority): boolean {
    return this.control.isPaused(job) || this.control.isQueuePaused(priority);
  }

  /** Moves waiting deliveries of a job or priority just paused out of the dispatcher. */
  private parkWaiting(predicate: (w: Waiting<Delivery>) => boolean): void {
    for (const w of this.dispatcher.remove(predicate)) this.park(w.item);
  }

  private park(d: Delivery): void {
    if (this.parking.park(d)) return;
    void this.deferrals.defer(d.msg, d.ledger, this.pausedOverflow.delayFor(d.spec.name, d.msg.info.deliveryCount), d.spec.name, 'paused');
  }

  /** Offers a due delivery to the dispatcher (or parks it: paused; hands it back: tenant buffer full). */
  private admit(d: Delivery): void {
    if (this.stopping) return void this.deferrals.defer(d.msg, d.ledger, 0, d.spec.name, 'stopping');
    if (this.isPaused(d.spec.name, d.priority)) return this.park(d);
    const waiting: Waiting<Delivery> = { item: d, job: d.spec.name, tenant: d.parts.companyId ?? '', priority: d.priority };
    if (!this.dispatcher.offer(waiting)) {
      return void this.deferrals.defer(d.msg, d.ledger, this.overflow.delayFor(waiting.tenant, d.msg.info.deliveryCount), d.spec.name, 'tenant_full');
    }
    this.pump();
  }

  private pump(): void {
    // A slot freed inside the loop (a synchronous handler's) is filled by the loop itself, not by a nested one.
    if (this.stopping || this.pumping) return;
    this.pumping = true;
    try {
      for (let w = this.dispatcher.next(); w; w = this.dispatcher.next()) this.slotRunner.execute(w);
    } finally {
      this.pumping = false;
    }
    this.room.wake();
  }
}
