import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { EVENT_TYPES, JetStreamContext, memberEventOrder, MemberRemovedEvent, MemberUpsertedEvent, OnMessage, PermanentError } from '../../../../libs/common/src/index.js';
import { MembersRepository } from './members.repository.js';

/** The member directory recurrence assigns tasks from (round-robin by role). */
@Controller()
export class MembersConsumer {
  constructor(private readonly members: MembersRepository) {}

  @OnMessage(EVENT_TYPES.memberUpserted)
  async upserted(@Payload() e: MemberUpsertedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    assertTenant(e.companyId, ctx);
    await this.members.apply(e.companyId, e.userId, e.roles, false, memberEventOrder(e));
  }

  @OnMessage(EVENT_TYPES.memberRemoved)
  async removed(@Payload() e: MemberRemovedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    assertTenant(e.companyId, ctx);
    await this.members.apply(e.companyId, e.userId, [], true, memberEventOrder(e));
  }
}

function assertTenant(companyId: string, ctx: JetStreamContext): void {
  if (ctx.companyId !== companyId) throw new PermanentError(`payload companyId "${companyId}" does not match the event's tenant "${ctx.companyId}"`);
}
