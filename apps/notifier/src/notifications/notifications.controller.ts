import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Sse, UseFilters, UseGuards, UsePipes, type MessageEvent } from '@nestjs/common';
import { interval, map, merge, Observable, takeUntil } from 'rxjs';
import { ProblemException, ProblemJsonFilter, problemValidationPipe } from '../../../../libs/common/src/http/problem-json.filter.js';
import { Tenant, TenantGuard, type TenantContext } from '../../../../libs/common/src/http/tenant.guard.js';
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

/** The calling user's in-app notifications: list, unread count, mark read, live stream. */
@Controller('api/v1/notifications')
@UseGuards(TenantGuard)
@UseFilters(ProblemJsonFilter)
@UsePipes(problemValidationPipe())
export class NotificationsController {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly stream: NotificationStream,
  ) {}

  @Get()
  async list(@Tenant() t: TenantContext, @Query() q: ListNotificationsQuery) {
    const limit = q.limit ?? 50;
    const items = await this.notifications.list(t.companyId, t.userId, q.unread ?? false, q.cursor ? decodeCursor(q.cursor) : null, limit);
    const last = items.length === limit ? items[items.length - 1] : null;
    return { items: items.map(view), nextCursor: last ? encodeCursor(last) : null, limit };
  }

  @Get('unread-count')
  async unreadCount(@Tenant() t: TenantContext) {
    return { unread: await this.notifications.unreadCount(t.companyId, t.userId) };
  }

  /** Server-sent events: every notification created for the caller from now on, by any notifier replica. */
  @Sse('stream')
  live(@Tenant() t: TenantContext): Observable<MessageEvent> {
    const notifications = new Observable<MessageEvent>((subscriber) => {
      const off = this.stream.subscribe(t.companyId, t.userId, (n) => subscriber.next({ id: n.id, type: 'notification', data: view(n) }));
      return off;
    });
    // A heartbeat keeps proxies from closing an idle stream.
    const heartbeat = interval(SSE_HEARTBEAT_MS).pipe(map((): MessageEvent => ({ type: 'heartbeat', data: '' })));
    return merge(notifications, heartbeat).pipe(takeUntil(this.stream.closing));
  }

  @Post('read')
  @HttpCode(200)
  async markRead(@Tenant() t: TenantContext, @Body() body: MarkReadBody) {
    return { marked: await this.notifications.markRead(t.companyId, t.userId, body?.ids ?? null, new Date()) };
  }

  @Post(':id/read')
  @HttpCode(200)
  async markOneRead(@Tenant() t: TenantContext, @Param('id', new ParseUUIDPipe()) id: string) {
    const marked = await this.notifications.markRead(t.companyId, t.userId, [id], new Date());
    return { id, marked };
  }
}
