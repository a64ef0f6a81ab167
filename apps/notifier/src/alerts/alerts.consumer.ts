import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  alertScope,
  EVENT_TYPES,
  JetStreamContext,
  JobDeadEvent,
  JobSlaBreachedEvent,
  JobTimedOutEvent,
  OnMessage,
  PermanentError,
} from '../../../../libs/common/src/index.js';
import { AlertsService } from './alerts.service.js';

function scopeOf(ctx: JetStreamContext, payloadCompanyId?: string): string {
  if (!ctx.companyId) throw new PermanentError('the event names no scope');
  // A run's own tenant must be the scope its alert was published in.
  if (payloadCompanyId !== undefined && alertScope(payloadCompanyId) !== ctx.companyId) {
    throw new PermanentError(`payload companyId "${payloadCompanyId}" does not belong to the event's scope "${ctx.companyId}"`);
  }
  return ctx.companyId;
}

/** Job alerts (notifier-events): decode, scope, hand to the rate-limited alerting. */
@Controller()
export class AlertsConsumer {
  constructor(private readonly alerts: AlertsService) {}

  @OnMessage(EVENT_TYPES.jobDead)
  async dead(@Payload() e: JobDeadEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.alerts.raise({
      id: ctx.eventId,
      type: EVENT_TYPES.jobDead,
      scope: scopeOf(ctx),
      job: e.job,
      key: `${EVENT_TYPES.jobDead}:${e.job}`,
      data: { runId: e.runId, error: e.error, kind: e.kind, consumer: e.consumer, reason: e.reason, attempts: e.attempts, deadLetterId: e.deadLetterId, failedAt: e.failedAt },
      critical: true,
    });
  }

  @OnMessage(EVENT_TYPES.jobSlaBreached)
  async slaBreached(@Payload() e: JobSlaBreachedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.alerts.raise({
      id: ctx.eventId,
      type: EVENT_TYPES.jobSlaBreached,
      scope: scopeOf(ctx, e.companyId),
      job: e.job,
      key: `${EVENT_TYPES.jobSlaBreached}:${e.job}:${e.kind}`,
      data: { runId: e.runId, kind: e.kind, limitMs: e.limitMs, observedMs: e.observedMs, scheduledFor: e.scheduledFor, breachedAt: e.breachedAt },
      critical: false,
    });
  }

  @OnMessage(EVENT_TYPES.jobTimedOut)
  async timedOut(@Payload() e: JobTimedOutEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.alerts.raise({
      id: ctx.eventId,
      type: EVENT_TYPES.jobTimedOut,
      scope: scopeOf(ctx, e.companyId),
      job: e.job,
      key: `${EVENT_TYPES.jobTimedOut}:${e.job}`,
      data: { runId: e.runId, attempt: e.attempt, maxAttempts: e.maxAttempts, timeoutMs: e.timeoutMs, final: e.final, timedOutAt: e.timedOutAt },
      critical: false,
    });
  }
}
