import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each attempt keeps what the run page shows about it (issue 26): the stack
 * frames of a failed attempt's error (error_stack; the message stays in error)
 * and the attempts the run was allowed (max_attempts), so "attempt 2 of 3"
 * reads the same for direct and planned runs. Added on the partitioned parent:
 * every branch and day partition gets the columns; old rows keep NULL.
 */
export class AttemptStacks1796366000002 implements MigrationInterface {
  name = 'AttemptStacks1796366000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE job_attempts ADD COLUMN error_stack text, ADD COLUMN max_attempts int`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE job_attempts DROP COLUMN error_stack, DROP COLUMN max_attempts`);
  }
}
