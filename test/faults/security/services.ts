import { RequestMethod, type INestApplication } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import { AuthGuard, PERMISSION_KEY, PUBLIC_KEY, type Permission } from '../../../libs/common/src/auth/index.js';
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
  /** From the controller's metadata: the permission the route declares, and whether it is deliberately open. */
  permission?: Permission;
  public: boolean;
  guarded: boolean;
}

interface Declared {
  permission?: Permission;
  public: boolean;
  guarded: boolean;
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [String(v ?? '')]);
const join = (...parts: string[]) => `/${parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;

/** What each controller method declares (AuthGuard, @Authorize, @Public), by "METHOD /path". */
function declarations(app: INestApplication): Map<string, Declared> {
  const out = new Map<string, Declared>();
  for (const wrapper of app.get(DiscoveryService).getControllers()) {
    const type = wrapper.metatype as Function | undefined;
    if (!type || !wrapper.instance) continue;
    const proto = Object.getPrototypeOf(wrapper.instance) as Record<string, Function>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (name === 'constructor' || typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
      const guards = [...(Reflect.getMetadata(GUARDS_METADATA, type) ?? []), ...(Reflect.getMetadata(GUARDS_METADATA, handler) ?? [])];
      const declared: Declared = {
        permission: Reflect.getMetadata(PERMISSION_KEY, handler) ?? Reflect.getMetadata(PERMISSION_KEY, type),
        public: Reflect.getMetadata(PUBLIC_KEY, handler) === true || Reflect.getMetadata(PUBLIC_KEY, type) === true,
        guarded: guards.includes(AuthGuard),
      };
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      for (const c of asList(Reflect.getMetadata(PATH_METADATA, type))) {
        for (const m of asList(Reflect.getMetadata(PATH_METADATA, handler))) out.set(`${method} ${join(c, m)}`, declared);
      }
    }
  }
  return out;
}

/** Every route each app's router holds: whatever controllers exist when the suite runs are covered. */
export function routesOf(service: string, app: INestApplication, base: string): Route[] {
  const declared = declarations(app);
  const express = app.get(HttpAdapterHost).httpAdapter.getInstance() as { router?: { stack: Layer[] }; _router?: { stack: Layer[] } };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const out: Route[] = [];
  for (const layer of stack) {
    if (!layer.route) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (!on || method === '_all') continue;
      const path = String(layer.route.path);
      const d = declared.get(`${method.toUpperCase()} ${path}`) ?? declared.get(`ALL ${path}`) ?? declared.get(`ALL ${path.replace(/\{\/\*path\}$|\/\*path$/, '')}`);
      out.push({ service, method: method.toUpperCase(), path, base, permission: d?.permission, public: d?.public ?? false, guarded: d?.guarded ?? false });
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
