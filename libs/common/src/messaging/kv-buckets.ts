import { Injectable } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import { NatsConnectionService } from './nats-connection.service.js';
import { KV_DECLARATIONS } from './topology.js';

/**
 * The declared JetStream KV buckets, opened once per process (created with
 * their declared history and max age when provisioning has not made them yet).
 */
@Injectable()
export class KvBuckets {
  private readonly opened = new Map<string, Promise<KV>>();

  constructor(private readonly nats: NatsConnectionService) {}

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
    const kvm = new Kvm(await this.nats.js());
    try {
      const kv = await kvm.open(bucket);
      await kv.status();
      return kv;
    } catch {
      const d = KV_DECLARATIONS.find((k) => k.bucket === bucket);
      return kvm.create(bucket, { history: d?.history ?? 1, ...(d?.maxAgeMs ? { ttl: d.maxAgeMs } : {}) });
    }
  }
}

const KV_KEY = /^[-_=a-zA-Z0-9]+(\.[-_=a-zA-Z0-9]+)*$/;

/** A run id as one KV key token: itself when it is a valid token (UUIDs are), else a digest-free escape. */
export function kvToken(id: string): string {
  if (KV_KEY.test(id) && !id.includes('.')) return id;
  return `_${Buffer.from(id, 'utf8').toString('base64url')}`;
}
