import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import {
  consumerDeclaration,
  CONSUMERS,
  createCloudEvent,
  encodeCloudEvent,
  EventPublisher,
  EVENT_TYPES,
  jobConsumerDeclarations,
  provision,
  STREAM_DECLARATIONS,
  subjects,
} from '../../../libs/common/src/index.js';
import { NotifierOptions } from '../../../apps/notifier/src/delivery/notifier-options.js';
import { HostResolver } from '../../../apps/notifier/src/webhooks/host-resolver.js';
import { NotifierModule } from '../../../apps/notifier/src/notifier.module.js';
import { TEST_JWT_SECRET, tenantAuth } from '../../support/auth.js';
import { TestDatabase } from '../../support/database.js';
import { startServiceApp } from '../../support/service-app.js';
import { TestNatsServer } from '../../support/nats-server.js';
import { waitFor } from '../../support/wait.js';

export interface ReceivedMail {
  to: string[];
  raw: string;
  subject: string;
}

/** A real SMTP server that keeps what it receives; `failNext` answers 451 to that many messages. */
export class TestSmtp {
  readonly mails: ReceivedMail[] = [];
  failNext = 0;
  private server!: SMTPServer;
  port = 0;

  /** `port`: listen there (a server coming back where the notifier expects it); default any free port. */
  async start(port = 0): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.failNext > 0) {
            this.failNext--;
            const err = Object.assign(new Error('try again later'), { responseCode: 451 });
            return callback(err);
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(raw)?.[1] ?? '';
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, subject: decodeHeader(subject) });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  to(address: string): ReceivedMail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Decodes RFC 2047 encoded words (nodemailer encodes non-ASCII subjects). */
function decodeHeader(value: string): string {
  return value.replace(/\r\n[ \t]/g, ' ').replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  ).trim();
}

export interface ReceivedHook {
  headers: IncomingMessage['headers'];
  body: string;
  status: number;
}

