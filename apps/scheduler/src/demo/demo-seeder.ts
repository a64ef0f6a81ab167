import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, EVENT_TYPES, EventPublisher, JOB_NAMES, JobEnqueuer, ROOT_LOGGER, errorText, type AppConfig, type Logger } from '../../../../libs/common/src/index.js';
import { CredentialVerifier } from '../../../../libs/common/src/auth/index.js';
import { ScheduleRegistry } from '../schedules/schedule-registry.js';
import { TenantsService } from '../tenants/tenants.service.js';

const DAY = 24 * 3600_000;

export const DEMO_TENANTS = [
  { companyId: 'acme', name: 'Acme GmbH', timezone: 'Europe/Berlin', locale: 'de-DE' },
  { companyId: 'globex', name: 'Globex Corporation', timezone: 'America/New_York', locale: 'en-US' },
] as const;

const DOCUMENT_KINDS = [
  { type: 'insurance', title: 'Liability insurance', role: 'office-manager' },
  { type: 'safety-certificate', title: 'Fire safety certificate', role: 'safety-officer' },
  { type: 'compliance', title: 'GDPR processing record', role: 'compliance-lead' },
  { type: 'credential', title: 'Forklift licence', role: 'team-lead' },
];

/**
 * With DEMO=true, gives a fresh install something to look at: two tenants in
 * different time zones, documents expiring over the next weeks (and one
 * already expired), a scan every minute so alerts appear, members, a
 * round-robin recurring inspection, a briefing in ten minutes with reminders,
 * one malformed event so the dead-letter view is not empty, and one job run that
 * fails (an expiry scan asked to judge "as of" next month, which the documents
 * service refuses outside tests) so a newcomer can open a failed run and read why.
 * Idempotent: event ids are fixed, schedules upsert by name, the failing run is keyed.
 */
@Injectable()
export class DemoSeeder implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly tenants: TenantsService,
    private readonly registry: ScheduleRegistry,
    private readonly publisher: EventPublisher,
    private readonly verifier: CredentialVerifier,
    private readonly enqueuer: JobEnqueuer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.demo) return;
    try {
      await this.seed();
    } catch (e) {
      this.logger.warn({ error: errorText(e) }, 'demo data could not be seeded');
    }
  }

  async seed(): Promise<void> {
    const now = Date.now();
    for (const tenant of DEMO_TENANTS) {
      await this.tenants.upsertTenant({ companyId: tenant.companyId, name: tenant.name, timezone: tenant.timezone, locale: tenant.locale });
      const offsets = [-2, 1, 6, 13, 20, 29, 45, 90];
      let n = 0;
      for (const days of offsets) {
        for (const kind of DOCUMENT_KINDS) {
          n += 1;
          const id = `${tenant.companyId}-doc-${n}`;
          await this.publisher.publishEvent(
            EVENT_TYPES.documentUpserted,
            tenant.companyId,
            {
              id,
              companyId: tenant.companyId,
              type: kind.type,
              title: `${kind.title} #${n}`,
              owner: `${tenant.companyId}-owner`,
              responsibleRole: kind.role,
              expiresAt: new Date(now + days * DAY + n * 60_000).toISOString(),
              version: 1,
            },
            { id: `demo-${id}-v1` },
          );
        }
      }
    }
    await this.registry.registerInterval('demo.documents-expiry-scan', 60_000, JOB_NAMES.documentsExpiryScan, {}, {
      scope: 'per_tenant',
      description: 'Demo: scan every tenant for expiring documents each minute',
    });
    for (const tenant of DEMO_TENANTS) await this.seedRecurrence(tenant.companyId, tenant.timezone, now);
    // One event that fails its contract, so the dead-letter view has something to retry or purge.
    await this.publisher.publishEvent(EVENT_TYPES.documentUpserted, 'acme', { id: 'acme-broken', companyId: 'acme', expiresAt: 'next tuesday' }, { id: 'demo-acme-broken' });
    await this.seedFailedRun(now);
    this.logger.info({ tenants: DEMO_TENANTS.map((t) => t.companyId) }, 'demo tenants seeded');
  }

  /**
   * A run that fails for a reason a reader understands: someone asks acme's
   * expiry scan to judge "as of" 30 days from now; the documents service
   * refuses payloads that override the clock (ALLOW_TIME_OVERRIDES is for
   * tests), so the run is dead-lettered on its first attempt with that reason.
   * Keyed, so restarts within a day do not add more.
   */
  private async seedFailedRun(now: number): Promise<void> {
    await this.enqueuer.enqueue(JOB_NAMES.documentsExpiryScan, { asOf: new Date(now + 30 * DAY).toISOString() }, {
      companyId: 'acme',
      idempotencyKey: 'demo-failed-run',
    });
  }

  /** Members, a round-robin weekly inspection and a briefing with reminders, through the recurrence service's API. */
  private async seedRecurrence(companyId: string, timezone: string, now: number): Promise<void> {
    const people = [
      { userId: `${companyId}-ana`, roles: ['inspector', 'tenant-admin'] },
      { userId: `${companyId}-ben`, roles: ['inspector', 'safety-officer'] },
      { userId: `${companyId}-cem`, roles: ['inspector', 'office-manager'] },
    ];
    for (const p of people) {
      await this.publisher.publishEvent(EVENT_TYPES.memberUpserted, companyId, { companyId, ...p, email: `${p.userId}@example.test`, locale: 'en', timezone, version: 1 }, { id: `demo-${p.userId}-v1` });
    }
    await new Promise((r) => setTimeout(r, 500)); // let the member projection catch up before assigning
    // The recurrence API authenticates like any other caller: a short-lived token of the tenant's admin.
    const token = await this.verifier.sign({ sub: 'demo', role: 'tenant-admin', companyId }, 300);
    const call = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${this.config.ports.recurrence}/api/v1${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      if (res.status >= 400) throw new Error(`recurrence ${method} ${path}: ${res.status} ${await res.text()}`);
    };
    // The tenant's timezone reaches recurrence from the registry (tenant.upserted); templates and events without one follow it.
    await call('PUT', '/recurrence-settings', { horizonDays: 30 });
    const today = new Date(now).toISOString().slice(0, 10);
    await call('POST', '/task-templates', { title: 'Weekly site inspection', rule: 'FREQ=WEEKLY;BYDAY=MO,TH', startLocal: `${today}T09:00`, dueOffsetMinutes: 240, assignment: 'round_robin', assigneeRole: 'inspector' });
    const soon = new Date(now + 10 * 60_000);
    const local = new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(soon).replace(' ', 'T');
    await call('POST', '/calendar-events', { title: 'Safety briefing', startLocal: local, attendeeUserIds: people.map((p) => p.userId), reminderOffsetsMinutes: [8, 5, 2] });
  }
}
