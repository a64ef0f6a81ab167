import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startDocuments } from '../../../apps/documents/src/main.js';
import { startNotifier } from '../../../apps/notifier/src/main.js';
import { startRecurrence } from '../../../apps/recurrence/src/main.js';
import { startScheduler } from '../../../apps/scheduler/src/main.js';
import { TestDatabase } from '../../support/database.js';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { JWT_SECRET, API_KEY } from '../../integration/control-plane/support.js';

export interface Route {
  service: string;
  method: string;
  /** Express path with :params, as registered by Nest. */
  path: string;
  base: string;
}

/** Every route each app's router holds: whatever controllers exist when the suite runs are covered. */
export function routesOf(service: string, app: INestApplication, base: string): Route[] {
  const express = app.get(HttpAdapterHost).httpAdapter.getInstance() as { router?: { stack: Layer[] }; _router?: { stack: Layer[] } };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const out: Route[] = [];
  for (const layer of stack) {
    if (!layer.route) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') out.push({ service, method: method.toUpperCase(), path: String(layer.route.path), base });
    }
  }
  return out;
}
interface Layer {
  route?: { path: string | RegExp; methods: Record<string, boolean> };
}

/** All four services in this process (as `npm run start:all` runs them), each on its own port, with a private NATS and database. */
export class FourServices {
  readonly nats = new TestNatsServer();
  readonly database = new TestDatabase();
  readonly apps: { service: string; app: INestApplication; base: string }[] = [];
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;

  async start(extraEnv: Record<string, string> = {}): Promise<this> {
    await Promise.all([this.nats.start(), this.database.create()]);
    const ports = { scheduler: await freePort(), documents: await freePort(), notifier: await freePort(), recurrence: await freePort() };
    Object.assign(process.env, {
      NATS_URLS: this.nats.url,
      DATABASE_URL: this.database.url,
      SCHEDULER_PORT: String(ports.scheduler),
      DOCUMENTS_PORT: String(ports.documents),
      NOTIFIER_PORT: String(ports.notifier),
      RECURRENCE_PORT: String(ports.recurrence),
      JWT_SECRET,
      API_KEYS: `ci=${API_KEY}`,
      TICK_INTERVAL_MS: '3600000',
      LOG_LEVEL: 'silent',
      API_RATE_LIMIT_BURST: '1000000',
      API_RATE_LIMIT_PER_SECOND: '100000',
      ACK_WAIT_MS: '5000',
      SHUTDOWN_GRACE_MS: '1000',
      ...extraEnv,
    });
    const starts: [string, (hooks?: boolean) => Promise<INestApplication>, number][] = [
      ['documents', startDocuments, ports.documents],
      ['recurrence', startRecurrence, ports.recurrence],
      ['notifier', startNotifier, ports.notifier],
      ['scheduler', startScheduler, ports.scheduler],
    ];
    for (const [service, start, port] of starts) this.apps.push({ service, app: await start(false), base: `http://127.0.0.1:${port}` });
    this.nc = await connect({ servers: this.nats.url });
    this.js = jetstream(this.nc);
    this.jsm = await jetstreamManager(this.nc);
    return this;
  }

  routes(): Route[] {
    return this.apps.flatMap((a) => routesOf(a.service, a.app, a.base));
  }

  base(service: string): string {
    return this.apps.find((a) => a.service === service)!.base;
  }

  async stop(): Promise<void> {
    for (const a of [...this.apps].reverse()) await a.app.close().catch(() => undefined);
    await this.nc?.close().catch(() => undefined);
    await this.nats.destroy();
    await this.database.drop();
  }
}

/** Every row of every table with a company_id column, for one tenant: a fingerprint per table. */
export async function tenantFingerprint(db: TestDatabase, companyId: string): Promise<Record<string, string>> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'company_id' ORDER BY table_name`,
  );
  const out: Record<string, string> = {};
  for (const { table_name } of tables) {
    // audit_log records refused attempts of the caller's own tenant only; nothing of the victim may change.
    const rows = await db.query<{ h: string | null; n: string }>(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) h, count(*) n FROM "${table_name}" t WHERE company_id = $1`,
      [companyId],
    );
    out[table_name] = `${rows[0].n}:${rows[0].h ?? '-'}`;
  }
  return out;
}
