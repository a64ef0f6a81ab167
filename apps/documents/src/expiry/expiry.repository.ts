import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AlertKind, AlertView, NewAlert, NewEscalation, OpenAlert, PlannedEvent, ScanSummary, WindowDocument } from './expiry.types.js';

export type OutboxTable = 'document_alerts' | 'document_escalations';

/** The only file of the expiry feature that speaks SQL. Every statement is scoped by company_id. */
@Injectable()
export class ExpiryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One keyset page of a tenant's live documents expiring in [from, to), by (expires_at, id): the index documents_company_expires. */
  async window(companyId: string, from: Date, to: Date, after: { expiresAt: Date; id: string } | null, limit: number): Promise<WindowDocument[]> {
    const rows: { id: string; type: string | null; title: string | null; owner: string | null; responsible_role: string | null; expires_at: Date }[] =
      await this.dataSource.query(
        `SELECT id, type, title, owner, responsible_role, expires_at FROM documents
         WHERE company_id = $1 AND NOT deleted AND expires_at IS NOT NULL AND expires_at >= $2 AND expires_at < $3
           AND ($4::timestamptz IS NULL OR (expires_at, id) > ($4::timestamptz, $5::text))
         ORDER BY expires_at, id
         LIMIT $6`,
        [companyId, from, to, after?.expiresAt ?? null, after?.id ?? null, limit],
      );
    return rows.map((r) => ({ id: r.id, type: r.type, title: r.title, owner: r.owner, responsibleRole: r.responsible_role, expiresAt: r.expires_at }));
  }

  /**
   * Inserts a batch of alerts in one statement, unpublished. An alert that
   * exists already (a rerun, a concurrent scan) is skipped; only the rows this
   * call created come back, so only they are published by this scan.
   */
  async insertAlerts(companyId: string, alerts: NewAlert[], alertedAt: Date): Promise<{ eventId: string; kind: AlertKind; payload: Record<string, unknown> }[]> {
    if (alerts.length === 0) return [];
    const rows: { event_id: string; kind: AlertKind; payload: Record<string, unknown> }[] = await this.dataSource.query(
      `INSERT INTO document_alerts (company_id, document_id, expires_at, threshold, kind, event_id, payload, alerted_at)
       SELECT $1, x.document_id, x.expires_at, x.threshold, x.kind, x.event_id, x.payload, $3
       FROM jsonb_to_recordset($2::jsonb) AS x(document_id text, expires_at timestamptz, threshold int, kind text, event_id text, payload jsonb)
       ON CONFLICT DO NOTHING
       RETURNING event_id, kind, payload`,
      [
        companyId,
        JSON.stringify(alerts.map((a) => ({ document_id: a.documentId, expires_at: a.expiresAt.toISOString(), threshold: a.threshold, kind: a.kind, event_id: a.eventId, payload: a.payload }))),
        alertedAt,
      ],
    );
    return rows.map((r) => ({ eventId: r.event_id, kind: r.kind, payload: r.payload }));
  }

  async markPublished(table: OutboxTable, companyId: string, eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.dataSource.query(`UPDATE ${table} SET published_at = now() WHERE company_id = $1 AND event_id = ANY($2::text[]) AND published_at IS NULL`, [companyId, eventIds]);
  }

  /** Planned but not yet stored by JetStream (a crash or a failed publish): keyset page by event id. */
  async unpublished(table: OutboxTable, companyId: string, afterEventId: string, limit: number): Promise<PlannedEvent[]> {
    const kind = table === 'document_alerts' ? 'kind' : `'escalated'`;
    const rows: { event_id: string; kind: string; payload: Record<string, unknown> }[] = await this.dataSource.query(
      `SELECT event_id, ${kind} AS kind, payload FROM ${table}
       WHERE company_id = $1 AND published_at IS NULL AND event_id > $2 ORDER BY event_id LIMIT $3`,
      [companyId, afterEventId, limit],
    );
    return rows.map((r) => ({ eventId: r.event_id, type: r.kind, payload: r.payload }));
  }

  /**
   * Alerts whose next escalation level is due at asOf: published, not
   * acknowledged, of the document's current expiry (a renewal or a delete
   * stops them), below the end of the chain, and the oldest open alert of their
   * document and expiry (one escalation track per document, not one per threshold).
   */
  async dueForEscalation(companyId: string, asOf: Date, afterDays: number, chainLength: number, limit: number): Promise<OpenAlert[]> {
    const rows: { document_id: string; expires_at: Date; threshold: number; kind: AlertKind; alerted_at: Date; escalation_level: number; payload: Record<string, unknown> }[] =
      await this.dataSource.query(
        `SELECT a.document_id, a.expires_at, a.threshold, a.kind, a.alerted_at, a.escalation_level, a.payload
         FROM document_alerts a
         JOIN documents d ON d.company_id = a.company_id AND d.id = a.document_id AND d.expires_at = a.expires_at AND NOT d.deleted
         WHERE a.company_id = $1 AND a.acknowledged_at IS NULL AND a.published_at IS NOT NULL
           AND a.alerted_at <= $2::timestamptz - make_interval(days => $3)
           AND a.escalation_level < $4
           AND a.alerted_at + make_interval(days => $3 * (a.escalation_level + 1)) <= $2::timestamptz
           AND NOT EXISTS (
             SELECT 1 FROM document_alerts o
             WHERE o.company_id = a.company_id AND o.document_id = a.document_id AND o.expires_at = a.expires_at
               AND o.acknowledged_at IS NULL AND o.published_at IS NOT NULL
               AND (o.alerted_at < a.alerted_at OR (o.alerted_at = a.alerted_at AND o.threshold > a.threshold)))
         ORDER BY a.alerted_at, a.document_id
         LIMIT $5`,
        [companyId, asOf, afterDays, chainLength, limit],
      );
    return rows.map((r) => ({
      documentId: r.document_id,
      expiresAt: r.expires_at,
      threshold: r.threshold,
      kind: r.kind,
      alertedAt: r.alerted_at,
      escalationLevel: r.escalation_level,
      payload: r.payload,
    }));
  }

  /** Plans escalations and raises their alerts' levels in one transaction; returns the escalations this call created. */
  async insertEscalations(companyId: string, escalations: NewEscalation[]): Promise<PlannedEvent[]> {
    if (escalations.length === 0) return [];
    const json = JSON.stringify(
      escalations.map((e) => ({ document_id: e.documentId, expires_at: e.expiresAt.toISOString(), threshold: e.threshold, level: e.level, role: e.role, event_id: e.eventId, payload: e.payload })),
    );
    return this.dataSource.transaction(async (m) => {
      const rows: { event_id: string; payload: Record<string, unknown> }[] = await m.query(
        `INSERT INTO document_escalations (company_id, document_id, expires_at, threshold, level, role, event_id, payload)
         SELECT $1, x.document_id, x.expires_at, x.threshold, x.level, x.role, x.event_id, x.payload
         FROM jsonb_to_recordset($2::jsonb) AS x(document_id text, expires_at timestamptz, threshold int, level int, role text, event_id text, payload jsonb)
         ON CONFLICT DO NOTHING
         RETURNING event_id, payload`,
        [companyId, json],
      );
      await m.query(
        `UPDATE document_alerts a SET escalation_level = GREATEST(a.escalation_level, x.level)
         FROM (SELECT document_id, expires_at, threshold, max(level) AS level
               FROM jsonb_to_recordset($2::jsonb) AS r(document_id text, expires_at timestamptz, threshold int, level int)
               GROUP BY 1, 2, 3) x
         WHERE a.company_id = $1 AND a.document_id = x.document_id AND a.expires_at = x.expires_at AND a.threshold = x.threshold`,
        [companyId, json],
      );
      return rows.map((r) => ({ eventId: r.event_id, type: 'escalated', payload: r.payload }));
    });
  }

  /**
   * Acknowledges the open alerts of a document's expiry (the current one when
   * none is named) raised at or before `at`. Returns how many it acknowledged,
   * or null when the tenant has no such live document.
   */
  async acknowledge(companyId: string, documentId: string, by: string | null, at: Date, expiresAt: Date | null): Promise<number | null> {
    const rows: { found: boolean; acknowledged: string }[] = await this.dataSource.query(
      `WITH doc AS (
         SELECT coalesce($5::timestamptz, expires_at) AS expires_at FROM documents WHERE company_id = $1 AND id = $2 AND NOT deleted
       ), acked AS (
         UPDATE document_alerts a SET acknowledged_at = $4, acknowledged_by = $3
         FROM doc
         WHERE a.company_id = $1 AND a.document_id = $2 AND a.expires_at = doc.expires_at
           AND a.acknowledged_at IS NULL AND a.alerted_at <= $4
         RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM doc) AS found, (SELECT count(*) FROM acked) AS acknowledged`,
      [companyId, documentId, by, at, expiresAt],
    );
    return rows[0].found ? Number(rows[0].acknowledged) : null;
  }

  async alertsOf(companyId: string, documentId: string, expiresAt: Date): Promise<AlertView[]> {
    const rows: { threshold: number; kind: AlertKind; expires_at: Date; alerted_at: Date; published_at: Date | null; acknowledged_at: Date | null; acknowledged_by: string | null; escalation_level: number }[] =
      await this.dataSource.query(
        `SELECT threshold, kind, expires_at, alerted_at, published_at, acknowledged_at, acknowledged_by, escalation_level
         FROM document_alerts WHERE company_id = $1 AND document_id = $2 AND expires_at = $3 ORDER BY alerted_at, threshold DESC`,
        [companyId, documentId, expiresAt],
      );
    return rows.map((r) => ({
      threshold: r.threshold,
      kind: r.kind,
      expiresAt: r.expires_at,
      alertedAt: r.alerted_at,
      publishedAt: r.published_at,
      acknowledgedAt: r.acknowledged_at,
      acknowledgedBy: r.acknowledged_by,
      escalationLevel: r.escalation_level,
    }));
  }

  /** Records a finished scan run (one statement: a scan costs no extra commit at its start). */
  async recordScan(s: ScanSummary, startedAt: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO document_scans (run_id, company_id, as_of, started_at, finished_at, documents_read, expiring, expired, escalated, republished)
       VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8, $9)
       ON CONFLICT (run_id) DO UPDATE SET started_at = EXCLUDED.started_at, finished_at = now(), documents_read = EXCLUDED.documents_read,
         expiring = EXCLUDED.expiring, expired = EXCLUDED.expired, escalated = EXCLUDED.escalated, republished = EXCLUDED.republished`,
      [s.runId, s.companyId, s.asOf, startedAt, s.documentsRead, s.expiring, s.expired, s.escalated, s.republished],
    );
  }

  /** Tenants after `after` in id order: every tenant with documents (a skip scan of the primary key) or settings. */
  async tenants(after: string, limit: number): Promise<string[]> {
    const rows: { company_id: string }[] = await this.dataSource.query(
      `WITH RECURSIVE t(company_id) AS (
         SELECT min(company_id) FROM documents WHERE company_id > $1
         UNION ALL
         SELECT (SELECT min(company_id) FROM documents WHERE company_id > t.company_id) FROM t WHERE t.company_id IS NOT NULL
       )
       SELECT company_id FROM (
         SELECT company_id FROM t WHERE company_id IS NOT NULL
         UNION SELECT company_id FROM document_settings WHERE company_id > $1
       ) all_tenants ORDER BY company_id LIMIT $2`,
      [after, limit],
    );
    return rows.map((r) => r.company_id);
  }
}
