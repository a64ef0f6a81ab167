import { Body, Controller, Delete, Get, HttpCode, Put } from '@nestjs/common';
import { ProblemException } from '../../../../libs/common/src/http/problem-json.filter.js';
import { Authorize, SecuredApi, Tenant, type TenantContext } from '../../../../libs/common/src/auth/index.js';
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
  constructor(private readonly webhooks: WebhooksService) {}

  @Put()
  @Authorize('write')
  async put(@Tenant() tenant: TenantContext, @Body() body: PutWebhookBody) {
    const stored = await this.webhooks.put(tenant.companyId, { url: body.url, secret: body.secret, types: body.types ?? [], enabled: body.enabled ?? true }).catch(refused);
    return view(stored);
  }

  @Get()
  @Authorize('read')
  async get(@Tenant() tenant: TenantContext) {
    const w = await this.webhooks.ofTenant(tenant.companyId);
    if (!w) throw notFound();
    return view(w);
  }

  @Delete()
  @HttpCode(204)
  @Authorize('write')
  async delete(@Tenant() tenant: TenantContext): Promise<void> {
    if (!(await this.webhooks.delete(tenant.companyId))) throw notFound();
  }
}
