import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Sse, type MessageEvent } from '@nestjs/common';
import { finalize, interval, map, merge, Observable, takeUntil, timer } from 'rxjs';
import { ProblemException } from '../../../../libs/common/src/http/problem-json.filter.js';
import { SseSlots } from '../../../../libs/common/src/http/sse-slots.js';
import { Actor, Authorize, CurrentPrincipal, SecuredApi, Tenant, type Principal, type TenantContext } from '../../../../libs/common/src/auth/index.js';
import { Audited, AuditLog, type AuditActor } from '../../../../libs/common/src/audit/index.js';
import { ListNotificationsQuery, MarkReadBody } from './dto/notifications.dto.js';
import { NotificationStream } from './notification-stream.js';
import { NotificationsService } from './notifications.service.js';
import type { Notification, NotificationCursor } from './notifications.types.js';

const view = (n: Notification) => ({
  id: n.id,
  type: n.type,
  title: n.title,
  body: n.body,
  data: n.data,
  critical: n.critical,
  sourceEventId: n.sourceEventId,
  createdAt: n.createdAt.toISOString(),
  readAt: n.readAt?.toISOString() ?? null,
});

const SSE_HEARTBEAT_MS = 25_000;
/** setTimeout's longest delay; a stream outliving it ends then and the client reconnects. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const invalidCursor = () => new ProblemException(400, 'https://metronome.dev/problems/invalid-cursor', 'Invalid cursor', 'cursor must be the nextCursor of a previous page');

function encodeCursor(c: NotificationCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.id])).toString('base64url');
}

function decodeCursor(raw: string): NotificationCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [unknown, unknown];
    const createdAt = new Date(String(at));
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(createdAt.getTime())) throw new Error('shape');
    return { createdAt, id };
  } catch {
    throw invalidCursor();
  }
}

/**
 * The calling user's in-app notifications: list, unread count, mark read, live stream. The user is the
 * verified token's `sub` in its `companyId` (permission `inbox`: user, viewer and tenant-admin tokens).
 */
@Controller('api/v1/notifications')
@SecuredApi()
export class NotificationsController {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly stream: NotificationStream,
    private readonly slots: SseSlots,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @Authorize('inbox')
  async list(@Tenant() t: TenantContext, @Query() q: ListNotificationsQuery) {
    const limit = q.limit ?? 50;
    const items = await this.notifications.list(t.companyId, t.userId, q.unread ?? false, q.cursor ? decodeCursor(q.cursor) : null, limit);
    const last = items.length === limit ? items[items.length - 1] : null;
    return { items: items.map(view), nextCursor: last ? encodeCursor(last) : null, limit };
  }

  @Get('unread-count')
  @Authorize('inbox')
  async unreadCount(@Tenant() t: TenantContext) {
    return { unread: await this.notifications.unreadCount(t.companyId, t.userId) };
  }

  /**
   * Server-sent events: every notification created for the caller from now on, by any notifier replica (fanned out over NATS core).
   * Authenticated like every route (Authorization header, read with fetch; never a token in the URL);
   * at most SSE_MAX_PER_USER streams per user and SSE_MAX_PER_PROCESS per process (429 beyond); the stream
   * ends when the credential expires, so a client reconnects with a fresh token.
   */
  @Sse('stream')
  @Authorize('inbox')
  live(@Tenant() t: TenantContext, @CurrentPrincipal() p: Principal): Observable<MessageEvent> {
    const release = this.slots.acquire(`${t.companyId}\u001f${t.userId}`);
    const expired = p.expiresAt ? timer(Math.min(MAX_TIMER_MS, Math.max(0, p.expiresAt.getTime() - Date.now()))) : new Observable<never>();
    const notifications = new Observable<MessageEvent>((subscriber) => {
      const off = this.stream.subscribe(t.companyId, t.userId, (n) => subscriber.next({ id: n.id, type: 'notification', data: view(n) }));
      return off;
    });
    // A heartbeat keeps proxies from closing an idle stream.
    const heartbeat = interval(SSE_HEARTBEAT_MS).pipe(map((): MessageEvent => ({ type: 'heartbeat', data: '' })));
    return merge(notifications, heartbeat).pipe(takeUntil(merge(this.stream.closing, expired)), finalize(release));
  }

  @Post('read')
  @Audited('notification.read')
  @HttpCode(200)
  @Authorize('inbox')
  async markRead(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Body() body: MarkReadBody) {
    const ids = body?.ids ?? null;
    return this.audit.change(a, { action: 'notification.read', targetType: 'notification', targetId: ids?.length === 1 ? ids[0] : null, companyId: t.companyId, after: (r) => ({ userId: t.userId, ids: ids ?? 'all-unread', ...r }) },
      async () => ({ marked: await this.notifications.markRead(t.companyId, t.userId, ids, new Date()) }));
  }

  @Post(':id/read')
  @Audited('notification.read')
  @HttpCode(200)
  @Authorize('inbox')
  async markOneRead(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Param('id', new ParseUUIDPipe()) id: string) {
    return this.audit.change(a, { action: 'notification.read', targetType: 'notification', targetId: id, companyId: t.companyId, after: (r) => ({ userId: t.userId, ...r }) },
      async () => ({ id, marked: await this.notifications.markRead(t.companyId, t.userId, [id], new Date()) }));
  }
}
