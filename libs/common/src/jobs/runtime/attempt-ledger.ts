import { Injectable } from '@nestjs/common';
import { KvBuckets } from '../../messaging/kv-buckets.js';
import { RUNS_BUCKET } from '../../messaging/subjects.js';

/**
 * What happened to the earlier deliveries of one job message: how many were
 * deferrals (handed back without an attempt: paused, tenant buffer full, a
 * snooze, not due, shutting down) and the delivery count of the last one this
 * runtime settled by nak. JetStream counts every delivery; the attempt number
 * is the delivery count minus the deferrals, and deliveries after `settled`
 * that never came back settled were lost (the worker died or stalled past the
 * ack wait) — each counts as an attempt.
 */
export interface LedgerEntry {
  deferrals: number;
  settled: number;
}

export const EMPTY_LEDGER: LedgerEntry = { deferrals: 0, settled: 0 };

/** The attempt a delivery is, and the attempts lost before it. */
export function attemptOf(deliveryCount: number, entry: LedgerEntry, offset = 0): { attempt: number; lost: number[] } {
  const attempt = offset + deliveryCount - entry.deferrals;
  const lost: number[] = [];
  for (let k = Math.max(entry.settled, 0) + 1; k < deliveryCount; k++) {
    const a = offset + k - entry.deferrals;
    if (a >= 1) lost.push(a);
  }
  return { attempt, lost };
}

/** Entries this process noted, kept to answer its own redeliveries without a read. */
const LOCAL_ENTRIES = 200_000;

/**
 * The ledger lives in the `runs` KV bucket under `ledger.<stream>.<sequence>`
 * (a stream sequence names one message for good; the bucket's max age matches
 * the stream's). Nothing is read or written for a first delivery that is
 * acked: the hot path never touches it. What this process noted it also keeps
 * in memory, so a message it deferred and gets back costs no read.
 */
@Injectable()
export class AttemptLedger {
  private readonly local = new Map<string, LedgerEntry>();

  constructor(private readonly buckets: KvBuckets) {}

  private key(stream: string, seq: number): string {
    return `ledger.${stream}.${seq}`;
  }

  async read(stream: string, seq: number): Promise<LedgerEntry> {
    const known = this.local.get(this.key(stream, seq));
    if (known) return known;
    const kv = await this.buckets.open(RUNS_BUCKET);
    const e = await kv.get(this.key(stream, seq));
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return EMPTY_LEDGER;
    const [d, s] = e.string().split(':').map(Number);
    return { deferrals: Number.isFinite(d) ? d : 0, settled: Number.isFinite(s) ? s : 0 };
  }

  /** Records the delivery being handed back now; resolves once stored (before the nak). */
  async note(stream: string, seq: number, entry: LedgerEntry): Promise<void> {
    const key = this.key(stream, seq);
    const kv = await this.buckets.open(RUNS_BUCKET);
    await kv.put(key, `${entry.deferrals}:${entry.settled}`);
    this.local.delete(key);
    this.local.set(key, entry);
    if (this.local.size > LOCAL_ENTRIES) this.local.delete(this.local.keys().next().value!);
  }

  /** Forgets a message settled for good here; its stored entry is left to the bucket's max age (a purge would be one more write). */
  forget(stream: string, seq: number): void {
    this.local.delete(this.key(stream, seq));
  }
}
