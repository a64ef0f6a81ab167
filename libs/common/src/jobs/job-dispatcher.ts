import { PRIORITIES, type Priority } from '../messaging/subjects.js';
import { TenantRing } from './tenant-ring.js';

/** Share of dispatches each priority gets while all are backlogged (stride scheduling): critical first, low never starves. */
export const PRIORITY_WEIGHTS: Record<Priority, number> = { critical: 8, high: 4, normal: 2, low: 1 };

/** A message waiting in the process for a slot. */
export interface Waiting<T> {
  item: T;
  job: string;
  tenant: string;
  priority: Priority;
}

export interface DispatchPolicy {
  /** Handlers running at once in this process. */
  slots: number;
  /** Messages held per tenant and priority; more are deferred. */
  tenantBuffer: number;
  /** Messages held per priority in all; more are deferred. */
  laneCapacity: number;
  /** 0: no cap. */
  tenantConcurrency(job: string): number;
  /** 0: no cap. */
  jobConcurrency(job: string): number;
  /** A paused job, or a paused queue (priority lane). */
  isPaused(job: string, priority: Priority): boolean;
}

/** Empty tenant queues a lane keeps for their tenants' next messages, beyond those with work waiting. */
const IDLE_QUEUES_KEPT = 4_096;

class Lane<T> {
  /** Each tenant's waiting messages; a tenant's queue stays when it empties (while few are idle), so a busy tenant's next message allocates nothing. */
  readonly tenants = new Map<string, Waiting<T>[]>();
  /** Tenants with waiting work, the next turn first. */
  readonly ring = new TenantRing();
  size = 0;
  pass = 0;
}

/**
 * In-process scheduling of job messages already pulled: which waiting message
 * gets the next free slot. Priorities by stride scheduling (weights 8:4:2:1, an
 * idle priority earns no credit, so waiting critical work is taken next);
 * inside a priority, tenants round-robin, so a tenant with a huge backlog holds
 * at most `tenantBuffer` messages here and gets one turn per round like any
 * other; per-tenant and per-job concurrency caps; paused jobs are skipped.
 */
export class JobDispatcher<T> {
  private readonly lanes = new Map<Priority, Lane<T>>(PRIORITIES.map((p) => [p, new Lane<T>()]));
  private readonly runningByTenant = new Map<string, number>();
  private readonly runningByJob = new Map<string, number>();
  private running = 0;
  /** What `eligible` found: the tenant and its queue, its message's index there, the tenant's turns from the ring's head. */
  private readonly pick: { tenant: string; queue: Waiting<T>[]; index: number; at: number } = { tenant: '', queue: [], index: 0, at: 0 };

  constructor(private readonly policy: DispatchPolicy) {}

  get inFlight(): number {
    return this.running;
  }

  get waiting(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.size;
    return n;
  }

  /** False while a priority cannot take `count` more messages: its reader should wait rather than read more. */
  hasRoom(priority: Priority, count = 1): boolean {
    return this.lanes.get(priority)!.size + count <= this.policy.laneCapacity;
  }

  /** Holds the message, or returns false when its tenant or priority is full (the caller defers it). */
  offer(w: Waiting<T>): boolean {
    const lane = this.lanes.get(w.priority)!;
    const queue = lane.tenants.get(w.tenant);
    if ((queue?.length ?? 0) >= this.policy.tenantBuffer || lane.size >= this.policy.laneCapacity) return false;
    if (!queue) {
      lane.tenants.set(w.tenant, [w]);
      lane.ring.push(w.tenant);
    } else {
      if (queue.length === 0) lane.ring.push(w.tenant);
      queue.push(w);
    }
    lane.size++;
    return true;
  }

  /** Removes every waiting message matching the predicate (a paused job's), returning them. */
  remove(predicate: (w: Waiting<T>) => boolean): Waiting<T>[] {
    const out: Waiting<T>[] = [];
    for (const lane of this.lanes.values()) {
      for (const [tenant, queue] of lane.tenants) {
        const keep = queue.filter((w) => !predicate(w));
        if (keep.length === queue.length) continue;
        out.push(...queue.filter(predicate));
        lane.size -= queue.length - keep.length;
        lane.tenants.set(tenant, keep);
        if (!keep.length) lane.ring.remove(tenant);
      }
    }
    return out;
  }

