import { Body, Controller, Delete, Get, HttpCode, Put } from '@nestjs/common';
import { ProblemException } from '../../../../libs/common/src/http/problem-json.filter.js';
import { Actor, Authorize, SecuredApi, Tenant, type TenantContext } from '../../../../libs/common/src/auth/index.js';
import { Audited, AuditLog, type AuditActor } from '../../../../libs/common/src/audit/index.js';
import { PutWebhookBody } from './webhook.dto.js';
import { WebhookTargetError } from './webhook-targets.js';
import type { Webhook } from './webhooks.repository.js';
import { WebhookSecretFormatError, WebhookSecretsUnprotectedError, WebhooksService } from './webhooks.service.js';

const view = (w: Webhook) => ({ id: w.id, url: w.url, types: w.types, enabled: w.enabled, updatedAt: w.updatedAt.toISOString() });
const notFound = () => new ProblemException(404, 'https://metronome.dev/problems/webhook-not-found', 'Webhook not found', 'The tenant has no webhook configured');

/** A URL the webhook may not use or a malformed secret: 422; no key to protect secrets with: 503. */
function refused(e: unknown): never {
  if (e instanceof WebhookTargetError || e instanceof WebhookSecretFormatError) {
    throw new ProblemException(422, 'https://metronome.dev/problems/webhook-target', 'Webhook refused', e.message, { errors: [e.message] });
  }
  if (e instanceof WebhookSecretsUnprotectedError) throw new ProblemException(503, 'https://metronome.dev/problems/webhook-secrets', 'Webhook secrets cannot be protected', e.message);
  throw e;
}

/** The tenant's webhook endpoint (the secret is write-only). */
@Controller('api/v1/webhooks')
@SecuredApi()
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly audit: AuditLog,
  ) {}

  /** The tenant's webhook as the audit log keeps it: the secret never (not even encrypted). */
  private async current(companyId: string) {
    const w = await this.webhooks.ofTenant(companyId);
    return w ? view(w) : null;
  }

  @Put()
  @Audited('webhook.put')
  @Authorize('write')
  async put(@Actor() a: AuditActor, @Tenant() tenant: TenantContext, @Body() body: PutWebhookBody) {
    return this.audit.change(a, { action: 'webhook.put', targetType: 'webhook', targetId: (v) => v.id, companyId: tenant.companyId, before: () => this.current(tenant.companyId) }, async () =>
      view(await this.webhooks.put(tenant.companyId, { url: body.url, secret: body.secret, types: body.types ?? [], enabled: body.enabled ?? true }).catch(refused)));
  }

  @Get()
  @Authorize('read')
  async get(@Tenant() tenant: TenantContext) {
    const w = await this.webhooks.ofTenant(tenant.companyId);
    if (!w) throw notFound();
    return view(w);
  }

  @Delete()
  @Audited('webhook.delete')
  @HttpCode(204)
  @Authorize('write')
  async delete(@Actor() a: AuditActor, @Tenant() tenant: TenantContext): Promise<void> {
    await this.audit.change(a, { action: 'webhook.delete', targetType: 'webhook', targetId: (_, before) => (before as { id?: string } | null)?.id, companyId: tenant.companyId, before: () => this.current(tenant.companyId), after: () => null }, async () => {
      if (!(await this.webhooks.delete(tenant.companyId))) throw notFound();
    });
  }
}
