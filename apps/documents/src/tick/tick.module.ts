import { Module } from '@nestjs/common';
import { TickJobs } from './tick.jobs.js';
import { TickRepository } from './tick.repository.js';
import { TickService } from './tick.service.js';

@Module({ providers: [TickJobs, TickService, TickRepository] })
export class TickModule {}
