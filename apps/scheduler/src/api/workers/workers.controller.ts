import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, SecuredApi } from '../../../../../libs/common/src/auth/index.js';
import { WorkersService } from './workers.service.js';

@ApiTags('workers')
@SecuredApi()
@Controller('api/v1/workers')
export class WorkersController {
  constructor(private readonly workers: WorkersService) {}

  @Get()
  @Authorize('platform')
  @ApiOperation({ summary: 'Worker processes of every service: jobs, concurrency, in flight, waiting, heartbeat age and running attempts (the workers KV bucket)' })
  async list() {
    return { items: await this.workers.list() };
  }
}
