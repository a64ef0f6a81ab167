import { Module } from '@nestjs/common';
import { JobStatsRepository } from './job-stats.repository.js';
import { QueueSampler } from './queue-sampler.service.js';
import { QueueStatsReader } from './queue-stats.reader.js';
import { QueueStatsRepository } from './queue-stats.repository.js';
import { StatsService } from './stats.service.js';

/** Time series for the dashboard's charts, and the sampler of queue depth and lag they read. */
@Module({
  providers: [JobStatsRepository, QueueStatsRepository, QueueStatsReader, QueueSampler, StatsService],
  exports: [StatsService],
})
export class StatsModule {}
