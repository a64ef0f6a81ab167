import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The control plane's audit log: every change made through the admin API
 * (who, what, when, which tenant, the state before and after). Append-only.
 */
export class Audit1763840000000 implements MigrationInterface {
  name = 'Audit1763840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        actor_role text NOT NULL,
        actor_kind text NOT NULL,
        action text NOT NULL,
        target_type text NOT NULL,
        target_id text,
        company_id text,
        before jsonb,
        after jsonb,
        request_id text,
        ip text
      )`);
    await q.query(`CREATE INDEX audit_log_company_at ON audit_log (company_id, at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_log');
  }
}
