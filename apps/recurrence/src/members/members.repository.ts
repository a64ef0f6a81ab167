import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

@Injectable()
export class MembersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Applies a member event unless a newer one was already applied. Returns false when stale. */
  async apply(companyId: string, userId: string, roles: string[], removed: boolean, order: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO recurrence_members (company_id, user_id, roles, removed, event_order) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (company_id, user_id) DO UPDATE SET roles = EXCLUDED.roles, removed = EXCLUDED.removed, event_order = EXCLUDED.event_order
       WHERE recurrence_members.event_order < EXCLUDED.event_order
       RETURNING user_id`,
      [companyId, userId, roles, removed, order],
    );
    return rows.length === 1;
  }

  /** Active members of a tenant holding a role, in a stable order for round-robin. */
  async withRole(companyId: string, role: string): Promise<string[]> {
    const rows: { user_id: string }[] = await this.dataSource.query(
      `SELECT user_id FROM recurrence_members WHERE company_id = $1 AND NOT removed AND $2 = ANY(roles) ORDER BY user_id`,
      [companyId, role],
    );
    return rows.map((r) => r.user_id);
  }
}
