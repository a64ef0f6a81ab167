import { Module } from '@nestjs/common';
import { CONSUMERS, consumerDeclaration, JOB_NAMES, JobEnqueuerModule, jobConsumerDeclarations, MetronomeServiceModule } from '../../../libs/common/src/index.js';
import { AlertSummaryJobs } from './alerts/alert-summary.jobs.js';
import { AlertsConsumer } from './alerts/alerts.consumer.js';
import { AlertsRepository } from './alerts/alerts.repository.js';
import { AlertsService } from './alerts/alerts.service.js';
import { DeliveryJobs } from './delivery/delivery.jobs.js';
import { DeliveryRepository } from './delivery/delivery.repository.js';
import { DeliveryService } from './delivery/delivery.service.js';
import { Mailer } from './delivery/mailer.js';
import { NotifierOptions } from './delivery/notifier-options.js';
import { WebhookSender } from './delivery/webhook.sender.js';
import { MembersConsumer } from './members/members.consumer.js';
import { MembersRepository } from './members/members.repository.js';
import { Recipients } from './members/recipients.js';
import { NotificationFanout } from './notifications/notification-fanout.js';
import { NotificationStream } from './notifications/notification-stream.js';
import { NotificationsConsumer } from './notifications/notifications.consumer.js';
import { NotificationsController } from './notifications/notifications.controller.js';
import { NotificationsRepository } from './notifications/notifications.repository.js';
import { NotificationsService } from './notifications/notifications.service.js';
import { NOTIFIER_ENTITIES } from './notifier.entities.js';
import { PushController } from './push/push.controller.js';
import { PushRepository } from './push/push.repository.js';
import { PushSender } from './push/push.sender.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';
import { WebhooksRepository } from './webhooks/webhooks.repository.js';
import { HostResolver } from './webhooks/host-resolver.js';
import { WebhookTargets } from './webhooks/webhook-targets.js';
import { WebhooksService } from './webhooks/webhooks.service.js';

@Module({
  imports: [
    MetronomeServiceModule.forService({
      service: 'notifier',
      consumers: [consumerDeclaration(CONSUMERS.notifierEvents)],
      entities: NOTIFIER_ENTITIES,
      // On the job runtime's per-priority consumers: unlimited deliveries, attempts counted by the runtime,
      // so a snoozed delivery (quiet hours, an open circuit) waits as long as it must without being stranded.
      jobs: {
        names: [JOB_NAMES.notifierDeliver, JOB_NAMES.notifierWeeklyDigest, JOB_NAMES.notifierMonthlyReport, JOB_NAMES.notifierAlertSummary],
        consumers: jobConsumerDeclarations('notifier'),
        concurrency: 16,
      },
    }),
    JobEnqueuerModule,
  ],
  controllers: [MembersConsumer, NotificationsConsumer, AlertsConsumer, NotificationsController, WebhooksController, PushController],
  providers: [
    MembersRepository,
    Recipients,
    NotificationsRepository,
    NotificationsService,
    NotificationStream,
    NotificationFanout,
    AlertsRepository,
    AlertsService,
    AlertSummaryJobs,
    WebhooksRepository,
    WebhooksService,
    WebhookTargets,
    HostResolver,
    PushRepository,
    PushSender,
    DeliveryRepository,
    DeliveryService,
    DeliveryJobs,
    Mailer,
    WebhookSender,
    NotifierOptions,
  ],
})
export class NotifierModule {}
