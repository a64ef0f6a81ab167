import { Injectable } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import { CONTROL_BUCKET, CONTROL_KEYS, KvBuckets, type Priority } from '../../../../../libs/common/src/index.js';

export type ControlTarget = 'queue' | 'job';

export interface PauseState {
  paused: boolean;
  by: string;
  at: string;
  reason?: string;
}

/**
 * Key of a target: the job runtime's own keys (libs/common/src/jobs/job-control.ts),
 * which every worker watches. A job's pause is `paused.<job>`; a queue is a
 * priority lane of every service (`queue.<priority>`), the `queue` label of the
 * run metrics.
 */
export const controlKey = (target: ControlTarget, name: string) => (target === 'job' ? CONTROL_KEYS.job(name) : CONTROL_KEYS.queue(name as Priority));

/**
 * Pause and resume through the `control` KV bucket. The runtime's workers watch
 * the bucket; this side only writes and reads it (cached for one second).
 */
@Injectable()
export class ControlStore {
  private cache?: { at: number; entries: Map<string, PauseState> };

  constructor(private readonly buckets: KvBuckets) {}

  private bucket(): Promise<KV> {
    return this.buckets.open(CONTROL_BUCKET);
  }

  /** A pause is a key (`since` as the runtime's PauseRecord has it); a resume deletes it. */
  async set(target: ControlTarget, name: string, state: PauseState): Promise<void> {
    const kv = await this.bucket();
    if (state.paused) await kv.put(controlKey(target, name), JSON.stringify({ ...state, since: state.at }));
    else await kv.delete(controlKey(target, name));
    this.cache = undefined;
  }

  async get(target: ControlTarget, name: string): Promise<PauseState | null> {
    return (await this.all()).get(controlKey(target, name)) ?? null;
  }

  async isPaused(target: ControlTarget, name: string): Promise<boolean> {
    return (await this.get(target, name))?.paused === true;
  }

  /** Every control entry, by key. */
  async all(): Promise<Map<string, PauseState>> {
    if (this.cache && Date.now() - this.cache.at < 1_000) return this.cache.entries;
    const kv = await this.bucket();
    const entries = new Map<string, PauseState>();
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    await Promise.all(keys.map(async (k) => {
      const e = await kv.get(k);
      if (!e || e.operation !== 'PUT' || e.length === 0) return;
      try {
        const v = e.json<Partial<PauseState> & { since?: string }>();
        entries.set(k, { paused: true, by: v.by ?? 'unknown', at: v.at ?? v.since ?? '', ...(v.reason ? { reason: v.reason } : {}) });
      } catch {
        // not ours
      }
    }));
    this.cache = { at: Date.now(), entries };
    return entries;
  }
}
