import { Module } from '@nestjs/common';
import { Clock, SystemClock } from '../clock.js';
import { SettingsModule } from '../settings/settings.module.js';
import { AlertPublisher } from './alert.publisher.js';
import { ExpiryConsumer } from './expiry.consumer.js';
import { ExpiryJobs } from './expiry.jobs.js';
import { ExpiryRepository } from './expiry.repository.js';
import { ExpiryService } from './expiry.service.js';

@Module({
  imports: [SettingsModule],
  controllers: [ExpiryConsumer],
  providers: [ExpiryJobs, ExpiryService, ExpiryRepository, AlertPublisher, { provide: Clock, useClass: SystemClock }],
  exports: [ExpiryService, Clock],
})
export class ExpiryModule {}
