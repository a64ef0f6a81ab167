import { Module } from '@nestjs/common';
import { CONSUMERS, consumerDeclaration, JOB_NAMES, JobEnqueuerModule, MetronomeServiceModule } from '../../../libs/common/src/index.js';
import { DeliveryJobs } from './delivery/delivery.jobs.js';
import { DeliveryRepository } from './delivery/delivery.repository.js';
import { DeliveryService } from './delivery/delivery.service.js';
import { Mailer } from './delivery/mailer.js';
import { NotifierOptions } from './delivery/notifier-options.js';
import { WebhookSender } from './delivery/webhook.sender.js';
import { MembersConsumer } from './members/members.consumer.js';
import { MembersRepository } from './members/members.repository.js';
import { NotificationStream } from './notifications/notification-stream.js';
import { NotificationsConsumer } from './notifications/notifications.consumer.js';
import { NotificationsController } from './notifications/notifications.controller.js';
import { NotificationsRepository } from './notifications/notifications.repository.js';
import { NotificationsService } from './notifications/notifications.service.js';
import { NOTIFIER_ENTITIES } from './notifier.entities.js';
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
      jobs: {
        names: [JOB_NAMES.notifierDeliver, JOB_NAMES.notifierWeeklyDigest, JOB_NAMES.notifierMonthlyReport],
        consumers: [consumerDeclaration(CONSUMERS.notifierJobs)],
        concurrency: 16,
      },
    }),
    JobEnqueuerModule,
  ],
  controllers: [MembersConsumer, NotificationsConsumer, NotificationsController, WebhooksController],
  providers: [
    MembersRepository,
    NotificationsRepository,
    NotificationsService,
    NotificationStream,
    WebhooksRepository,
    WebhooksService,
    WebhookTargets,
    HostResolver,
    DeliveryRepository,
    DeliveryService,
    DeliveryJobs,
    Mailer,
    WebhookSender,
    NotifierOptions,
  ],
})
export class NotifierModule {}
