import { Injectable } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
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

/** Stream sequences per ledger key: a flood deferred together lands in a few keys, not one write each. */
export const LEDGER_BLOCK = 1024;
/** Notes wait this long for company before their block is written. */
const NOTE_WINDOW_MS = 5;
/** Entries this process noted, kept to answer its own redeliveries without a read. */
const LOCAL_ENTRIES = 200_000;

type Block = Record<string, string>;

interface PendingBlock {
  notes: Map<number, LedgerEntry>;
  /** A retry waits on one of these notes. */
  urgent: boolean;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

const encode = (e: LedgerEntry) => `${e.deferrals}:${e.settled}`;
function decode(v: string | undefined): LedgerEntry | undefined {
  if (!v) return undefined;
  const [d, s] = v.split(':').map(Number);
  return { deferrals: Number.isFinite(d) ? d : 0, settled: Number.isFinite(s) ? s : 0 };
}

/**
 * The ledger lives in the `runs` KV bucket under `ledger.<stream>.<block>`,
 * one JSON map per LEDGER_BLOCK stream sequences (a sequence names one message
 * for good; the bucket's max age matches the stream's). Notes are gathered for
 * a few milliseconds and merged into their block with a compare-and-set, so
 * deferring a backlog of 100,000 costs about a hundred writes. Nothing is read
 * or written for a first delivery that is acked: the hot path never touches
 * it. What this process noted it also keeps in memory, so a message it
 * deferred and gets back costs no read.
 */
@Injectable()
export class AttemptLedger {
  private readonly local = new Map<string, LedgerEntry>();
  private readonly pending = new Map<string, PendingBlock>();
  /** Blocks being merged now: one merge per block at a time in this process (two would only fail each other's compare-and-set). */
  private readonly merging = new Set<string>();
  private readonly reading = new Map<string, Promise<Block>>();
  private timer?: NodeJS.Timeout;
  private flushQueued = false;

  constructor(private readonly buckets: KvBuckets) {}

  private blockKey(stream: string, seq: number): string {
    return `ledger.${stream}.${Math.floor(seq / LEDGER_BLOCK)}`;
  }

  async read(stream: string, seq: number): Promise<LedgerEntry> {
    const known = this.local.get(`${stream}.${seq}`);
    if (known) return known;
    const key = this.blockKey(stream, seq);
    // Redeliveries of one block come together: one read serves them all.
    let block = this.reading.get(key);
    if (!block) {
      block = this.fetch(key).then((b) => b.value);
      this.reading.set(key, block);
      void block.finally(() => this.reading.delete(key)).catch(() => undefined);
    }
    return decode((await block)[String(seq)]) ?? EMPTY_LEDGER;
  }

  /**
   * Records the delivery being handed back now; resolves once stored (before the nak). `urgent`: a retry
   * waits on it, so its block is merged in this tick instead of after the window that gathers deferrals.
   */
  note(stream: string, seq: number, entry: LedgerEntry, urgent = false): Promise<void> {
    const id = `${stream}.${seq}`;
    this.local.delete(id);
    this.local.set(id, entry);
    if (this.local.size > LOCAL_ENTRIES) this.local.delete(this.local.keys().next().value!);
    const key = this.blockKey(stream, seq);
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { notes: new Map(), urgent: false, waiters: [] }));
    if (urgent) p.urgent = true;
    p.notes.set(seq, entry);
    const stored = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    this.schedule(urgent);
    return stored;
  }

  /** Forgets a message settled for good here; its stored entry is left to the bucket's max age (a write to drop it would cost more than it saves). */
  forget(stream: string, seq: number): void {
    this.local.delete(`${stream}.${seq}`);
  }

  /** The next flush: in this tick's microtasks when a retry waits, else at the end of the gathering window. */
  private schedule(urgent: boolean): void {
    if (!urgent) {
      this.timer ??= setTimeout(() => this.flush(), NOTE_WINDOW_MS);
      return;
    }
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Merges each pending block whose previous merge is done; a block still being merged keeps gathering notes until then. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [key, p] of [...this.pending]) {
      if (this.merging.has(key)) continue;
      this.pending.delete(key);
      this.merging.add(key);
      this.merge(key, p.notes)
        .then(
          () => p.waiters.forEach((w) => w.resolve()),
          (e: unknown) => p.waiters.forEach((w) => w.reject(e)),
        )
        .finally(() => {
          this.merging.delete(key);
          const next = this.pending.get(key);
          if (next) this.schedule(next.urgent);
        });
    }
  }

  private async fetch(key: string): Promise<{ value: Block; revision: number }> {
    const kv = await this.buckets.open(RUNS_BUCKET);
    const e = await kv.get(key);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return { value: {}, revision: e?.revision ?? 0 };
    try {
      return { value: e.json<Block>(), revision: e.revision };
    } catch {
      return { value: {}, revision: e.revision };
    }
  }

  /** Merges notes into their block, retrying when another process wrote it meanwhile. */
  private async merge(key: string, notes: Map<number, LedgerEntry>): Promise<void> {
    const kv: KV = await this.buckets.open(RUNS_BUCKET);
    for (let tries = 0; ; tries++) {
      const { value, revision } = await this.fetch(key);
      for (const [seq, entry] of notes) {
        const stored = decode(value[String(seq)]);
        // A later delivery's note wins: it has seen every earlier one.
        if (!stored || stored.settled <= entry.settled) value[String(seq)] = encode(entry);
      }
      try {
        if (revision === 0) await kv.create(key, JSON.stringify(value));
        else await kv.update(key, JSON.stringify(value), revision);
        return;
      } catch (e) {
        if (tries >= 20) throw e;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (tries + 1)));
      }
    }
  }
}
