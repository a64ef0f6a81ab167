import type { INestApplication } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { mutatingRoutes, type MutatingRoute } from '../../../libs/common/src/audit/index.js';
import type { TestDatabase } from '../../support/database.js';
import { httpCall } from '../../support/http.js';

export interface AuditRow {
  id: string;
  actor: string;
  actor_role: string;
  actor_kind: string;
  action: string;
  target_type: string;
  target_id: string | null;
  company_id: string | null;
  before: unknown;
  after: unknown;
}

/** The POST/PUT/PATCH/DELETE routes a running service app serves, with the audit action each declares (production metadata). */
export function declaredMutations(service: string, app: INestApplication): (MutatingRoute & { service: string })[] {
  const controllers = app
    .get(DiscoveryService)
    .getControllers()
    .map((w) => w.metatype as (new (...args: never[]) => unknown) | undefined)
    .filter((t): t is new (...args: never[]) => unknown => typeof t === 'function');
  return mutatingRoutes(controllers).map((r) => ({ ...r, service }));
}

/** The newest audit entry's id (0 when there is none): entries after it are what a call wrote. */
export async function lastAuditId(db: TestDatabase): Promise<number> {
  const rows = await db.query<{ id: string | null }>('SELECT max(id) AS id FROM audit_log');
  return Number(rows[0].id ?? 0);
}

export function auditSince(db: TestDatabase, id: number): Promise<AuditRow[]> {
  return db.query<AuditRow & Record<string, unknown>>(
    'SELECT id, actor, actor_role, actor_kind, action, target_type, target_id, company_id, before, after FROM audit_log WHERE id > $1 ORDER BY id',
    [id],
  );
}

/** An HTTP call as a client makes it; the body parsed when it is JSON. */
export function call(base: string, method: string, path: string, auth: Record<string, string>, body?: unknown) {
  return httpCall(`${base}${path}`, method, auth, body);
}
