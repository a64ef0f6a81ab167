import type { Principal } from '../auth/principal.js';

/** Who made a change through an API: the verified credential, and where the request came from (the @Actor() parameter). */
export interface AuditActor {
  principal: Principal;
  requestId?: string | null;
  ip?: string | null;
}

/** One change: what was done to which object of which tenant, and the object before and after (secrets are redacted on write). */
export interface AuditChange {
  /** `<target>.<verb>`, e.g. `webhook.put`, `schedule.delete`. */
  action: string;
  targetType: string;
  targetId?: string | null;
  /** The tenant changed; defaults to the caller's tenant (its credential's, or the one a platform credential acts for). */
  companyId?: string | null;
  before?: unknown;
  after?: unknown;
}

export interface AuditEntry {
  id: string;
  at: Date;
  actor: string;
  actorRole: string;
  actorKind: string;
  action: string;
  targetType: string;
  targetId: string | null;
  companyId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  ip: string | null;
}

/** The platform acting on its own (retention, say). */
export const SYSTEM_ACTOR = 'system' as const;
