import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import {
  consumerDeclaration,
  CONSUMERS,
  EventPublisher,
  EVENT_TYPES,
  JOB_NAMES,
  jobConsumerDeclarations,
  provision,
  STREAM_DECLARATIONS,
  STREAMS,
  type CloudEvent,
} from '../../../libs/common/src/index.js';
import { Clock } from '../../../apps/documents/src/clock.js';
import { DocumentsModule } from '../../../apps/documents/src/documents.module.js';
import { TEST_JWT_SECRET, tenantAuth } from '../../support/auth.js';
import { TestDatabase } from '../../support/database.js';
import { runState } from '../../support/runs.js';
import { startServiceApp } from '../../support/service-app.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { waitFor } from '../../support/wait.js';

/** A clock tests move by hand. */
export class TestClock extends Clock {
  constructor(private ms: number) {
    super();
  }
  now(): Date {
    return new Date(this.ms);
  }
  set(to: string | Date): void {
    this.ms = new Date(to).getTime();
  }
}

export interface StoredEvent {
  subject: string;
  id: string;
  type: string;
  companyid?: string;
  data: Record<string, unknown>;
}

export interface RunRow {
  id: string;
  job: string;
  company_id: string | null;
  state: string;
  attempts: number;
  result: { status: string; recordsProcessed?: number; message?: string } | null;
}

export interface ScanRow {
  run_id: string;
  company_id: string;
  documents_read: number;
  expiring: number;
  expired: number;
  escalated: number;
  republished: number;
}

/**
 * The documents service in-process against a private nats-server and a fresh
 * migrated database, with a hand-moved clock; helpers to feed it events, run
 * scans through JetStream and read what it stored in the EVENTS stream.
 */
export class DocumentsHarness {
  readonly nats = new TestNatsServer();
  readonly database = new TestDatabase();
  readonly clock = new TestClock(Date.parse('2025-06-01T00:00:00Z'));
  app!: INestApplication;
  publisher!: EventPublisher;
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  baseUrl = '';
  private version = 1;

  /** `env` overrides the defaults (ALLOW_TIME_OVERRIDES=true: the scans here are judged at fixed instants). */
  constructor(private readonly env: Record<string, string> = {}) {}

  async start(): Promise<this> {
    await Promise.all([this.nats.start(), this.database.create()]);
    this.nc = await connect({ servers: this.nats.url });
    this.jsm = await jetstreamManager(this.nc);
    const consumers = [...jobConsumerDeclarations('documents'), consumerDeclaration(CONSUMERS.documentsEvents), consumerDeclaration(CONSUMERS.documentsTenants)];
    await provision(this.jsm, STREAM_DECLARATIONS, consumers, { replicas: 1, ackWaitMs: 30_000 });
    // The scans are judged at fixed instants (payload asOf): a time override, honoured only when tests allow it.
    Object.assign(process.env, { NATS_URLS: this.nats.url, DATABASE_URL: this.database.url, LOG_LEVEL: 'warn', NATS_PROVISION_ON_START: 'false', ALLOW_TIME_OVERRIDES: 'true', JWT_SECRET: TEST_JWT_SECRET, ...this.env });
    ({ app: this.app, baseUrl: this.baseUrl } = await startServiceApp(Test.createTestingModule({ imports: [DocumentsModule] }).overrideProvider(Clock).useValue(this.clock)));
    this.publisher = this.app.get(EventPublisher);
    return this;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.nc?.close();
    await this.nats.destroy();
    await this.database.drop();
  }

  /** Publishes document.upserted and waits until the projection holds that version. */
  async upsert(companyId: string, doc: { id: string; expiresAt: string | null; type?: string; title?: string; responsibleRole?: string; owner?: string; version?: number }): Promise<number> {
    const version = doc.version ?? this.version++;
    await this.publisher.publishEvent(EVENT_TYPES.documentUpserted, companyId, { companyId, title: doc.id, ...doc, version });
    await this.waitForVersion(companyId, doc.id, version);
    return version;
  }

  async waitForVersion(companyId: string, id: string, version: number): Promise<void> {
    await waitFor(async () => {
      const rows = await this.database.query<{ version: string }>('SELECT version FROM documents WHERE company_id = $1 AND id = $2', [companyId, id]);
      return rows.length === 1 && Number(rows[0].version) >= version;
    }, { what: `document ${companyId}/${id} at version ${version}` });
  }

