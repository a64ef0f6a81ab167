import { Module } from '@nestjs/common';
import { JobStatsCompactionRepository } from './job-stats-compaction.repository.js';
import { JobStatsCompactor } from './job-stats-compactor.service.js';
import { JobStatsRollRepository } from './job-stats-roll.repository.js';
import { JobStatsRoller } from './job-stats-roller.service.js';
import { JobStatsRepository } from './job-stats.repository.js';
import { QueueSampler } from './queue-sampler.service.js';
import { QueueStatsReader } from './queue-stats.reader.js';
import { QueueStatsRepository } from './queue-stats.repository.js';
import { StatsService } from './stats.service.js';

/** Time series for the dashboard's charts, the sampler of queue depth and lag they read, and the roller and compactor of the job rollup. */
@Module({
  providers: [JobStatsRepository, JobStatsRollRepository, JobStatsRoller, JobStatsCompactionRepository, JobStatsCompactor, QueueStatsRepository, QueueStatsReader, QueueSampler, StatsService],
  exports: [StatsService],
})
export class StatsModule {}
