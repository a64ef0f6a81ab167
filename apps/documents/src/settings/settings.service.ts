import { Inject, Injectable } from '@nestjs/common';
import { errorText, EVENT_TYPES, EventPublisher, ROOT_LOGGER, type Logger } from '../../../../libs/common/src/index.js';
import { SettingsRepository, type StoredSettings } from './settings.repository.js';
import { defaultSettings, type ExpirySettings } from './settings.types.js';
import { TenantZoneRepository } from './tenant-zone.repository.js';

const sortedUnique = (values: number[]): number[] => [...new Set(values)].sort((a, b) => b - a);

/**
 * A tenant's expiry settings. The timezone comes from the tenant registry
 * (tenant.upserted); the scan hour is announced to the scheduler as
 * document.settings_changed, which moves the tenant's expiry scan. An
 * announcement that did not get through is repeated at the tenant's next scan,
 * and when the registry first announces the tenant.
 */
@Injectable()
export class SettingsService {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly zones: TenantZoneRepository,
    private readonly publisher: EventPublisher,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** The tenant's settings, or the defaults when it never saved any, in the registry's timezone (UTC until it is known). */
  async get(companyId: string): Promise<ExpirySettings> {
    const [stored, zone] = await Promise.all([this.settings.find(companyId), this.zones.timezone(companyId)]);
    return this.view(stored, companyId, zone);
  }

  /** Replaces the tenant's settings; fields left out take their defaults. */
  async put(companyId: string, input: Partial<Omit<ExpirySettings, 'companyId' | 'updatedAt' | 'timezone'>>): Promise<ExpirySettings> {
    const d = defaultSettings(companyId);
    const overrides: Record<string, number[]> = {};
    for (const [type, list] of Object.entries(input.typeOverrides ?? d.typeOverrides)) overrides[type] = sortedUnique(list);
    const saved = await this.settings.save({
      companyId,
      scanHour: input.scanHour ?? d.scanHour,
      thresholds: sortedUnique(input.thresholds ?? d.thresholds),
      typeOverrides: overrides,
      escalationChain: input.escalationChain ?? d.escalationChain,
      escalationAfterDays: input.escalationAfterDays ?? d.escalationAfterDays,
    });
    await this.announce(saved);
    return this.view(saved, companyId, await this.zones.timezone(companyId));
  }

  /** The registry announced the tenant: keeps its timezone; a tenant new here has its saved scan hour announced again. */
  async applyTenant(companyId: string, timezone: string, version: number): Promise<boolean> {
    const { applied, created } = await this.zones.apply(companyId, timezone, version);
    if (created) {
      await this.settings.markUnannounced(companyId);
      await this.announcePending(companyId);
    }
    return applied;
  }

  /** Announces the latest settings version if the scheduler was not told it yet (the expiry scan calls this). */
  async announcePending(companyId: string): Promise<void> {
    const pending = await this.settings.unannounced(companyId);
    if (pending) await this.announce(pending);
  }

  private async announce(s: StoredSettings): Promise<void> {
    try {
      // A fresh event id each time: announcing a version again (the registry did not know the tenant yet) must not be dropped as a duplicate; the version keeps it idempotent.
      await this.publisher.publishEvent(EVENT_TYPES.documentSettingsChanged, s.companyId, { companyId: s.companyId, scanHour: s.scanHour, version: s.version });
      await this.settings.markAnnounced(s.companyId, s.version);
    } catch (e) {
      this.logger.warn({ companyId: s.companyId, version: s.version, error: errorText(e) }, 'scan hour not announced yet: retried at the next scan');
    }
  }

  private view(stored: StoredSettings | null, companyId: string, zone: string | null): ExpirySettings {
    const base = defaultSettings(companyId);
    if (stored) {
      const { version: _version, ...rest } = stored;
      Object.assign(base, rest);
    }
    return { ...base, timezone: zone ?? 'UTC' };
  }
}
