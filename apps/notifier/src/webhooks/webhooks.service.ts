import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, errorText, FieldEncryption, isEncrypted, ROOT_LOGGER, type AppConfig, type EncryptedValue, type Logger } from '../../../../libs/common/src/index.js';
import { WebhookTargets } from './webhook-targets.js';
import { WebhooksRepository, type Webhook } from './webhooks.repository.js';

/** Webhook secrets cannot be stored encrypted: no key is configured where it is required (production). */
export class WebhookSecretsUnprotectedError extends Error {
  constructor() {
    super('webhook secrets are stored encrypted and no encryption key is configured (ENCRYPTION_KEYS, ENCRYPTION_ACTIVE_KEY)');
    this.name = 'WebhookSecretsUnprotectedError';
  }
}

/** A secret that is itself an encrypted envelope would be read back as one. */
export class WebhookSecretFormatError extends Error {
  constructor() {
    super('secret: must not look like an encrypted value ({"$enc": ...})');
    this.name = 'WebhookSecretFormatError';
  }
}

function parseStored(stored: string): EncryptedValue | null {
  if (!stored.startsWith('{"$enc"')) return null;
  try {
    const v = JSON.parse(stored) as unknown;
    return isEncrypted(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * Tenant webhooks: the target is checked (WebhookTargets) before it is
 * stored, and the signing secret is stored encrypted with the field cipher
 * (ENCRYPTION_KEYS / ENCRYPTION_ACTIVE_KEY; `npm run rotate-keys` re-encrypts
 * it with the others). Rows written before encryption, or while no key was
 * configured, are encrypted at start; without a key, secrets stay plain
 * outside production and production refuses to register a webhook.
 */
@Injectable()
export class WebhooksService implements OnApplicationBootstrap {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly targets: WebhookTargets,
    private readonly cipher: FieldEncryption,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.cipher.enabled) {
      this.log.warn('webhook secrets are stored unencrypted: set ENCRYPTION_KEYS and ENCRYPTION_ACTIVE_KEY');
      return;
    }
    try {
      let encrypted = 0;
      for (const row of await this.webhooks.secrets()) {
        if (parseStored(row.secret)) continue;
        if (await this.webhooks.replaceSecret(row.id, row.secret, JSON.stringify(this.cipher.encrypt(row.secret)))) encrypted++;
      }
      if (encrypted) this.log.info({ encrypted }, 'encrypted webhook secrets stored in plain text');
    } catch (e) {
      this.log.error({ error: errorText(e) }, 'could not encrypt the plain webhook secrets; they are encrypted at the next start');
    }
  }

  /** Registers (or replaces) the tenant's webhook: WebhookTargetError for a URL it may not use. */
  async put(companyId: string, w: { url: string; secret: string; types: string[]; enabled: boolean }): Promise<Webhook> {
    await this.targets.resolve(w.url);
    if (parseStored(w.secret)) throw new WebhookSecretFormatError();
    return this.webhooks.put(companyId, { ...w, secret: this.protect(w.secret) });
  }

  ofTenant(companyId: string): Promise<Webhook | null> {
    return this.webhooks.ofTenant(companyId);
  }

  delete(companyId: string): Promise<boolean> {
    return this.webhooks.delete(companyId);
  }

  /** The webhook with its secret readable, for signing a delivery. */
  async find(companyId: string, id: string): Promise<Webhook | null> {
    const w = await this.webhooks.find(companyId, id);
    if (!w) return null;
    const sealed = parseStored(w.secret);
    return sealed ? { ...w, secret: this.cipher.decrypt(sealed) as string } : w;
  }

  private protect(secret: string): string {
    if (this.cipher.enabled) return JSON.stringify(this.cipher.encrypt(secret));
    if (this.config.env === 'production') throw new WebhookSecretsUnprotectedError();
    return secret;
  }
}
