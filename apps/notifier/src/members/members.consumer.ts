import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { EVENT_TYPES, JetStreamContext, memberEventOrder, MemberRemovedEvent, MemberUpsertedEvent, OnMessage, PermanentError } from '../../../../libs/common/src/index.js';
import { MembersRepository } from './members.repository.js';

/** The member directory the notifier resolves recipients from (notifier-events). */
@Controller()
export class MembersConsumer {
  constructor(private readonly members: MembersRepository) {}

  @OnMessage(EVENT_TYPES.memberUpserted)
  async upserted(@Payload() e: MemberUpsertedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    assertTenant(e.companyId, ctx);
    await this.members.apply({
      companyId: e.companyId,
      userId: e.userId,
      roles: e.roles,
      email: e.email ?? null,
      locale: e.locale ?? null,
      timezone: e.timezone ?? null,
      optOut: (e.preferences?.optOut ?? []).map((o) => ({ type: o.type, channel: o.channel })),
      quietHours: e.quietHours ? { start: e.quietHours.start, end: e.quietHours.end } : null,
      removed: false,
      order: memberEventOrder(e),
    });
  }

  @OnMessage(EVENT_TYPES.memberRemoved)
  async removed(@Payload() e: MemberRemovedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    assertTenant(e.companyId, ctx);
    await this.members.apply({
      companyId: e.companyId, userId: e.userId, roles: [], email: null, locale: null, timezone: null, optOut: [], quietHours: null, removed: true, order: memberEventOrder(e),
    });
  }
}

export function assertTenant(companyId: string, ctx: JetStreamContext): void {
  if (ctx.companyId !== companyId) throw new PermanentError(`payload companyId "${companyId}" does not match the event's tenant "${ctx.companyId}"`);
}