  all(): Waiting<T>[] {
    const out: Waiting<T>[] = [];
    for (const lane of this.lanes.values()) for (const q of lane.tenants.values()) out.push(...q);
    return out;
  }

  /** The next message to run, with its slot taken; undefined when no slot is free or nothing is eligible. */
  next(): Waiting<T> | undefined {
    if (this.running >= this.policy.slots) return undefined;
    // Called once per job: locals and the `pick` fields rather than objects and arrays per call.
    let chosen: Lane<T> | undefined;
    let chosenPriority: Priority = 'normal';
    let chosenTenant = '';
    let chosenQueue: Waiting<T>[] = this.pick.queue;
    let chosenIndex = 0;
    let chosenAt = 0;
    let idle = 0;
    for (let p = 0; p < PRIORITIES.length; p++) {
      const lane = this.lanes.get(PRIORITIES[p]!)!;
      if (!lane.size || !this.eligible(lane)) {
        idle |= 1 << p;
        continue;
      }
      if (!chosen || lane.pass < chosen.pass) {
        chosen = lane;
        chosenPriority = PRIORITIES[p]!;
        chosenTenant = this.pick.tenant;
        chosenQueue = this.pick.queue;
        chosenIndex = this.pick.index;
        chosenAt = this.pick.at;
      }
    }
    if (!chosen) return undefined;
    const lane = chosen;
    const priority = chosenPriority;
    for (let p = 0; p < PRIORITIES.length; p++) {
      if (idle & (1 << p)) {
        const l = this.lanes.get(PRIORITIES[p]!)!;
        l.pass = Math.max(l.pass, lane.pass);
      }
    }
    lane.pass += 1 / PRIORITY_WEIGHTS[priority];
    const queue = chosenQueue;
    const w = chosenIndex === 0 ? queue.shift()! : queue.splice(chosenIndex, 1)[0]!;
    lane.size--;
    // The tenants passed over lose this turn, as the chosen one does; an emptied tenant leaves the round.
    lane.ring.rotate(chosenAt);
    if (queue.length) lane.ring.rotate(1);
    else {
      lane.ring.shift();
      if (lane.tenants.size > lane.ring.length + IDLE_QUEUES_KEPT) lane.tenants.delete(chosenTenant);
    }
    this.running++;
    this.runningByTenant.set(w.tenant, (this.runningByTenant.get(w.tenant) ?? 0) + 1);
    this.runningByJob.set(w.job, (this.runningByJob.get(w.job) ?? 0) + 1);
    return w;
  }

  /** Gives the slot of a finished message back. */
  done(w: Waiting<T>): void {
    this.running--;
    const t = (this.runningByTenant.get(w.tenant) ?? 1) - 1;
    if (t) this.runningByTenant.set(w.tenant, t);
    else this.runningByTenant.delete(w.tenant);
    const j = (this.runningByJob.get(w.job) ?? 1) - 1;
    if (j) this.runningByJob.set(w.job, j);
    else this.runningByJob.delete(w.job);
  }

  /** The first tenant in ring order with a message allowed to run now: found, it is in `pick`. */
  private eligible(lane: Lane<T>): boolean {
    const n = lane.ring.length;
    for (let at = 0; at < n; at++) {
      const tenant = lane.ring.at(at);
      const queue = lane.tenants.get(tenant)!;
      const runningTenant = this.runningByTenant.get(tenant) ?? 0;
      for (let i = 0; i < queue.length; i++) {
        const w = queue[i]!;
        if (this.policy.isPaused(w.job, w.priority)) continue;
        const tenantCap = this.policy.tenantConcurrency(w.job);
        if (tenantCap > 0 && runningTenant >= tenantCap) continue;
        const jobCap = this.policy.jobConcurrency(w.job);
        if (jobCap > 0 && (this.runningByJob.get(w.job) ?? 0) >= jobCap) continue;
        this.pick.tenant = tenant;
        this.pick.queue = queue;
        this.pick.index = i;
        this.pick.at = at;
        return true;
      }
    }
    return false;
  }
}
