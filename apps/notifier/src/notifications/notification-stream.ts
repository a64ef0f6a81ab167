import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Subject } from 'rxjs';
import type { Notification } from './notifications.types.js';

/**
 * The SSE streams open on this process. Fed by NotificationFanout, which
 * brings every replica's new notifications over NATS core, so a stream sees
 * what any replica stored.
 */
@Injectable()
export class NotificationStream implements OnModuleDestroy {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  /** Emits once at shutdown: open streams end so the HTTP server can close. */
  readonly closing = new Subject<void>();

  onModuleDestroy(): void {
    this.closing.next();
    this.closing.complete();
  }

  publish(items: Notification[]): void {
    for (const n of items) this.emitter.emit(`${n.companyId}\u001f${n.userId}`, n);
  }

  subscribe(companyId: string, userId: string, listener: (n: Notification) => void): () => void {
    const key = `${companyId}\u001f${userId}`;
    this.emitter.on(key, listener);
    return () => this.emitter.off(key, listener);
  }
}
