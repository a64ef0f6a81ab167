import { Module } from '@nestjs/common';
import { ExpiryModule } from '../expiry/expiry.module.js';
import { ProjectionConsumer } from './projection.consumer.js';
import { ProjectionController } from './projection.controller.js';
import { ProjectionRepository } from './projection.repository.js';
import { ProjectionService } from './projection.service.js';

@Module({
  imports: [ExpiryModule],
  controllers: [ProjectionConsumer, ProjectionController],
  providers: [ProjectionService, ProjectionRepository],
})
export class ProjectionModule {}
