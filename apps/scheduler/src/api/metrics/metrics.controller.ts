import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CONSUMER_DECLARATIONS, NatsConnectionService, STREAMS } from '../../../../../libs/common/src/index.js';
import { SecuredApi, Authorize, CurrentPrincipal } from '../../../../../libs/common/src/auth/index.js';
import { tenantScope, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { MetricsQuery } from '../dto/api.dto.js';
import { MetricsRepository } from './metrics.repository.js';

const HOUR = 3_600_000;

export interface ConsumerLag {
  stream: string;
  consumer: string;
  /** Messages not yet delivered (the lag). */
  pending: number;
  ackPending: number;
  redelivered: number;
  waiting: number;
}

@ApiTags('metrics')
@SecuredApi()
@Controller('api/v1/metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsRepository,
    private readonly nats: NatsConnectionService,
  ) {}

  @Get('summary')
  @Authorize('read')
  @ApiOperation({
    summary: 'Per job: success rate, duration p50/p95, throughput per minute and hour, queue depth; per queue depth; consumer lag (platform callers)',
  })
  async summary(@CurrentPrincipal() p: Principal, @Query() q: MetricsQuery) {
    const scope = tenantScope(p);
    const windowHours = q.windowHours ?? 24;
    const [jobs, queues, consumers] = await Promise.all([
      this.metrics.perJob(scope, new Date(Date.now() - windowHours * HOUR), q.job),
      this.metrics.queueDepth(scope),
      scope === null ? this.consumerLag() : Promise.resolve(null),
    ]);
    return { windowHours, generatedAt: new Date(), jobs, queues, consumers };
  }

  /** JetStream consumer info of every declared job and event consumer (null entries are left out when unreachable). */
  private async consumerLag(): Promise<ConsumerLag[]> {
    try {
      const jsm = await this.nats.jsm();
      const out: (ConsumerLag | null)[] = await Promise.all(CONSUMER_DECLARATIONS.filter((c) => c.stream === STREAMS.JOBS || c.stream === STREAMS.EVENTS).map(async (c): Promise<ConsumerLag | null> => {
        try {
          const info = await jsm.consumers.info(c.stream, c.durable);
          return { stream: c.stream, consumer: c.durable, pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered, waiting: info.num_waiting };
        } catch {
          return null;
        }
      }));
      return out.filter((c): c is ConsumerLag => c !== null);
    } catch {
      return [];
    }
  }
}
