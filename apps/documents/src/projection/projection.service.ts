import { Inject, Injectable } from '@nestjs/common';
import { PermanentError, ROOT_LOGGER, type DocumentDeletedEvent, type DocumentUpsertedEvent, type Logger } from '../../../../libs/common/src/index.js';
import { ProjectionRepository } from './projection.repository.js';
import type { ExpiryCursor, ProjectedDocument } from './projection.types.js';

/** The ordering key of a document event: its version, else occurredAt in epoch ms. */
export function orderingKey(e: { version?: number; occurredAt?: string }): number {
  if (e.version !== undefined) return e.version;
  const ms = Date.parse(e.occurredAt ?? '');
  if (!Number.isFinite(ms)) throw new PermanentError('a document event needs version or occurredAt');
  return ms;
}

/** The tenant the subject names must be the tenant the payload names. */
function assertTenant(payloadCompanyId: string, envelopeCompanyId: string | undefined): void {
  if (envelopeCompanyId !== undefined && envelopeCompanyId !== payloadCompanyId) {
    throw new PermanentError(`payload companyId "${payloadCompanyId}" differs from the event's tenant "${envelopeCompanyId}"`);
  }
}

@Injectable()
export class ProjectionService {
  constructor(
    private readonly documents: ProjectionRepository,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async applyUpsert(e: DocumentUpsertedEvent, envelopeCompanyId?: string): Promise<boolean> {
    assertTenant(e.companyId, envelopeCompanyId);
    const applied = await this.documents.upsert({
      companyId: e.companyId,
      id: e.id,
      type: e.type ?? null,
      title: e.title ?? null,
      owner: e.owner ?? null,
      responsibleRole: e.responsibleRole ?? null,
      expiresAt: e.expiresAt ? new Date(e.expiresAt) : null,
      version: orderingKey(e),
    });
    if (!applied) this.logger.debug({ companyId: e.companyId, documentId: e.id }, 'document upsert is stale or a repeat: ignored');
    return applied;
  }

  async applyDelete(e: DocumentDeletedEvent, envelopeCompanyId?: string): Promise<boolean> {
    assertTenant(e.companyId, envelopeCompanyId);
    return this.documents.tombstone(e.companyId, e.id, orderingKey(e));
  }

  find(companyId: string, id: string): Promise<ProjectedDocument | null> {
    return this.documents.find(companyId, id);
  }

  /** Reads limit + 1 rows to know whether a next page exists. */
  async listByExpiry(companyId: string, from: Date, to: Date | null, after: ExpiryCursor | null, limit: number): Promise<{ items: ProjectedDocument[]; next: ExpiryCursor | null }> {
    const rows = await this.documents.pageByExpiry(companyId, from, to, after, limit + 1);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, next: rows.length > limit && last ? { expiresAt: last.expiresAt!, id: last.id } : null };
  }
}
