import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { problems } from './problems.js';

/** How long a client refused a stream slot is asked to wait before reconnecting. */
export const SSE_RETRY_AFTER_S = 30;

/**
 * Caps open server-sent-event streams: SSE_MAX_PER_USER per user (tenant + subject) and SSE_MAX_PER_PROCESS in
 * this process, so one user or a flood of connections cannot hold every socket. Beyond either: 429.
 */
@Injectable()
export class SseSlots {
  private readonly perUser = new Map<string, number>();
  private open = 0;
  private readonly maxPerUser: number;
  private readonly maxPerProcess: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.maxPerUser = config.api.sseMaxPerUser;
    this.maxPerProcess = config.api.sseMaxPerProcess;
  }

  get openStreams(): number {
    return this.open;
  }

  /** Takes a slot for `user` or throws 429 problem+json; the returned function gives it back (once). */
  acquire(user: string): () => void {
    const mine = this.perUser.get(user) ?? 0;
    if (mine >= this.maxPerUser) {
      throw problems.tooMany(SSE_RETRY_AFTER_S, `At most ${this.maxPerUser} open notification streams per user; close one first`);
    }
    if (this.open >= this.maxPerProcess) throw problems.tooMany(SSE_RETRY_AFTER_S, 'This server holds as many notification streams as it may; retry later');
    this.perUser.set(user, mine + 1);
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const left = (this.perUser.get(user) ?? 1) - 1;
      if (left <= 0) this.perUser.delete(user);
      else this.perUser.set(user, left);
    };
  }
}
