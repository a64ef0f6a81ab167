import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { tenantScope } from '../auth/principal.js';
import { inAmbientTransaction, joinAmbientTransactions } from './ambient-transaction.js';
import { AuditRepository, type AuditFilter } from './audit.repository.js';
import { SYSTEM_ACTOR, type AuditActor, type AuditChange, type AuditEntry } from './audit.types.js';
import { redactSecrets } from './redact-secrets.js';

/** A change made through an API that recorded no audit entry: its transaction is rolled back instead of committing unaudited. */
export class UnauditedChangeError extends Error {}

/** Records an entry through the transaction; `nothingChanged()` says the request turned out a no-op (the same values again), so none is due. */
export type RecordChange = ((change: AuditChange) => Promise<AuditEntry>) & { nothingChanged(): void };

/** How `change()` describes its one entry: `before` is read inside the transaction, `after` from the result unless given. */
export interface AuditSpec<T> {
  action: string;
  targetType: string;
  /** Or from the result (a created object's id), or from the object before (a deleted one's). */
  targetId?: string | null | ((result: T, before: unknown) => string | null | undefined);
  companyId?: string | null;
  before?: () => Promise<unknown> | unknown;
  after?: (result: T) => unknown;
}

/**
 * The audit log of every service (docs/control-plane.md, "Audit log"): one entry per change with the
 * actor from the verified credential, the tenant, the action and target, and the object before and after
 * with secrets redacted. Entries are written in the same transaction as the change: repositories called
 * inside `transaction()` / `change()` join it (ambient-transaction.ts), so a change that fails leaves no
 * entry and an entry never describes a change that did not commit.
 */
@Injectable()
export class AuditLog {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repository: AuditRepository,
  ) {
    joinAmbientTransactions(dataSource);
  }

  /**
   * Runs `work` in one transaction with its audit entries: `record` writes an entry through that
   * transaction. Work that records nothing (and does not say `record.nothingChanged()`) is rolled back
   * (UnauditedChangeError): no change commits unaudited.
   */
  async transaction<T>(actor: AuditActor, work: (record: RecordChange, tx: EntityManager) => Promise<T>): Promise<T> {
    return inAmbientTransaction(this.dataSource, async (tx) => {
      let recorded = 0;
      let noop = false;
      const record: RecordChange = Object.assign(async (change: AuditChange) => {
        recorded += 1;
        return this.write(tx, actor, change);
      }, { nothingChanged: () => void (noop = true) });
      const result = await work(record, tx);
      if (recorded === 0 && !noop) throw new UnauditedChangeError('A change made through the API recorded no audit entry; it was rolled back');
      return result;
    });
  }

  /** The common case: read `before`, do the change, record one entry with `after` (the result unless said otherwise). */
  change<T>(actor: AuditActor, spec: AuditSpec<T>, work: () => Promise<T>): Promise<T> {
    return this.transaction(actor, async (record) => {
      const before = spec.before ? await spec.before() : undefined;
      const result = await work();
      const targetId = typeof spec.targetId === 'function' ? spec.targetId(result, before) : spec.targetId;
      await record({
        action: spec.action,
        targetType: spec.targetType,
        targetId: targetId ?? null,
        companyId: spec.companyId,
        before,
        after: spec.after ? spec.after(result) : result,
      });
      return result;
    });
  }

  /** A change the platform made on its own (retention, say): role and kind `system`; through `tx` when given. */
  system(change: AuditChange, tx?: Pick<EntityManager, 'query'>, actor: string = SYSTEM_ACTOR): Promise<AuditEntry> {
    return this.repository.insert(tx ?? this.dataSource, {
      actor,
      actorRole: SYSTEM_ACTOR,
      actorKind: SYSTEM_ACTOR,
      action: change.action,
      targetType: change.targetType,
      targetId: change.targetId ?? null,
      companyId: change.companyId ?? null,
      before: redactSecrets(change.before ?? null),
      after: redactSecrets(change.after ?? null),
      requestId: null,
      ip: null,
    });
  }

  /** Writes one entry for `actor` through the caller's transaction `tx`. */
  write(tx: Pick<EntityManager, 'query'>, actor: AuditActor, change: AuditChange): Promise<AuditEntry> {
    const p = actor.principal;
    return this.repository.insert(tx, {
      actor: p.id,
      actorRole: p.role,
      actorKind: p.kind,
      action: change.action,
      targetType: change.targetType,
      targetId: change.targetId ?? null,
      companyId: change.companyId === undefined ? tenantScope(p) : change.companyId,
      before: redactSecrets(change.before ?? null),
      after: redactSecrets(change.after ?? null),
      requestId: actor.requestId ?? null,
      ip: actor.ip ?? null,
    });
  }

  list(filter: AuditFilter): Promise<AuditEntry[]> {
    return this.repository.list(filter);
  }

  purge(before: Date, batch: number): Promise<number> {
    return this.repository.purge(before, batch);
  }
}
