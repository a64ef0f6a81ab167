import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { RETIRED_CONSUMERS, type ConsumerDeclaration, type KvDeclaration, type StreamDeclaration } from './topology.js';

const nanos = (ms: number): number => ms * 1_000_000;

export interface ProvisionReport {
  created: string[];
  unchanged: string[];
  /** Existing objects that differ from the declaration: reported, never rewritten. */
  drift: { name: string; differences: string[] }[];
}

export function streamConfig(d: StreamDeclaration, replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name: d.name,
    subjects: d.subjects,
    retention: d.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(d.maxAgeMs),
    duplicate_window: nanos(d.duplicateWindowMs),
    max_msg_size: d.maxMsgBytes,
    num_replicas: replicas,
    allow_direct: d.allowDirect ?? false,
  };
}

export function consumerConfig(d: ConsumerDeclaration, defaultAckWaitMs: number): Partial<ConsumerConfig> {
  return {
    durable_name: d.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: d.filterSubject,
    ack_wait: nanos(d.ackWaitMs ?? defaultAckWaitMs),
    // One delivery beyond maxAttempts lets the host dead-letter a message whose handler crashed every time.
    max_deliver: d.maxDeliver ?? d.maxAttempts + 1,
    max_ack_pending: d.maxAckPending ?? Math.max(1_000, d.concurrency * 20),
  };
}

/** The settings of a KV bucket's stream that provisioning owns (the rest is the KV client's). */
export function kvStreamSettings(d: KvDeclaration, replicas: number): { max_msgs_per_subject: number; num_replicas: number; max_age: number } {
  return { max_msgs_per_subject: d.history, num_replicas: replicas, max_age: nanos(d.maxAgeMs) };
}

function differences(want: Record<string, unknown>, have: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(want)) {
    const current = have[key];
    const same = Array.isArray(value) ? JSON.stringify(value) === JSON.stringify(current) : value === current;
    if (!same) out.push(`${key}: declared ${JSON.stringify(value)}, server has ${JSON.stringify(current)}`);
  }
  return out;
}

function isNotFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.status === 404;
}

/** Creates what is missing (streams, consumers, then the KV buckets in options.kv) and reports what differs; idempotent. */
export async function provision(
  jsm: JetStreamManager,
  streams: StreamDeclaration[],
  consumers: ConsumerDeclaration[],
  options: { replicas: number; ackWaitMs: number; kv?: KvDeclaration[] },
): Promise<ProvisionReport> {
  const report: ProvisionReport = { created: [], unchanged: [], drift: [] };
  for (const s of streams) {
    const want = streamConfig(s, options.replicas);
    try {
      const info = await jsm.streams.info(s.name);
      const diff = differences(want, info.config as unknown as Record<string, unknown>);
      if (diff.length === 1 && diff[0].startsWith('retention:') && (await migrateRetention(jsm, want))) {
        report.created.push(`stream ${s.name} (recreated with ${want.retention} retention: nothing was waiting in it)`);
      } else if (diff.length) report.drift.push({ name: `stream ${s.name}`, differences: diff });
      else report.unchanged.push(`stream ${s.name}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await jsm.streams.add(want);
      report.created.push(`stream ${s.name}`);
    }
  }
  // A retired consumer goes before its replacements are made (a work-queue stream refuses overlapping consumers).
  for (const r of RETIRED_CONSUMERS) {
    if (!consumers.some((c) => c.stream === r.stream)) continue;
    try {
      await jsm.consumers.delete(r.stream, r.durable);
      report.created.push(`removed retired consumer ${r.stream}/${r.durable} (replaced by ${r.replacedBy}; its waiting messages stay in ${r.stream})`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  for (const c of consumers) {
    const want = consumerConfig(c, options.ackWaitMs);
    try {
      const info = await jsm.consumers.info(c.stream, c.durable);
      const diff = differences(want, info.config as unknown as Record<string, unknown>);
      if (diff.length) report.drift.push({ name: `consumer ${c.stream}/${c.durable}`, differences: diff });
      else report.unchanged.push(`consumer ${c.stream}/${c.durable}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await jsm.consumers.add(c.stream, want);
      report.created.push(`consumer ${c.stream}/${c.durable}`);
    }
  }
  for (const b of options.kv ?? []) {
    const want = kvStreamSettings(b, options.replicas);
    try {
      const info = await jsm.streams.info(`KV_${b.bucket}`);
      const diff = differences(want, info.config as unknown as Record<string, unknown>);
      if (diff.length) report.drift.push({ name: `kv ${b.bucket}`, differences: diff });
      else report.unchanged.push(`kv ${b.bucket}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      // Kvm builds the rest of the bucket's stream (subjects, rollups, direct get) as every KV client expects it.
      await new Kvm(jsm.jetstream()).create(b.bucket, { history: b.history, replicas: options.replicas, ...(b.maxAgeMs ? { ttl: b.maxAgeMs } : {}) });
      report.created.push(`kv ${b.bucket}`);
    }
  }
  return report;
}

/**
 * A stream's retention cannot be changed in place. JOBS moved from limits to
 * workqueue retention (acked jobs leave the stream); an older JOBS is
 * recreated when none of its consumers has anything waiting or unacknowledged,
 * so no job is lost. Anything still pending: false, and it is reported as drift.
 */
async function migrateRetention(jsm: JetStreamManager, want: Partial<StreamConfig> & { name: string }): Promise<boolean> {
  const consumers = await jsm.consumers.list(want.name).next();
  if (consumers.some((c) => c.num_pending > 0 || c.num_ack_pending > 0)) return false;
  await jsm.streams.delete(want.name);
  await jsm.streams.add(want);
  return true;
}
