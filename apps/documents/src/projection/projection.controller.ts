import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ProblemException } from '../../../../libs/common/src/http/problem-json.filter.js';
import { Clock } from '../clock.js';
import { ExpiryService } from '../expiry/expiry.service.js';
import type { AlertView } from '../expiry/expiry.types.js';
import { Actor, Authorize, SecuredApi, Tenant, type TenantContext } from '../../../../libs/common/src/auth/index.js';
import { Audited, AuditLog, type AuditActor } from '../../../../libs/common/src/audit/index.js';
import { AcknowledgeDocumentBody, ListDocumentsQuery } from './dto/list-documents.query.js';
import { ProjectionService } from './projection.service.js';
import type { ExpiryCursor, ProjectedDocument } from './projection.types.js';

const notFound = (id: string) =>
  new ProblemException(404, 'https://metronome.dev/problems/document-not-found', 'Document not found', `The tenant has no document "${id}"`, { documentId: id });

const invalidCursor = () => new ProblemException(400, 'https://metronome.dev/problems/invalid-cursor', 'Invalid cursor', 'cursor must be the nextCursor of a previous page');

function encodeCursor(c: ExpiryCursor): string {
  return Buffer.from(JSON.stringify([c.expiresAt.toISOString(), c.id])).toString('base64url');
}

function decodeCursor(raw: string): ExpiryCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [unknown, unknown];
    const expiresAt = new Date(String(at));
    if (typeof id !== 'string' || Number.isNaN(expiresAt.getTime())) throw new Error('shape');
    return { expiresAt, id };
  } catch {
    throw invalidCursor();
  }
}

const view = (d: ProjectedDocument) => ({
  id: d.id,
  type: d.type,
  title: d.title,
  owner: d.owner,
  responsibleRole: d.responsibleRole,
  expiresAt: d.expiresAt?.toISOString() ?? null,
  version: d.version,
  updatedAt: d.updatedAt?.toISOString(),
});

/** The tenant's documents by expiry, one document with its alerts, and acknowledgement. */
@Controller('api/v1/documents')
@SecuredApi()
export class ProjectionController {
  constructor(
    private readonly documents: ProjectionService,
    private readonly expiry: ExpiryService,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @Authorize('read')
  async list(@Tenant() tenant: TenantContext, @Query() q: ListDocumentsQuery) {
    const from = q.from ? new Date(q.from) : this.clock.now();
    const to = q.to ? new Date(q.to) : null;
    if (to && to.getTime() <= from.getTime()) {
      throw new ProblemException(400, 'https://metronome.dev/problems/invalid-window', 'Invalid expiry window', 'to must be after from');
    }
    const limit = q.limit ?? 50;
    const page = await this.documents.listByExpiry(tenant.companyId, from, to, q.cursor ? decodeCursor(q.cursor) : null, limit);
    return { items: page.items.map(view), nextCursor: page.next ? encodeCursor(page.next) : null, limit };
  }

  @Get(':id')
  @Authorize('read')
  async get(@Tenant() tenant: TenantContext, @Param('id') id: string) {
    const doc = await this.documents.find(tenant.companyId, id);
    if (!doc) throw notFound(id);
    const alerts: AlertView[] = doc.expiresAt ? await this.expiry.alertsOf(tenant.companyId, id, doc.expiresAt) : [];
    return { ...view(doc), alerts };
  }

  @Post(':id/acknowledge')
  @Audited('document.acknowledge')
  @HttpCode(200)
  @Authorize('write')
  async acknowledge(@Actor() a: AuditActor, @Tenant() tenant: TenantContext, @Param('id') id: string, @Body() body: AcknowledgeDocumentBody) {
    const at = this.clock.now();
    const expiresAt = body?.expiresAt ? new Date(body.expiresAt) : null;
    return this.audit.change(a, { action: 'document.acknowledge', targetType: 'document', targetId: id, companyId: tenant.companyId, after: (r) => ({ ...r, expiresAt }) }, async () => {
      const acknowledged = await this.expiry.acknowledge(tenant.companyId, id, tenant.userId, at, expiresAt);
      if (acknowledged === null) throw notFound(id);
      return { id, acknowledged, acknowledgedBy: tenant.userId, acknowledgedAt: at.toISOString() };
    });
  }
}
