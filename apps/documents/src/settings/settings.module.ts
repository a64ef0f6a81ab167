import { Module } from '@nestjs/common';
import { SettingsController } from './settings.controller.js';
import { SettingsRepository } from './settings.repository.js';
import { SettingsService } from './settings.service.js';
import { TenantEventsConsumer } from './tenant-events.consumer.js';
import { TenantZoneRepository } from './tenant-zone.repository.js';

@Module({
  controllers: [SettingsController, TenantEventsConsumer],
  providers: [SettingsService, SettingsRepository, TenantZoneRepository],
  exports: [SettingsService],
})
export class SettingsModule {}
