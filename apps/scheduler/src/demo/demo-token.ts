import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, ROOT_LOGGER, type AppConfig, type Logger } from '../../../../libs/common/src/index.js';
import { CredentialVerifier } from '../../../../libs/common/src/auth/index.js';

/**
 * DEMO=true only: writes a ready-made 12-hour system-admin token to DEMO_TOKEN_FILE (mode 0600) so an
 * `npm start` user can sign in to the dashboard and call all four APIs. The token itself is never logged:
 * the log says where it is and how to use it. Signed with JWT_SECRET, or with the demo secret generated
 * beside the file when JWT_SECRET is unset (accepted only in DEMO mode).
 */
@Injectable()
export class DemoToken implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly verifier: CredentialVerifier,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.demo || !this.verifier.canSign) return;
    const token = await this.verifier.sign({ sub: 'demo-admin', role: 'system-admin' });
    const file = resolve(this.config.auth.demoTokenFile);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const draft = `${file}.${process.pid}.tmp`;
    writeFileSync(draft, `${token}\n`, { mode: 0o600 });
    renameSync(draft, file);
    const { scheduler, documents } = this.config.ports;
    this.logger.warn(
      {
        tokenFile: file,
        dashboard: `http://localhost:${scheduler}/`,
        example: `curl -H "Authorization: Bearer $(cat ${file})" -H "X-Act-For-Company: acme" http://localhost:${documents}/api/v1/documents`,
      },
      'DEMO mode: a 12-hour system-admin token is in tokenFile; paste it at the dashboard sign-in, or send it as a bearer token to any of the four APIs (never enable DEMO in production)',
    );
  }
}
