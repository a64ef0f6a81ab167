import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  DocumentAcknowledgedEvent,
  EVENT_TYPES,
  JetStreamContext,
  OnMessage,
  PermanentError,
} from '../../../../libs/common/src/index.js';
import { ExpiryService } from './expiry.service.js';

@Controller()
export class ExpiryConsumer {
  constructor(private readonly expiry: ExpiryService) {}

  /** Someone saw the alerts (documents-events): stops their escalation. */
  @OnMessage(EVENT_TYPES.documentAcknowledged)
  async onAcknowledged(@Payload() event: DocumentAcknowledgedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    if (ctx.companyId !== undefined && ctx.companyId !== event.companyId) {
      throw new PermanentError(`payload companyId "${event.companyId}" differs from the event's tenant "${ctx.companyId}"`);
    }
    await this.expiry.acknowledge(
      event.companyId,
      event.id,
      event.acknowledgedBy ?? null,
      event.occurredAt ? new Date(event.occurredAt) : this.expiry.now(),
      event.expiresAt ? new Date(event.expiresAt) : null,
    );
  }
}
