import { Injectable } from '@nestjs/common';
import { MAX_ENVELOPE_BYTES, parseCloudEvent, type CloudEvent } from '../../messaging/cloud-event.js';
import { isPack, parsePack } from '../../messaging/job-pack.js';
import { KvBuckets } from '../../messaging/kv-buckets.js';
import { NatsConnectionService } from '../../messaging/nats-connection.service.js';
import { STREAMS, WORKERS_BUCKET } from '../../messaging/subjects.js';
import { jobMessageOf, priorityOf } from '../runtime/delivery.js';
import type { RunningAttempt, WorkerBeat } from '../runtime/worker-heartbeat.js';
import { listKvKeys } from '../../messaging/kv-keys.js';
import { jobsIn } from './pending-jobs.js';

/** A job waiting in JetStream (JOBS keeps exactly the jobs not yet acked). */
export interface QueuedRun {
  runId: string;
  job: string;
  companyId: string | null;
  priority: string;
  scheduledFor: string | null;
  enqueuedAt: string;
  /** The message's stream sequence (shared by the jobs of a pack). */
  streamSeq: number;
  payload: unknown;
}

export interface RunningRun extends RunningAttempt {
  worker: string;
  service: string;
}

export interface QueueFilter {
  job?: string;
  /** A JOBS subject filter (`jobs.low.>`); wins over `job`. */
  subject?: string;
  /** null: every tenant. */
  companyId?: string | null;
  /** Jobs listed at most. */
  limit: number;
  /** Messages read at most (each is one direct get, a pack of several jobs too): a page of a deep queue stops here. */
  scanLimit?: number;
  /** Only this run. */
  match?: string;
}

/**
 * Live state without a row per job: what runs now (the workers' heartbeats in
 * the `workers` KV bucket) and what waits (the JOBS stream, read message by
 * message with direct get, since a work-queue stream admits no second consumer
 * on a subject).
 */
@Injectable()
export class LiveRuns {
  constructor(
    private readonly buckets: KvBuckets,
    private readonly nats: NatsConnectionService,
  ) {}

  async workers(): Promise<WorkerBeat[]> {
    const kv = await this.buckets.open(WORKERS_BUCKET);
    const out: WorkerBeat[] = [];
    for (const key of await listKvKeys(await this.nats.jsm(), WORKERS_BUCKET)) {
      const e = await kv.get(key);
      if (!e || e.operation !== 'PUT' || e.value.length === 0) continue;
      try {
        out.push(e.json<WorkerBeat>());
      } catch {
        // not a heartbeat
      }
    }
    return out.sort((a, b) => (a.service === b.service ? a.instance.localeCompare(b.instance) : a.service.localeCompare(b.service)));
  }

  async running(filter: { job?: string; companyId?: string | null } = {}): Promise<RunningRun[]> {
    const out: RunningRun[] = [];
    for (const w of await this.workers()) {
      for (const r of w.running) {
        if (filter.job && r.job !== filter.job) continue;
        if (filter.companyId != null && r.companyId !== filter.companyId) continue;
        out.push({ ...r, worker: w.instance, service: w.service });
      }
    }
    return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async findRunning(runId: string): Promise<RunningRun | undefined> {
    return (await this.running()).find((r) => r.runId === runId);
  }

  /**
   * Jobs waiting (or retrying, or running) in JOBS, oldest first, up to `limit` of the filter; each job of a pack
   * is an item of its own, filtered as a single job message is. `scanned` counts messages read, a pack once;
   * `complete`: nothing of the filter is left unlisted.
   */
  async queued(filter: QueueFilter): Promise<{ items: QueuedRun[]; scanned: number; complete: boolean }> {
    const jsm = await this.nats.jsm();
    const subject = filter.subject ?? (filter.job ? `jobs.*.${filter.job}` : 'jobs.>');
    const scanLimit = filter.scanLimit ?? 10_000;
    const info = await jsm.streams.info(STREAMS.JOBS);
    let seq = info.state.first_seq;
    const items: QueuedRun[] = [];
    let scanned = 0;
    // A pack read when the page was full with jobs of it still to list.
    let cut = false;
    while (!cut && items.length < filter.limit && scanned < scanLimit && seq <= info.state.last_seq) {
      const m = await jsm.direct.getMessage(STREAMS.JOBS, { seq, next_by_subj: subject });
      if (!m) break;
      scanned++;
      seq = m.seq + 1;
      for (const run of queuedRunsOf(m.subject, m.data, m.seq, m.time)) {
        if (filter.companyId != null && run.companyId !== filter.companyId) continue;
        if (filter.match !== undefined && run.runId !== filter.match) continue;
        if (items.length === filter.limit) {
          cut = true;
          break;
        }
        items.push(run);
      }
    }
    return { items, scanned, complete: !cut && (seq > info.state.last_seq || items.length < filter.limit && scanned < scanLimit) };
  }

  /**
   * Waiting jobs per subject (jobs.<priority>.<job>): the stream's own message counts, weighed by a sample of each
   * subject's messages where packs hold several jobs (pending-jobs.ts) - exact for a subject of up to 8 messages
   * or of single jobs only, an estimate otherwise.
   */
  async depth(): Promise<Record<string, number>> {
    const jsm = await this.nats.jsm();
    const info = await jsm.streams.info(STREAMS.JOBS, { subjects_filter: 'jobs.>' });
    const { first_seq: from, last_seq: to } = info.state;
    return Object.fromEntries(
      await Promise.all(Object.entries(info.state.subjects ?? {}).map(async ([subject, messages]) => [subject, await jobsIn(jsm, STREAMS.JOBS, { subject, from, to, messages })] as const)),
    );
  }
}

/** The jobs of one JOBS message: one, or each of a pack; none when it cannot be read (as the runtime would not run it). */
export function queuedRunsOf(subject: string, data: Uint8Array, seq: number, time: Date): QueuedRun[] {
  let events: CloudEvent[];
  try {
    events = isPack(data) ? parsePack(data, MAX_ENVELOPE_BYTES) : [parseCloudEvent(data, MAX_ENVELOPE_BYTES)];
  } catch {
    return [];
  }
  // The runtime refuses a pack of mixed job types as malformed.
  if (events.some((e) => e.type !== events[0].type)) return [];
  return events.flatMap((event) => {
    const run = queuedRunOf(subject, event, seq, time);
    return run ? [run] : [];
  });
}

function queuedRunOf(subject: string, event: CloudEvent, seq: number, time: Date): QueuedRun | undefined {
  try {
    const parts = jobMessageOf(event);
    return {
      runId: event.id,
      job: event.type,
      companyId: parts.companyId ?? null,
      priority: priorityOf(subject),
      scheduledFor: parts.scheduledFor?.toISOString() ?? null,
      enqueuedAt: time.toISOString(),
      streamSeq: seq,
      payload: parts.payload,
    };
  } catch {
    return undefined;
  }
}
