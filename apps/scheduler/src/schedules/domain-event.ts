import type { JetStreamContext } from '../../../../libs/common/src/index.js';
import type { DomainEvent } from './schedules.service.js';

/** A delivered event as event-triggered schedules see it. */
export function domainEvent(ctx: JetStreamContext): DomainEvent {
  return { id: ctx.eventId, type: ctx.event.type, companyId: ctx.companyId, time: ctx.event.time, data: ctx.event.data };
}
