import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  DocumentDeletedEvent,
  DocumentUpsertedEvent,
  EVENT_TYPES,
  JetStreamContext,
  OnMessage,
} from '../../../../libs/common/src/index.js';
import { ProjectionService } from './projection.service.js';

/** document.upserted / document.deleted from the documents-events consumer. */
@Controller()
export class ProjectionConsumer {
  constructor(private readonly projection: ProjectionService) {}

  @OnMessage(EVENT_TYPES.documentUpserted)
  async onUpserted(@Payload() event: DocumentUpsertedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.projection.applyUpsert(event, ctx.companyId);
  }

  @OnMessage(EVENT_TYPES.documentDeleted)
  async onDeleted(@Payload() event: DocumentDeletedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.projection.applyDelete(event, ctx.companyId);
  }
}
