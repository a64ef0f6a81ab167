import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { NatsConnectionService } from '../messaging/nats-connection.service.js';
import { MetronomeMetrics } from '../metrics/metrics.registry.js';
import { Public } from '../auth/authorize.decorator.js';

/** Liveness, readiness and Prometheus: open on purpose (probes and scrapers carry no credentials). */
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly nats: NatsConnectionService,
    private readonly dataSource: DataSource,
    private readonly metrics: MetronomeMetrics,
  ) {}

  /** Liveness: the event loop answers. */
  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: NATS and Postgres both answer. */
  @Get('readyz')
  async readyz(@Res() res: Response): Promise<void> {
    const [nats, postgres] = await Promise.all([
      this.nats.ping(),
      this.dataSource.query('SELECT 1').then(() => true, () => false),
    ]);
    this.metrics.dependencyUp.set({ dependency: 'postgres' }, postgres ? 1 : 0);
    this.metrics.dependencyUp.set({ dependency: 'nats' }, nats ? 1 : 0);
    const ready = nats && postgres;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: { nats, postgres } });
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async prometheus(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}
