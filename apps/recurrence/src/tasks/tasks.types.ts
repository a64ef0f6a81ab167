export type Assignment = 'none' | 'fixed' | 'round_robin';

export interface TaskTemplate {
  id: string;
  companyId: string;
  title: string;
  rule: string;
  timezone: string;
  /** No timezone of its own: it follows the tenant's (the registry's tenant.upserted re-expands it on a change). */
  zoneFromTenant: boolean;
  startLocal: string;
  exdates: string[];
  dueOffsetMinutes: number;
  assignment: Assignment;
  assigneeUserId: string | null;
  assigneeRole: string | null;
  /** Reminders before each instance's due time: ISO 8601 durations (PT1H, P1D). */
  reminderOffsets: string[];
  revision: number;
  deletedAt: Date | null;
}

export interface TaskInstance {
  id: string;
  companyId: string;
  templateId: string;
  templateRevision: number;
  occurrenceAt: Date;
  dueAt: Date;
  title: string;
  assigneeUserId: string | null;
  status: 'open' | 'started' | 'done' | 'cancelled';
}

export class TemplateNotFoundError extends Error {
  constructor(id: string) {
    super(`task template ${id} was not found`);
    this.name = 'TemplateNotFoundError';
  }
}
