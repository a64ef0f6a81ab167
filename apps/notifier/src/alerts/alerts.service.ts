import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, JOB_NAMES, JobEnqueuer, PLATFORM_TENANT, type AppConfig } from '../../../../libs/common/src/index.js';
import { SYSTEM_ADMIN_ROLE, TENANT_ADMIN_ROLE } from '../members/recipients.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { AlertsRepository, type AlertDecision } from './alerts.repository.js';

/** One job alert event (job.dead, job.sla_breached, job.timed_out) in its scope: a tenant, or the platform. */
export interface JobAlert {
  id: string;
  type: string;
  /** The tenant, or `_platform` for a run without one. */
  scope: string;
  job: string;
  /** Alerts with the same key share one rate-limit window: the type and job, and what else tells problems apart (the SLA kind). */
  key: string;
  data: Record<string, unknown>;
  /** Delivered during quiet hours. */
  critical: boolean;
}

/**
 * Tells a scope's admins about failing jobs (the tenant's `tenant-admin`s, or
 * the configured system admins for the platform) in-app, by email and push,
 * at most once per alert key and window (NOTIFIER_ALERT_WINDOW_MS, 15 min by
 * default): later events are folded and told in one summary when the window
 * ends (job notifier.alert-summary), so nothing is dropped and nobody is flooded.
 */
@Injectable()
export class AlertsService {
  private readonly windowMs: number;

  constructor(
    private readonly alerts: AlertsRepository,
    private readonly notifications: NotificationsService,
    private readonly enqueuer: JobEnqueuer,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.windowMs = config.notifier.alertWindowMs;
  }

  async raise(a: JobAlert): Promise<AlertDecision['decision']> {
    const data = { ...a.data, job: a.job, alertType: a.type, critical: a.critical };
    const d = await this.alerts.admit({ companyId: a.scope, alertKey: a.key, eventId: a.id, data, now: this.clock.now(), windowMs: this.windowMs });
    if (d.decision === 'folded') return 'folded';
    await this.tell(a.scope, a.type, d, a.critical);
    await this.scheduleSummary(a.scope, a.key, d.windowEndsAt);
    return 'alert';
  }

  /** At the end of a window: one summary of what was folded into it (if anything). Returns how many it summed up. */
  async summarize(scope: string, key: string, windowEndsAt: Date): Promise<number> {
    const d = await this.alerts.closeWindow({ companyId: scope, alertKey: key, windowEndsAt, now: this.clock.now(), windowMs: this.windowMs });
    if (!d) return 0;
    await this.tell(scope, String(d.data.alertType), d, d.data.critical === true);
    await this.scheduleSummary(scope, key, d.windowEndsAt);
    return d.folded;
  }

  private async tell(scope: string, type: string, d: Extract<AlertDecision, { decision: 'alert' }>, critical: boolean): Promise<void> {
    const { alertType: _type, critical: _critical, ...data } = d.data;
    await this.notifications.notify({
      id: d.id,
      type,
      companyId: scope,
      time: this.clock.now(),
      data: { ...data, folded: d.folded, windowMinutes: Math.round(this.windowMs / 60_000) },
      audience: { roles: [scope === PLATFORM_TENANT ? SYSTEM_ADMIN_ROLE : TENANT_ADMIN_ROLE] },
      critical,
    });
  }

  private async scheduleSummary(scope: string, key: string, windowEndsAt: Date): Promise<void> {
    const at = windowEndsAt.toISOString();
    await this.enqueuer.enqueue(JOB_NAMES.notifierAlertSummary, { alertKey: key, windowEndsAt: at }, {
      companyId: scope,
      runAt: windowEndsAt,
      priority: 'high',
      // Once per scope, key and window, whichever replica or redelivery asks.
      idempotencyKey: `${scope}|${key}|${at}`,
    });
  }
}
