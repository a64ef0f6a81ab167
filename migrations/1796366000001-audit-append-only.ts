import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * audit_log becomes append-only for the services' database role (issue 22): every service writes its
 * changes' audit entries in the change's transaction and nothing may rewrite them.
 * - A trigger refuses UPDATE, DELETE and TRUNCATE of audit_log (ENABLE ALWAYS: it fires under
 *   session_replication_role = replica too). It holds for the table's owner, which is the role the
 *   services and migrations connect as (one DATABASE_URL); only DDL (a migration) can lift it.
 * - The one way to delete entries is audit_log_purge(cutoff, batch), the retention path: it deletes at
 *   most `batch` entries older than `cutoff` (never younger than a day, whatever cutoff says), and
 *   records an `audit.purge` entry in the same transaction, so a purge is itself audited. It is
 *   SECURITY DEFINER, so a deployment whose services run as a role that does not own the table can
 *   grant that role INSERT and SELECT on audit_log and EXECUTE on the function, nothing more.
 */
export class AuditAppendOnly1796366000001 implements MigrationInterface {
  name = 'AuditAppendOnly1796366000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- The purge's mark, and even then nothing of the last day: a session that sets the mark itself
        -- cannot erase the record of what it just did.
        IF TG_OP = 'DELETE' AND current_setting('metronome.audit_purge', true) = 'on' AND OLD.at < now() - interval '1 day' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only: % refused (retention deletes through audit_log_purge())', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()`);
    await q.query(`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()`);
    await q.query(`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only`);
    await q.query(`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate`);
    await q.query(`
      CREATE FUNCTION audit_log_purge(cutoff timestamptz, batch integer) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      DECLARE
        upto timestamptz := LEAST(cutoff, now() - interval '1 day');
        n integer;
      BEGIN
        PERFORM set_config('metronome.audit_purge', 'on', true);
        DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < upto ORDER BY at LIMIT GREATEST(batch, 0));
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config('metronome.audit_purge', 'off', true);
        IF n > 0 THEN
          INSERT INTO audit_log (actor, actor_role, actor_kind, action, target_type, target_id, company_id, before, after)
          VALUES ('system', 'system', 'system', 'audit.purge', 'audit_log', NULL, NULL,
                  jsonb_build_object('before', upto), jsonb_build_object('deleted', n));
        END IF;
        RETURN n;
      EXCEPTION WHEN OTHERS THEN
        PERFORM set_config('metronome.audit_purge', 'off', true);
        RAISE;
      END $$`);
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC`);
    await q.query(`REVOKE ALL ON FUNCTION audit_log_purge(timestamptz, integer) FROM PUBLIC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION audit_log_purge(timestamptz, integer)');
    await q.query('DROP TRIGGER audit_log_no_truncate ON audit_log');
    await q.query('DROP TRIGGER audit_log_append_only ON audit_log');
    await q.query('DROP FUNCTION audit_log_refuse_change()');
  }
}
