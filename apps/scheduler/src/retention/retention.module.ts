import { Module } from '@nestjs/common';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { RetentionConsumer } from './retention.consumer.js';
import { RetentionRepository } from './retention.repository.js';
import { RetentionService } from './retention.service.js';

@Module({ imports: [SchedulesModule], controllers: [RetentionConsumer], providers: [RetentionService, RetentionRepository], exports: [RetentionService] })
export class RetentionModule {}
