import { Inject, Injectable } from '@nestjs/common';
import { EVENT_TYPES, JOB_NAMES, RetryableError, ROOT_LOGGER, type Logger, type Priority } from '../../../../libs/common/src/index.js';
import { Clock } from '../clock.js';
import { SettingsService } from '../settings/settings.service.js';
import type { ExpirySettings } from '../settings/settings.types.js';
import { AlertPublisher, type OutgoingEvent } from './alert.publisher.js';
import { alertEventId, DAY_MS, dueAlert, escalationEventId, escalationLevelAt, horizonDays, isValidTimeZone, thresholdsFor } from './expiry-math.js';
import { ExpiryRepository, type OutboxTable } from './expiry.repository.js';
import type { AlertView, NewAlert, NewEscalation, PlannedEvent, ScanSummary } from './expiry.types.js';

/** Documents read per keyset page; alerts and escalations inserted per statement. */
export const SCAN_BATCH = 5_000;
/** A document that expired longer ago than this, and was never alerted, is history: no document.expired for it. */
export const EXPIRED_LOOKBACK_DAYS = 30;

const EVENT_OF_KIND: Record<string, string> = {
  expiring: EVENT_TYPES.documentExpiring,
  expired: EVENT_TYPES.documentExpired,
  escalated: EVENT_TYPES.documentEscalated,
};

/**
 * Expiry monitoring for one tenant at a time: raises document.expiring once per
 * (document, expiry, threshold) and document.expired once per expiry, and
 * escalates what stays unacknowledged. Every event is planned in Postgres
 * first (unpublished), then published with a deterministic id, then marked
 * published; a rerun republishes whatever a crash left unmarked.
 */
