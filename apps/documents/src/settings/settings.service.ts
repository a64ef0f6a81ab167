import { Injectable } from '@nestjs/common';
import { SettingsRepository } from './settings.repository.js';
import { defaultSettings, type ExpirySettings } from './settings.types.js';

const sortedUnique = (values: number[]): number[] => [...new Set(values)].sort((a, b) => b - a);

@Injectable()
export class SettingsService {
  constructor(private readonly settings: SettingsRepository) {}

  /** The tenant's settings, or the defaults when it never saved any. */
  async get(companyId: string): Promise<ExpirySettings> {
    return (await this.settings.find(companyId)) ?? defaultSettings(companyId);
  }

  /** Replaces the tenant's settings; fields left out take their defaults. */
  async put(companyId: string, input: Partial<Omit<ExpirySettings, 'companyId' | 'updatedAt'>>): Promise<ExpirySettings> {
    const d = defaultSettings(companyId);
    const overrides: Record<string, number[]> = {};
    for (const [type, list] of Object.entries(input.typeOverrides ?? d.typeOverrides)) overrides[type] = sortedUnique(list);
    return this.settings.save({
      companyId,
      timezone: input.timezone ?? d.timezone,
      scanHour: input.scanHour ?? d.scanHour,
      thresholds: sortedUnique(input.thresholds ?? d.thresholds),
      typeOverrides: overrides,
      escalationChain: input.escalationChain ?? d.escalationChain,
      escalationAfterDays: input.escalationAfterDays ?? d.escalationAfterDays,
    });
  }
}
