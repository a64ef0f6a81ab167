import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { JOB_NAMES, OnMessage } from '../../../../libs/common/src/index.js';
import { RetentionJob } from './dto/retention-job.contract.js';
import { RetentionService } from './retention.service.js';

@Controller()
export class RetentionConsumer {
  constructor(private readonly retention: RetentionService) {}

  @OnMessage(JOB_NAMES.schedulerRetention)
  async onRetention(@Payload() _job: RetentionJob): Promise<void> {
    await this.retention.purge();
  }
}
