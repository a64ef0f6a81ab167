import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, ROOT_LOGGER, type AppConfig, type Logger } from '../../../../libs/common/src/index.js';
import { CredentialVerifier } from './credential-verifier.js';

/**
 * DEMO=true only: logs a ready-made system-admin token (12 h) so `npm start`
 * users can sign in to the dashboard. Signed with JWT_SECRET, or with a fixed
 * dev secret when JWT_SECRET is unset (accepted only in DEMO mode).
 */
@Injectable()
export class DemoToken implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly verifier: CredentialVerifier,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.demo) return;
    const token = await this.verifier.sign({ sub: 'demo-admin', role: 'system-admin' });
    this.logger.warn(
      { demoToken: token, devSecret: this.verifier.usesDemoSecret, dashboard: `http://localhost:${this.config.ports.scheduler}/` },
      'DEMO mode: sign in to the dashboard with this system-admin token (never enable DEMO in production)',
    );
  }
}