/** A real HTTP receiver; answers the statuses in `script` first, then 200. */
export class TestReceiver {
  readonly requests: ReceivedHook[] = [];
  script: number[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.script.shift() ?? 200;
        this.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What a receiver does with Metronome-Signature: recompute the HMAC over `${t}.${body}` and compare in constant time. */
export function verifySignature(header: string | undefined, body: string, secret: string, toleranceSeconds = 300): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface MemberInput {
  userId: string;
  roles: string[];
  email?: string;
  locale?: string;
  timezone?: string;
  preferences?: { optOut: { type: string; channel: string }[] };
  quietHours?: { start: string; end: string };
}

/** The notifier in-process against a private nats-server, a fresh database, a real SMTP server and an HTTP receiver. */
export class NotifierHarness {
  readonly nats = new TestNatsServer();
  readonly database = new TestDatabase();
  readonly smtp = new TestSmtp();
  readonly receiver = new TestReceiver();
  readonly options = Object.assign(new NotifierOptions(), { quietRecheckMaxMs: 1_000, webhookTimeoutMs: 2_000 });
  app!: INestApplication;
  publisher!: EventPublisher;
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  baseUrl = '';
  private version = 1;

  /**
   * `env` overrides the defaults (webhooks may use plain http and reach this
   * loopback receiver: WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOWED_CIDRS=127.0.0.1/32);
   * `resolver` stands in for DNS. `start(env)` adds configuration (VAPID keys, alert window, system admins...).
   */
  constructor(private readonly setup: { env?: Record<string, string>; resolver?: HostResolver } = {}) {}

  async start(env: Record<string, string> = {}): Promise<this> {
    await Promise.all([this.nats.start(), this.database.create(), this.smtp.start(), this.receiver.start()]);
    this.nc = await connect({ servers: this.nats.url });
    this.jsm = await jetstreamManager(this.nc);
    const consumers = [consumerDeclaration(CONSUMERS.notifierEvents), ...jobConsumerDeclarations('notifier')];
    await provision(this.jsm, STREAM_DECLARATIONS, consumers, { replicas: 1, ackWaitMs: 30_000 });
    Object.assign(process.env, {
      NATS_URLS: this.nats.url,
      DATABASE_URL: this.database.url,
      LOG_LEVEL: 'warn',
      NATS_PROVISION_ON_START: 'false',
      JWT_SECRET: TEST_JWT_SECRET,
      SMTP_URL: `smtp://127.0.0.1:${this.smtp.port}`,
      MAIL_FROM: 'Metronome <noreply@metronome.test>',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
      ...this.setup.env,
      ...env,
    });
    let builder = Test.createTestingModule({ imports: [NotifierModule] }).overrideProvider(NotifierOptions).useValue(this.options);
    if (this.setup.resolver) builder = builder.overrideProvider(HostResolver).useValue(this.setup.resolver);
    ({ app: this.app, baseUrl: this.baseUrl } = await startServiceApp(builder));
    this.publisher = this.app.get(EventPublisher);
    return this;
  }

  private readonly replicas: INestApplication[] = [];

  /** Another notifier replica on the same NATS and database (its own HTTP port, NATS connection and consumers). */
  async replica(): Promise<{ app: INestApplication; baseUrl: string }> {
    const r = await startServiceApp(Test.createTestingModule({ imports: [NotifierModule] }).overrideProvider(NotifierOptions).useValue(this.options));
    this.replicas.push(r.app);
    return r;
  }

  async stop(): Promise<void> {
    for (const r of this.replicas) await r.close();
    await this.app?.close();
    await this.nc?.close();
    await Promise.all([this.smtp.stop(), this.receiver.stop()]);
    await this.nats.destroy();
    await this.database.drop();
  }

  /** Publishes member.upserted and waits until the directory holds it. */
  async member(companyId: string, m: MemberInput): Promise<void> {
    const version = this.version++;
    await this.publisher.publishEvent(EVENT_TYPES.memberUpserted, companyId, { companyId, ...m, version });
    await waitFor(async () => {
      const rows = await this.database.query<{ event_order: string }>('SELECT event_order FROM notifier_members WHERE company_id = $1 AND user_id = $2', [companyId, m.userId]);
      return rows.length === 1 && Number(rows[0].event_order) >= version;
    }, { what: `member ${companyId}/${m.userId}` });
  }

  event(type: string, companyId: string, data: Record<string, unknown>, id?: string) {
    return this.publisher.publishEvent(type, companyId, data, { id });
  }

  /** The same CloudEvent again under a different Nats-Msg-Id: what a redelivery or a producer retry past the dedup window looks like. */
  async republish(type: string, companyId: string, data: Record<string, unknown>, id: string): Promise<void> {
    const e = createCloudEvent({ type, source: 'test', data, companyId, id });
    await jetstream(this.nc).publish(subjects.event(companyId, type), encodeCloudEvent(e), { msgID: `${id}#again` });
  }

  async notifications(companyId: string, userId?: string) {
    return this.database.query<{ id: string; user_id: string; type: string; title: string; source_event_id: string; critical: boolean }>(
      `SELECT * FROM notifications WHERE company_id = $1 AND ($2::text IS NULL OR user_id = $2) ORDER BY user_id, created_at`,
      [companyId, userId ?? null],
    );
  }

  async deliveries(companyId: string) {
    return this.database.query<{ channel: string; target: string; outcome: string; attempt: number; status_code: number | null; run_id: string }>(
      `SELECT * FROM notification_deliveries WHERE company_id = $1 ORDER BY id`,
      [companyId],
    );
  }

  /** Every published event handled by the notifier-events consumer. */
  async settle(): Promise<void> {
    await waitFor(async () => {
      const info = await this.jsm.consumers.info('EVENTS', CONSUMERS.notifierEvents);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, { what: 'notifier-events drained' });
  }

  async http(method: string, path: string, options: { companyId?: string; userId?: string; body?: unknown } = {}): Promise<{ status: number; type: string; body: any }> {
    const headers: Record<string, string> = await tenantAuth(options.companyId, options.userId);
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : undefined };
  }
}
