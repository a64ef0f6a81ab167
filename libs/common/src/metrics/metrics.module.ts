import { Global, Module } from '@nestjs/common';
import { SERVICE_NAME } from '../logging/logging.module.js';
import { MetronomeMetrics } from './metrics.registry.js';

@Global()
@Module({
  providers: [{ provide: MetronomeMetrics, inject: [SERVICE_NAME], useFactory: (s: string) => new MetronomeMetrics(s) }],
  exports: [MetronomeMetrics],
})
export class MetricsModule {}
