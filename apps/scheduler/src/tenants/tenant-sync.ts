import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { errorText, ROOT_LOGGER, type Logger } from '../../../../libs/common/src/index.js';
import { TenantsService } from './tenants.service.js';

const EVERY_MS = 30_000;

/** Runs the registry's repair (unannounced versions, missing tenant schedules) at start and every 30 s. */
@Injectable()
export class TenantSync implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly tenants: TenantsService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
    const loop = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.run().finally(loop), EVERY_MS);
    };
    loop();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    try {
      const fixed = await this.tenants.reconcile();
      if (fixed) this.logger.info({ fixed }, 'tenant registry repaired');
    } catch (e) {
      this.logger.warn({ error: errorText(e) }, 'tenant registry repair failed; next try in 30 s');
    }
  }
}
