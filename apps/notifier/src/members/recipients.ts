import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, PLATFORM_TENANT, type AppConfig } from '../../../../libs/common/src/index.js';
import { MembersRepository } from './members.repository.js';
import type { Member } from './members.types.js';

/** The role told about a tenant's failing jobs. */
export const TENANT_ADMIN_ROLE = 'tenant-admin';
/** The role told about the platform's failing jobs (runs without a tenant). */
export const SYSTEM_ADMIN_ROLE = 'system-admin';

/**
 * Who can be notified in a scope: a tenant's members (the directory projected
 * from member events), or, in the platform scope, the system admins of the
 * configuration (NOTIFIER_SYSTEM_ADMINS). Platform admins are configured by
 * the operator, never by events a tenant's producer could publish.
 */
@Injectable()
export class Recipients {
  private readonly admins: Member[];

  constructor(
    private readonly members: MembersRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.admins = config.notifier.systemAdmins.map((a) => ({
      companyId: PLATFORM_TENANT,
      userId: a.userId,
      roles: [SYSTEM_ADMIN_ROLE],
      email: a.email,
      locale: null,
      timezone: null,
      optOut: [],
      quietHours: null,
    }));
  }

  /** Active members of the scope holding any of the roles. */
  async withRoles(companyId: string, roles: string[]): Promise<Member[]> {
    if (companyId === PLATFORM_TENANT) return this.admins.filter((a) => a.roles.some((r) => roles.includes(r)));
    return this.members.withRoles(companyId, roles);
  }

  /** Active members of the scope among the user ids (others, and other scopes' users, are ignored). */
  async byIds(companyId: string, userIds: string[]): Promise<Member[]> {
    if (companyId === PLATFORM_TENANT) return this.admins.filter((a) => userIds.includes(a.userId));
    return this.members.byIds(companyId, userIds);
  }

  async find(companyId: string, userId: string): Promise<Member | null> {
    return (await this.byIds(companyId, [userId]))[0] ?? null;
  }
}
