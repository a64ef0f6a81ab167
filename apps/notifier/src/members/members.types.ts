export interface QuietHoursWindow {
  /** Local HH:MM in the member's timezone. */
  start: string;
  end: string;
}

export interface OptOut {
  type: string;
  channel: string;
}

export interface Member {
  companyId: string;
  userId: string;
  roles: string[];
  email: string | null;
  locale: string | null;
  timezone: string | null;
  optOut: OptOut[];
  quietHours: QuietHoursWindow | null;
}

export interface MemberUpdate extends Member {
  removed: boolean;
  order: number;
}