@Injectable()
export class ExpiryService {
  constructor(
    private readonly repo: ExpiryRepository,
    private readonly settings: SettingsService,
    private readonly publisher: AlertPublisher,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  /** One tenant's scan as of an instant. `heartbeat` keeps a long scan's message from being redelivered. */
  async scan(companyId: string, asOf: Date, runId: string, heartbeat: () => void = () => undefined): Promise<ScanSummary> {
    const startedAt = new Date();
    // A scan hour the scheduler missed (NATS down at the save) is told again now, so the next scan is at the right hour.
    await this.settings.announcePending(companyId);
    const settings = await this.settings.get(companyId);
    const zone = isValidTimeZone(settings.timezone) ? settings.timezone : 'UTC';
    const summary: ScanSummary = { runId, companyId, asOf: asOf.toISOString(), documentsRead: 0, expiring: 0, expired: 0, escalated: 0, republished: 0 };

    summary.republished += await this.republish('document_alerts', companyId, heartbeat);
    summary.republished += await this.republish('document_escalations', companyId, heartbeat);

    const from = new Date(asOf.getTime() - EXPIRED_LOOKBACK_DAYS * DAY_MS);
    const to = new Date(asOf.getTime() + (horizonDays(settings.thresholds, settings.typeOverrides) + 2) * DAY_MS);
    let after: { expiresAt: Date; id: string } | null = null;
    for (;;) {
      const page = await this.repo.window(companyId, from, to, after, SCAN_BATCH);
      if (page.length === 0) break;
      summary.documentsRead += page.length;
      const alerts: NewAlert[] = [];
      for (const doc of page) {
        const due = dueAlert(doc.expiresAt, asOf, zone, thresholdsFor(doc.type, settings.thresholds, settings.typeOverrides));
        if (!due) continue;
        const expiresAt = doc.expiresAt.toISOString();
        alerts.push({
          documentId: doc.id,
          expiresAt: doc.expiresAt,
          threshold: due.threshold,
          kind: due.kind,
          eventId: alertEventId(companyId, doc.id, doc.expiresAt, due.threshold),
          payload: {
            id: doc.id,
            companyId,
            type: doc.type,
            title: doc.title,
            owner: doc.owner,
            responsibleRole: doc.responsibleRole,
            expiresAt,
            ...(due.kind === 'expiring' ? { thresholdDays: due.threshold, daysLeft: due.daysLeft } : {}),
            timezone: zone,
            alertedAt: asOf.toISOString(),
          },
        });
      }
      const created = await this.repo.insertAlerts(companyId, alerts, asOf);
      for (const a of created) summary[a.kind] += 1;
      await this.publishPlanned('document_alerts', companyId, created.map((a) => ({ eventId: a.eventId, type: a.kind, payload: a.payload })), asOf);
      heartbeat();
      if (page.length < SCAN_BATCH) break;
      const last = page[page.length - 1];
      after = { expiresAt: last.expiresAt, id: last.id };
    }

    summary.escalated = await this.escalate(settings, asOf, heartbeat);
    await this.repo.recordScan(summary, startedAt);
    this.logger.info({ ...summary }, 'expiry scan finished');
    return summary;
  }

  /** Escalates every open alert whose next level is due, batch by batch. */
  private async escalate(settings: ExpirySettings, asOf: Date, heartbeat: () => void): Promise<number> {
    const chain = settings.escalationChain;
    if (chain.length === 0) return 0;
    let escalated = 0;
    for (;;) {
      const due = await this.repo.dueForEscalation(settings.companyId, asOf, settings.escalationAfterDays, chain.length, SCAN_BATCH);
      if (due.length === 0) break;
      const planned: NewEscalation[] = [];
      for (const alert of due) {
        const reached = escalationLevelAt(alert.alertedAt, asOf, settings.escalationAfterDays, chain.length);
        for (let level = alert.escalationLevel + 1; level <= reached; level++) {
          planned.push({
            documentId: alert.documentId,
            expiresAt: alert.expiresAt,
            threshold: alert.threshold,
            level,
            role: chain[level - 1],
            eventId: escalationEventId(settings.companyId, alert.documentId, alert.expiresAt, alert.threshold, level),
            payload: {
              ...alert.payload,
              alertKind: alert.kind,
              alertEventId: alertEventId(settings.companyId, alert.documentId, alert.expiresAt, alert.threshold),
              level,
              role: chain[level - 1],
              escalationChain: chain,
              escalatedAt: asOf.toISOString(),
            },
          });
        }
      }
      const created = await this.repo.insertEscalations(settings.companyId, planned);
      escalated += created.length;
      await this.publishPlanned('document_escalations', settings.companyId, created, asOf);
      heartbeat();
      if (due.length < SCAN_BATCH) break;
    }
    return escalated;
  }

  /** Publishes what a crash or a failed publish left planned but unmarked, with the same ids. */
  private async republish(table: OutboxTable, companyId: string, heartbeat: () => void): Promise<number> {
    let after = '';
    let count = 0;
    for (;;) {
      const pending = await this.repo.unpublished(table, companyId, after, SCAN_BATCH);
      if (pending.length === 0) return count;
      await this.publishPlanned(table, companyId, pending);
      count += pending.length;
      heartbeat();
      if (pending.length < SCAN_BATCH) return count;
      after = pending[pending.length - 1].eventId;
    }
  }

  private async publishPlanned(table: OutboxTable, companyId: string, planned: PlannedEvent[], time?: Date): Promise<void> {
    if (planned.length === 0) return;
    const events: OutgoingEvent[] = planned.map((p) => ({ id: p.eventId, type: EVENT_OF_KIND[p.type], companyId, data: p.payload, time }));
    const outcome = await this.publisher.publishEvents(events);
    await this.repo.markPublished(table, companyId, outcome.stored);
    if (outcome.failures.length) {
      // The rows stay unpublished; the retry (or the next scan) republishes them with the same ids.
      throw new RetryableError(`${outcome.failures.length} of ${events.length} events were not stored: ${outcome.failures[0].error}`);
    }
  }

  /**
   * Fan-out: one documents.expiry-scan run per tenant, each a JobMessage
   * { runId, companyId, payload, scheduledFor } at the parent's priority, with
   * run ids derived from this run so a redelivery publishes duplicates
   * JetStream drops (and the job runtime finds already-finished runs). The
   * payload carries `asOf` only when the parent was given one (tests): each
   * child otherwise judges by its own clock.
   */
  async scanAll(asOf: Date | undefined, runId: string, priority?: Priority): Promise<number> {
    let after = '';
    let tenants = 0;
    const scheduledFor = new Date().toISOString();
    for (;;) {
      const page = await this.repo.tenants(after, 1_000);
      if (page.length === 0) return tenants;
      const outcome = await this.publisher.publishJobs(
        page.map((companyId) => {
          const child = `${runId}:${companyId}`;
          return { runId: child, job: JOB_NAMES.documentsExpiryScan, companyId, priority, data: { runId: child, companyId, payload: asOf ? { asOf: asOf.toISOString() } : {}, scheduledFor } };
        }),
      );
      if (outcome.failures.length) throw new RetryableError(`${outcome.failures.length} tenant scans were not published: ${outcome.failures[0].error}`);
      tenants += page.length;
      after = page[page.length - 1];
    }
  }

  /** Acknowledges a document's open alerts; null when the tenant has no such document. */
  acknowledge(companyId: string, documentId: string, by: string | null, at: Date, expiresAt: Date | null = null): Promise<number | null> {
    return this.repo.acknowledge(companyId, documentId, by, at, expiresAt);
  }

  alertsOf(companyId: string, documentId: string, expiresAt: Date): Promise<AlertView[]> {
    return this.repo.alertsOf(companyId, documentId, expiresAt);
  }
}
