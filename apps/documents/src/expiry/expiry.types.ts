/** A live document inside a scan's window. */
export interface WindowDocument {
  id: string;
  type: string | null;
  title: string | null;
  owner: string | null;
  responsibleRole: string | null;
  expiresAt: Date;
}

export type AlertKind = 'expiring' | 'expired';

/** An alert to raise: its row and the event it publishes. */
export interface NewAlert {
  documentId: string;
  expiresAt: Date;
  threshold: number;
  kind: AlertKind;
  eventId: string;
  payload: Record<string, unknown>;
}

/** An event planned in Postgres, waiting to be (re)published. */
export interface PlannedEvent {
  eventId: string;
  type: string;
  payload: Record<string, unknown>;
}

/** An unacknowledged alert whose next escalation level is due. */
export interface OpenAlert {
  documentId: string;
  expiresAt: Date;
  threshold: number;
  kind: AlertKind;
  alertedAt: Date;
  escalationLevel: number;
  payload: Record<string, unknown>;
}

export interface NewEscalation {
  documentId: string;
  expiresAt: Date;
  threshold: number;
  level: number;
  role: string;
  eventId: string;
  payload: Record<string, unknown>;
}

export interface AlertView {
  threshold: number;
  kind: AlertKind;
  expiresAt: Date;
  alertedAt: Date;
  publishedAt: Date | null;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  escalationLevel: number;
}

export interface ScanSummary {
  runId: string;
  companyId: string;
  asOf: string;
  documentsRead: number;
  expiring: number;
  expired: number;
  escalated: number;
  republished: number;
}
