import { DEFAULT_THRESHOLDS } from '../expiry/expiry-math.js';

/** A tenant's expiry settings as the domain sees them. */
export interface ExpirySettings {
  companyId: string;
  /** IANA zone the thresholds are counted in: the tenant registry's (read-only here). */
  timezone: string;
  /** Local hour (tenant timezone) the scheduler runs the tenant's scan at. */
  scanHour: number;
  /** Days before expiry that raise document.expiring. */
  thresholds: number[];
  /** Per document type, thresholds replacing the tenant's. */
  typeOverrides: Record<string, number[]>;
  /** Roles to escalate to, in order: level 1 is the first. Empty: no escalation. */
  escalationChain: string[];
  /** Days an alert may stay unacknowledged before each further level. */
  escalationAfterDays: number;
  /** Null while the tenant runs on the defaults. */
  updatedAt: Date | null;
}

export function defaultSettings(companyId: string): ExpirySettings {
  return {
    companyId,
    timezone: 'UTC',
    scanHour: 8,
    thresholds: [...DEFAULT_THRESHOLDS],
    typeOverrides: {},
    escalationChain: [],
    escalationAfterDays: 3,
    updatedAt: null,
  };
}
