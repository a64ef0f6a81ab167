import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Schedules declared with `@nestjs/schedule` decorators through
 * MetronomeScheduleModule (libs/common/src/schedule): `declared_by` names the
 * service that declares one, so a start of that service retires the schedules
 * it no longer declares (a method renamed or removed) instead of leaving them
 * to fire with no handler. Schedules created through the API or added at
 * runtime have none.
 */
export class ScheduleDeclarations1796366000000 implements MigrationInterface {
  name = 'ScheduleDeclarations1796366000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE schedules ADD COLUMN declared_by text`);
    await q.query(`CREATE INDEX schedules_declared_by ON schedules (declared_by) WHERE declared_by IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX schedules_declared_by`);
    await q.query(`ALTER TABLE schedules DROP COLUMN declared_by`);
  }
}
