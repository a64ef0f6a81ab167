import { Inject, Injectable } from '@nestjs/common';
import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { isNoStreamListening, NOT_LISTENING_RETRY_MS } from './errors.js';
import { NatsConnectionService } from './nats-connection.service.js';
import { KV_DECLARATIONS } from './topology.js';

/**
 * A JetStream client whose publishes (a KV's puts, updates and deletes) are
 * tried again while no stream listens on the subject. nats-server makes a new
 * stream visible (stream info, an idempotent create) before it subscribes to
 * its subjects, so a process that opens a bucket another process is creating
 * at that moment gets "no responders" for its first writes (so does a writer
 * while a clustered bucket elects a leader). Nothing stored such a message, so
 * sending it again cannot duplicate it. AsyncAckPublisher does the same for
 * the publishes it sends.
 */
export function publishingOnceListened(js: JetStreamClient, delaysMs = NOT_LISTENING_RETRY_MS): JetStreamClient {
  const client = Object.create(js) as JetStreamClient;
  client.publish = async (...args) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await js.publish(...args);
      } catch (e) {
        if (attempt >= delaysMs.length || !isNoStreamListening(e)) throw e;
        await new Promise((r) => setTimeout(r, delaysMs[attempt]));
      }
    }
  };
  return client;
}

/**
 * The declared JetStream KV buckets, opened once per process (created with
 * their declared history, max age and the configured replicas when
 * provisioning has not made them yet).
 */
@Injectable()
export class KvBuckets {
  private readonly opened = new Map<string, Promise<KV>>();

  constructor(
    private readonly nats: NatsConnectionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  open(bucket: string): Promise<KV> {
    let kv = this.opened.get(bucket);
    if (!kv) {
      kv = this.openOrCreate(bucket).catch((e: unknown) => {
        this.opened.delete(bucket);
        throw e;
      });
      this.opened.set(bucket, kv);
    }
    return kv;
  }

  private async openOrCreate(bucket: string): Promise<KV> {
    const kvm = new Kvm(publishingOnceListened(await this.nats.js()));
    try {
      const kv = await kvm.open(bucket);
      await kv.status();
      return kv;
    } catch {
      const d = KV_DECLARATIONS.find((k) => k.bucket === bucket);
      return kvm.create(bucket, { history: d?.history ?? 1, replicas: this.config.nats.streamReplicas, ...(d?.maxAgeMs ? { ttl: d.maxAgeMs } : {}) });
    }
  }
}

const KV_KEY = /^[-_=a-zA-Z0-9]+(\.[-_=a-zA-Z0-9]+)*$/;

/** A run id as one KV key token: itself when it is a valid token (UUIDs are), else a digest-free escape. */
export function kvToken(id: string): string {
  if (KV_KEY.test(id) && !id.includes('.')) return id;
  return `_${Buffer.from(id, 'utf8').toString('base64url')}`;
}
