import { Module } from '@nestjs/common';
import { CONSUMERS, consumerDeclaration, JOB_NAMES, jobConsumerDeclarations, MetronomeServiceModule } from '../../../libs/common/src/index.js';
import { DOCUMENTS_ENTITIES } from './documents.entities.js';
import { ExpiryModule } from './expiry/expiry.module.js';
import { ProjectionModule } from './projection/projection.module.js';
import { SettingsModule } from './settings/settings.module.js';
import { TickModule } from './tick/tick.module.js';

@Module({
  imports: [
    MetronomeServiceModule.forService({
      service: 'documents',
      consumers: [consumerDeclaration(CONSUMERS.documentsEvents), consumerDeclaration(CONSUMERS.documentsTenants)],
      entities: DOCUMENTS_ENTITIES,
      // Tick and expiry scans run on the job runtime: run history, priorities, pause, cancel (docs/jobs.md).
      jobs: {
        names: [JOB_NAMES.documentsTick, JOB_NAMES.documentsExpiryScan, JOB_NAMES.documentsExpiryScanAll],
        consumers: jobConsumerDeclarations('documents'),
        concurrency: 16,
      },
    }),
    TickModule,
    SettingsModule,
    ExpiryModule,
    ProjectionModule,
  ],
})
export class DocumentsModule {}
