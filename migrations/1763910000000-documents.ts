import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Document expiry monitoring (apps/documents): the projection of tenants'
 * documents, per-tenant expiry settings, the alerts raised (one per document,
 * expiry and threshold, which is what makes a rerun change nothing), their
 * escalations, and one row per scan run.
 */
export class Documents1763910000000 implements MigrationInterface {
  name = 'Documents1763910000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE documents (
        company_id text NOT NULL,
        id text NOT NULL,
        type text,
        title text,
        owner text,
        responsible_role text,
        expires_at timestamptz,
        -- Ordering key of the last event applied: the producer's version, else occurredAt in epoch ms.
        version bigint NOT NULL,
        -- A delete is a tombstone that keeps its version, so an older upsert cannot resurrect the document.
        deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (company_id, id)
      )`);
    // Scans and the API walk a tenant's documents by expiry with a keyset cursor.
    await q.query(`CREATE INDEX documents_company_expires ON documents (company_id, expires_at, id) WHERE NOT deleted AND expires_at IS NOT NULL`);
    await q.query(`
      CREATE TABLE document_settings (
        company_id text PRIMARY KEY,
        timezone text NOT NULL DEFAULT 'UTC',
        scan_hour int NOT NULL DEFAULT 8 CHECK (scan_hour BETWEEN 0 AND 23),
        thresholds int[] NOT NULL DEFAULT '{30,14,7,1}',
        type_overrides jsonb NOT NULL DEFAULT '{}',
        escalation_chain text[] NOT NULL DEFAULT '{}',
        escalation_after_days int NOT NULL DEFAULT 3 CHECK (escalation_after_days >= 1),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE document_alerts (
        company_id text NOT NULL,
        document_id text NOT NULL,
        expires_at timestamptz NOT NULL,
        -- Days before expiry; 0 is the expiry itself (document.expired).
        threshold int NOT NULL,
        kind text NOT NULL CHECK (kind IN ('expiring', 'expired')),
        event_id text NOT NULL UNIQUE,
        payload jsonb NOT NULL,
        -- The as-of instant of the scan that raised it: escalation counts from here.
        alerted_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- Null until JetStream stored the event; a later scan republishes it with the same id.
        published_at timestamptz,
        acknowledged_at timestamptz,
        acknowledged_by text,
        escalation_level int NOT NULL DEFAULT 0,
        PRIMARY KEY (company_id, document_id, expires_at, threshold)
      )`);
    await q.query(`CREATE INDEX document_alerts_unpublished ON document_alerts (company_id, event_id) WHERE published_at IS NULL`);
    await q.query(`CREATE INDEX document_alerts_open ON document_alerts (company_id, alerted_at) WHERE acknowledged_at IS NULL`);
    await q.query(`
      CREATE TABLE document_escalations (
        company_id text NOT NULL,
        document_id text NOT NULL,
        expires_at timestamptz NOT NULL,
        threshold int NOT NULL,
        level int NOT NULL CHECK (level >= 1),
        role text NOT NULL,
        event_id text NOT NULL UNIQUE,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        PRIMARY KEY (company_id, document_id, expires_at, threshold, level),
        FOREIGN KEY (company_id, document_id, expires_at, threshold) REFERENCES document_alerts ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX document_escalations_unpublished ON document_escalations (company_id, event_id) WHERE published_at IS NULL`);
    await q.query(`
      CREATE TABLE document_scans (
        run_id text PRIMARY KEY,
        company_id text NOT NULL,
        as_of timestamptz NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        documents_read int NOT NULL DEFAULT 0,
        expiring int NOT NULL DEFAULT 0,
        expired int NOT NULL DEFAULT 0,
        escalated int NOT NULL DEFAULT 0,
        republished int NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX document_scans_company ON document_scans (company_id, started_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE document_scans');
    await q.query('DROP TABLE document_escalations');
    await q.query('DROP TABLE document_alerts');
    await q.query('DROP TABLE document_settings');
    await q.query('DROP TABLE documents');
  }
}