  /**
   * Runs documents.expiry-scan through JetStream as the scheduler sends it (a
   * JobMessage { runId, companyId, payload: { asOf? }, scheduledFor }) and waits
   * for the scan and for its run history to say succeeded.
   */
  async scan(companyId: string, asOf?: string): Promise<ScanRow> {
    const runId = `scan-${randomUUID()}`;
    const message = { runId, companyId, payload: asOf ? { asOf } : {}, scheduledFor: new Date().toISOString() };
    await this.publisher.publishJob(JOB_NAMES.documentsExpiryScan, message, { runId, companyId });
    const scan = await this.waitForScan(runId);
    await this.waitForRun(runId, 'succeeded');
    return scan;
  }

  /** Waits until the run's history (its latest attempt in job_attempts) is in a state and returns it. */
  async waitForRun(runId: string, state: string): Promise<RunRow> {
    const row = await waitFor(async () => {
      const run = await runState(this.database, runId);
      return run?.state === state ? (run as RunRow) : undefined;
    }, { what: `run ${runId} ${state}` });
    return row!;
  }

  /** How many messages the JOBS stream has ever stored (its last sequence): a workqueue stream forgets consumed ones, not their count. */
  async jobsPublished(): Promise<number> {
    return (await this.jsm.streams.info(STREAMS.JOBS)).state.last_seq;
  }

  async waitForScan(runId: string): Promise<ScanRow> {
    return waitFor(async () => {
      const rows = await this.database.query<ScanRow>('SELECT * FROM document_scans WHERE run_id = $1 AND finished_at IS NOT NULL', [runId]);
      return rows[0];
    }, { what: `scan ${runId}` });
  }

  /** Every document.* event JetStream stored, of one type (or all), in stream order. */
  async stored(type?: string, companyId = '*'): Promise<StoredEvent[]> {
    const filter = `events.${companyId}.${type ?? 'document.>'}`;
    const name = `reader-${randomUUID()}`;
    const info = await this.jsm.consumers.add(STREAMS.EVENTS, {
      name,
      filter_subject: filter,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: 30_000_000_000,
    });
    const out: StoredEvent[] = [];
    const consumer = await jetstream(this.nc).consumers.get(STREAMS.EVENTS, name);
    let remaining = info.num_pending;
    while (remaining > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(remaining, 500), expires: 2_000 });
      let got = 0;
      for await (const m of batch) {
        const e = m.json<CloudEvent<Record<string, unknown>>>();
        out.push({ subject: m.subject, id: e.id, type: e.type, companyid: e.companyid, data: e.data });
        got++;
      }
      if (got === 0) break;
      remaining -= got;
    }
    await this.jsm.consumers.delete(STREAMS.EVENTS, name).catch(() => undefined);
    return out;
  }

  async http(method: string, path: string, options: { companyId?: string; userId?: string; body?: unknown } = {}): Promise<{ status: number; type: string; body: any }> {
    const headers: Record<string, string> = await tenantAuth(options.companyId, options.userId);
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : undefined };
  }

  /** Announces the tenant as the tenant registry does (a versioned tenant.upserted) and waits until documents holds its timezone. */
  async tenant(companyId: string, timezone: string, version = 1): Promise<void> {
    await this.publisher.publishEvent(EVENT_TYPES.tenantUpserted, companyId, { companyId, timezone, locale: 'en', active: true, paused: false, version }, { id: `tenant:${companyId}:v${version}` });
    await waitFor(async () => {
      const rows = await this.database.query<{ version: string }>('SELECT version FROM document_tenants WHERE company_id = $1', [companyId]);
      return rows.length === 1 && Number(rows[0].version) >= version;
    }, { what: `tenant ${companyId} v${version} in documents` });
  }

  async putSettings(companyId: string, settings: Record<string, unknown>): Promise<void> {
    const res = await this.http('PUT', '/api/v1/expiry-settings', { companyId, body: settings });
    if (res.status !== 200) throw new Error(`settings rejected: ${res.status} ${JSON.stringify(res.body)}`);
  }
}
