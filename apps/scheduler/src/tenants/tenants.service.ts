import { Inject, Injectable } from '@nestjs/common';
import { afterCommit, inAmbient, savepoint } from '../../../../libs/common/src/audit/index.js';
import { Clock, errorText, EVENT_TYPES, EventPublisher, ROOT_LOGGER, type Logger } from '../../../../libs/common/src/index.js';
import { isValidTimezone } from '../../../../libs/common/src/time/index.js';
import { EXPIRY_SCAN_SCHEDULE_PREFIX, TenantSchedules } from '../platform/tenant-schedules.js';
import { SchedulesRepository } from '../schedules/schedules.repository.js';
import { TenantsRepository } from './tenants.repository.js';
import {
  DEFAULT_LOCALE,
  DEFAULT_SCAN_HOUR,
  TenantExistsError,
  TenantNotFoundError,
  TenantValidationError,
  type Tenant,
  type TenantInput,
  type TenantPatch,
} from './tenant.types.js';

const COMPANY_ID = /^[A-Za-z0-9_-]{1,100}$/;
const RECONCILE_BATCH = 500;

/** The canonical form of a BCP 47 tag, or undefined when it is not one. */
function canonicalLocale(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** Schedules fire for a tenant that is active and not paused. */
const live = (t: Pick<Tenant, 'active' | 'paused'> | null): boolean => !!t && t.active && !t.paused;

/**
 * The tenant registry: the one source of each tenant's timezone and locale.
 * Every change bumps the tenant's version and is announced as
 * `tenant.upserted` (documents and recurrence take the timezone from it); a
 * tenant gets its own platform schedules (its expiry scan) when registered, and
 * a timezone new to the tenant-time schedules arms them in the same transaction,
 * so its first local occurrence is never skipped. Paused or inactive tenants
 * get no scheduled runs.
 */
@Injectable()
export class TenantsService {
  constructor(
    private readonly tenants: TenantsRepository,
    private readonly schedules: SchedulesRepository,
    private readonly tenantSchedules: TenantSchedules,
    private readonly publisher: EventPublisher,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** Checks and normalises what a caller sends; throws listing every problem. */
  private checked<T extends TenantPatch & { companyId?: string }>(input: T): T {
    const problems: string[] = [];
    const out = { ...input };
    if ('companyId' in input && !COMPANY_ID.test(input.companyId ?? '')) problems.push('companyId: 1-100 letters, digits, _ and - only');
    if (input.timezone !== undefined && !isValidTimezone(input.timezone)) problems.push(`timezone: ${JSON.stringify(input.timezone)} is not an IANA timezone`);
    if (input.locale !== undefined) {
      const locale = canonicalLocale(input.locale);
      if (!locale) problems.push(`locale: ${JSON.stringify(input.locale)} is not a BCP 47 language tag (en, de-DE)`);
      else out.locale = locale;
    }
    if (problems.length) throw new TenantValidationError(problems);
    return out;
  }

  async create(input: TenantInput): Promise<Tenant> {
    const t = this.checked(input);
    const now = this.clock.now();
    const created = await this.tenants.transaction(async (tx) => {
      const row = await this.tenants.insert(
        { companyId: t.companyId, name: t.name ?? null, timezone: t.timezone, locale: t.locale ?? DEFAULT_LOCALE, active: t.active ?? true, paused: t.paused ?? false },
        now,
        tx,
      );
      if (!row) throw new TenantExistsError(t.companyId);
      if (live(row)) await this.schedules.armTenantZone(row.timezone, now, tx);
      return row;
    });
    await this.afterWrite(created, true);
    return created;
  }

  /** Changes what the patch names; a patch that changes nothing writes and announces nothing. */
  async change(companyId: string, patch: TenantPatch): Promise<{ before: Tenant; after: Tenant }> {
    const p = this.checked(patch);
    const now = this.clock.now();
    const result = await this.tenants.transaction(async (tx) => {
      const before = await this.tenants.lock(companyId, tx);
      if (!before) throw new TenantNotFoundError(companyId);
      const diff = Object.fromEntries(Object.entries(p).filter(([k, v]) => v !== undefined && before[k as keyof Tenant] !== v)) as TenantPatch;
      if (Object.keys(diff).length === 0) return { before, after: before };
      const after = await this.tenants.update(companyId, diff, now, tx);
      if (live(after) && (!live(before) || before.timezone !== after.timezone)) await this.schedules.armTenantZone(after.timezone, now, tx);
      return { before, after };
    });
    if (result.after !== result.before) await this.afterWrite(result.after, false);
    return result;
  }

  /** Registers the tenant or brings it up to date (a `tenant.upserted` from another service, the demo). */
  async upsertTenant(input: TenantInput): Promise<Tenant> {
    try {
      return await this.create(input);
    } catch (e) {
      if (!(e instanceof TenantExistsError)) throw e;
      const { companyId, ...patch } = input;
      return (await this.change(companyId, patch)).after;
    }
  }

  /** Documents' scan hour for the tenant (ordered by `version`); moves its expiry scan. False when stale or the tenant is unknown. */
  async applyScanHour(companyId: string, scanHour: number, version: number): Promise<boolean> {
    const tenant = await this.tenants.setScanHour(companyId, scanHour, version);
    if (!tenant) return false;
    await this.tenantSchedules.ensure(companyId, scanHour);
    return true;
  }

  async get(companyId: string): Promise<Tenant> {
    const t = await this.tenants.find(companyId);
    if (!t) throw new TenantNotFoundError(companyId);
    return t;
  }

  find(companyId: string): Promise<Tenant | null> {
    return this.tenants.find(companyId);
  }

  /** A page by company id; `only` limits it to one tenant (tenant callers). */
  list(filter: { after?: string; limit: number; only?: string }): Promise<Tenant[]> {
    return this.tenants.list(filter);
  }

  activeByZone(): Promise<Map<string, string[]>> {
    return this.tenants.activeByZone();
  }

  /**
   * Repairs what a crash or a NATS outage left behind: announces versions not
   * yet published and gives tenants their expiry-scan schedule at their scan
   * hour. Returns how many it fixed.
   */
  async reconcile(): Promise<number> {
    let fixed = 0;
    for (const t of await this.tenants.unpublished(RECONCILE_BATCH)) if (await this.announce(t)) fixed++;
    for (const s of await this.tenants.scanSchedulesOutOfDate(EXPIRY_SCAN_SCHEDULE_PREFIX, RECONCILE_BATCH)) {
      await this.tenantSchedules.ensure(s.companyId, s.scanHour);
      fixed++;
    }
    return fixed;
  }

  private async afterWrite(t: Tenant, created: boolean): Promise<void> {
    if (created) {
      try {
        // A savepoint inside an audited change: a failure here is retried by reconcile(), it must not abort the change.
        await savepoint(async () => this.tenantSchedules.ensure(t.companyId, (await this.tenants.scanHour(t.companyId)) ?? DEFAULT_SCAN_HOUR));
      } catch (e) {
        this.logger.warn({ companyId: t.companyId, error: errorText(e) }, 'tenant schedules not created yet: the registry retries shortly');
      }
    }
    // Inside an audited change the announcement waits for the commit: a service that hears it
    // (documents re-announcing a saved scan hour) must find the tenant here, not a row still uncommitted.
    if (inAmbient()) afterCommit(() => void this.announce(t));
    else await this.announce(t);
  }

  /** Publishes `tenant.upserted` for the tenant's current version; false (logged) when NATS did not take it, for reconcile() to retry. */
  private async announce(t: Tenant): Promise<boolean> {
    try {
      await this.publisher.publishEvent(
        EVENT_TYPES.tenantUpserted,
        t.companyId,
        { companyId: t.companyId, name: t.name, timezone: t.timezone, locale: t.locale, active: t.active, paused: t.paused, version: t.version },
        { id: `tenant:${t.companyId}:v${t.version}` },
      );
      await this.tenants.markPublished(t.companyId, t.version);
      return true;
    } catch (e) {
      this.logger.warn({ companyId: t.companyId, version: t.version, error: errorText(e) }, 'tenant.upserted not published yet: the registry retries shortly');
      return false;
    }
  }
}
