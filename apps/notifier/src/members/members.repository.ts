import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Member, MemberUpdate } from './members.types.js';

interface MemberRow {
  company_id: string;
  user_id: string;
  roles: string[];
  email: string | null;
  locale: string | null;
  timezone: string | null;
  opt_out: { type: string; channel: string }[];
  quiet_start: string | null;
  quiet_end: string | null;
}

const toMember = (r: MemberRow): Member => ({
  companyId: r.company_id,
  userId: r.user_id,
  roles: r.roles,
  email: r.email,
  locale: r.locale,
  timezone: r.timezone,
  optOut: r.opt_out ?? [],
  quietHours: r.quiet_start && r.quiet_end ? { start: r.quiet_start, end: r.quiet_end } : null,
});

/** The notifier's member directory (notifier_members); every query scoped by company_id. */
@Injectable()
export class MembersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Applies a member event unless a newer one was already applied. Returns false when stale. */
  async apply(u: MemberUpdate): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO notifier_members (company_id, user_id, roles, email, locale, timezone, opt_out, quiet_start, quiet_end, removed, event_order)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)
       ON CONFLICT (company_id, user_id) DO UPDATE SET roles = EXCLUDED.roles, email = EXCLUDED.email, locale = EXCLUDED.locale,
         timezone = EXCLUDED.timezone, opt_out = EXCLUDED.opt_out, quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end,
         removed = EXCLUDED.removed, event_order = EXCLUDED.event_order, updated_at = now()
       WHERE notifier_members.event_order < EXCLUDED.event_order
       RETURNING user_id`,
      [u.companyId, u.userId, u.roles, u.email, u.locale, u.timezone, JSON.stringify(u.optOut), u.quietHours?.start ?? null, u.quietHours?.end ?? null, u.removed, u.order],
    );
    return rows.length === 1;
  }

  /** Active members of the tenant holding any of the roles. */
  async withRoles(companyId: string, roles: string[]): Promise<Member[]> {
    if (roles.length === 0) return [];
    const rows: MemberRow[] = await this.dataSource.query(
      `SELECT * FROM notifier_members WHERE company_id = $1 AND NOT removed AND roles && $2::text[] ORDER BY user_id`,
      [companyId, roles],
    );
    return rows.map(toMember);
  }

  /** Active members of the tenant among the user ids (others, and other tenants' users, are ignored). */
  async byIds(companyId: string, userIds: string[]): Promise<Member[]> {
    if (userIds.length === 0) return [];
    const rows: MemberRow[] = await this.dataSource.query(
      `SELECT * FROM notifier_members WHERE company_id = $1 AND NOT removed AND user_id = ANY($2::text[]) ORDER BY user_id`,
      [companyId, userIds],
    );
    return rows.map(toMember);
  }

  async find(companyId: string, userId: string): Promise<Member | null> {
    const rows = await this.byIds(companyId, [userId]);
    return rows[0] ?? null;
  }
}
