import { Body, Controller, Delete, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ProblemException } from '../../../../libs/common/src/http/problem-json.filter.js';
import { Actor, Authorize, SecuredApi, Tenant, type TenantContext } from '../../../../libs/common/src/auth/index.js';
import { Audited, AuditLog, type AuditActor } from '../../../../libs/common/src/audit/index.js';
import { PushSubscriptionBody } from './dto/push.dto.js';
import { PushRepository } from './push.repository.js';
import { PushSender } from './push.sender.js';
import type { PushSubscription } from './push.types.js';

/** A subscription as its owner sees it: the endpoint's origin only (the full URL is a capability of that browser). */
const view = (s: PushSubscription) => ({
  id: s.id,
  endpointOrigin: new URL(s.endpoint).origin,
  expiresAt: s.expiresAt?.toISOString() ?? null,
  userAgent: s.userAgent,
  createdAt: s.createdAt.toISOString(),
  lastSuccessAt: s.lastSuccessAt?.toISOString() ?? null,
});

const notConfigured = () =>
  new ProblemException(404, 'https://metronome.dev/problems/push-not-configured', 'Push is not configured', 'This installation has no VAPID keys (PUSH_VAPID_PUBLIC_KEY, PUSH_VAPID_PRIVATE_KEY, PUSH_VAPID_SUBJECT)');
const notFound = () => new ProblemException(404, 'https://metronome.dev/problems/push-subscription-not-found', 'Push subscription not found', 'You have no push subscription with this id');

/**
 * The calling user's Web Push subscriptions: the VAPID key to subscribe with, register, list, unregister.
 * The user is the verified token's `sub` in its `companyId` (permission `inbox`, like the in-app notifications).
 */
@Controller('api/v1/push')
@SecuredApi()
export class PushController {
  constructor(
    private readonly subscriptions: PushRepository,
    private readonly sender: PushSender,
    private readonly audit: AuditLog,
  ) {}

  /** The applicationServerKey for PushManager.subscribe(). */
  @Get('vapid-public-key')
  @Authorize('inbox')
  publicKey() {
    if (!this.sender.publicKey) throw notConfigured();
    return { publicKey: this.sender.publicKey };
  }

  /** Registers (or refreshes) the browser's subscription for the caller; the same endpoint again is the same subscription. */
  @Post('subscriptions')
  @Audited('push-subscription.register')
  @HttpCode(201)
  @Authorize('inbox')
  async register(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Body() body: PushSubscriptionBody, @Headers('user-agent') userAgent?: string) {
    if (!this.sender.enabled) throw notConfigured();
    // The entry holds the subscription as its owner sees it: the endpoint's origin, never the keys or the full URL.
    return this.audit.change(a, { action: 'push-subscription.register', targetType: 'push-subscription', targetId: (v) => v.id, companyId: t.companyId },
      async () => view(await this.subscriptions.upsert(t.companyId, t.userId, {
        endpoint: body.endpoint,
        p256dh: body.keys.p256dh,
        auth: body.keys.auth,
        expiresAt: body.expirationTime ? new Date(body.expirationTime) : null,
        userAgent: userAgent?.slice(0, 300) ?? null,
      })));
  }

  @Get('subscriptions')
  @Authorize('inbox')
  async list(@Tenant() t: TenantContext) {
    return { items: (await this.subscriptions.ofUser(t.companyId, t.userId)).map(view) };
  }

  @Delete('subscriptions/:id')
  @Audited('push-subscription.delete')
  @HttpCode(204)
  @Authorize('inbox')
  async unregister(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.audit.change(a, {
      action: 'push-subscription.delete', targetType: 'push-subscription', targetId: id, companyId: t.companyId,
      before: async () => (await this.subscriptions.ofUser(t.companyId, t.userId)).filter((s) => s.id === id).map(view)[0] ?? null, after: () => null,
    }, async () => {
      if (!(await this.subscriptions.deleteOwn(t.companyId, t.userId, id))) throw notFound();
    });
  }
}
