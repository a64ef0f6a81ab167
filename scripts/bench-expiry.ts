/**
 * `npm run bench:expiry`: seeds 1,000,000 documents across 1,000 tenants in a
 * dedicated database, runs documents.expiry-scan-all through a private
 * nats-server and the real documents service (fan-out, one scan per tenant on
 * the documents-jobs-<priority> job runtime consumers), and writes bench/results/expiry.json.
 * Database and NATS come from the usual configuration: DATABASE_URL names the
 * server (the bench uses its own database on it), nats-server is started privately.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { DataSource } from 'typeorm';
import {
  APP_CONFIG,
  connectJetStream,
  consumerDeclaration,
  CONSUMERS,
  EventPublisher,
  JOB_NAMES,
  jobConsumerDeclarations,
  loadConfigOrExit,
  provision,
  STREAM_DECLARATIONS,
  STREAMS,
  type AppConfig,
} from '../libs/common/src/index.js';
import { DocumentsModule } from '../apps/documents/src/documents.module.js';
import { MIGRATIONS } from '../migrations/index.js';
import { TestNatsServer } from '../test/support/nats-server.js';

const TENANTS = 1_000;
const PER_TENANT = 1_000;
const AS_OF = new Date('2025-06-01T06:00:00Z');
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Chatham'];
const ROOT = join(import.meta.dirname, '..', '..');

const log = (msg: string) => process.stdout.write(`[bench:expiry] ${msg}\n`);
const seconds = (since: number) => Math.round((performance.now() - since) / 10) / 100;

async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const ds = new DataSource({ type: 'postgres', url: url.toString(), migrations: MIGRATIONS, migrationsTableName: 'typeorm_migrations' });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  return url.toString();
}

/** Server-side generation, four tenant ranges at once: expiries spread from 60 days back to a year ahead. */
async function seed(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const span = 425 * 86_400;
  const from = new Date(AS_OF.getTime() - 60 * 86_400_000);
  const chunks = 4;
  await Promise.all(
    Array.from({ length: chunks }, (_, k) =>
      pool.query(
        `INSERT INTO documents (company_id, id, type, title, owner, responsible_role, expires_at, version)
         SELECT 't' || lpad(t::text, 4, '0'), 'doc-' || d, (ARRAY['contract','passport','permit','certificate'])[1 + d % 4],
                'Document ' || d, 'user-' || (d % 50), 'compliance', $1::timestamptz + ((hashint4(t * 100003 + d) & 2147483647) % $2) * interval '1 second', 1
         FROM generate_series($3::int, $4::int) t, generate_series(1, $5::int) d`,
        [from, span, 1 + (k * TENANTS) / chunks, ((k + 1) * TENANTS) / chunks, PER_TENANT],
      ),
    ),
  );
  await pool.query(
    `INSERT INTO document_settings (company_id, thresholds, type_overrides, escalation_chain, escalation_after_days)
     SELECT 't' || lpad(t::text, 4, '0'), '{30,14,7,1}',
            CASE WHEN t % 3 = 0 THEN '{"passport": [60, 30]}'::jsonb ELSE '{}'::jsonb END, '{manager,director}', 3
     FROM generate_series(1, $1::int) t`,
    [TENANTS],
  );
  // Each tenant's timezone as the tenant registry announced it (documents-tenants).
  await pool.query(
    `INSERT INTO document_tenants (company_id, timezone, version)
     SELECT 't' || lpad(t::text, 4, '0'), ($1::text[])[1 + t % cardinality($1::text[])], 1 FROM generate_series(1, $2::int) t`,
    [ZONES, TENANTS],
  );
  await pool.query('VACUUM ANALYZE documents');
  await pool.query('VACUUM ANALYZE document_settings');
  await pool.end();
}

async function main(): Promise<void> {
  const base = loadConfigOrExit();
  const nats = await new TestNatsServer().start();
  const started = performance.now();
  log('creating database metronome_bench_expiry');
  const url = await freshDatabase(base.database.url, 'metronome_bench_expiry');
  log(`seeding ${TENANTS * PER_TENANT} documents across ${TENANTS} tenants`);
  const seedStart = performance.now();
  await seed(url);
  const seedSeconds = seconds(seedStart);
  log(`seeded in ${seedSeconds} s`);

  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  const consumers = [...jobConsumerDeclarations('documents'), consumerDeclaration(CONSUMERS.documentsEvents)];
  await provision(jsm, STREAM_DECLARATIONS, consumers, { replicas: 1, ackWaitMs: base.ackWaitMs });
  const config: AppConfig = {
    ...base,
    logLevel: 'warn',
    // The bench scans at a fixed AS_OF instant (a payload time override, refused unless allowed).
    allowTimeOverrides: true,
    nats: { ...base.nats, servers: [nats.url], provisionOnStart: false, user: undefined, password: undefined, token: undefined, credsFile: undefined, nkeySeedFile: undefined, tls: undefined },
    database: { ...base.database, url, poolSize: Math.max(base.database.poolSize, 20) },
  };
  const moduleRef = await Test.createTestingModule({ imports: [DocumentsModule] }).overrideProvider(APP_CONFIG).useValue(config).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  await connectJetStream(app);
  await app.init();
  const db = new pg.Pool({ connectionString: url, max: 2 });
  const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0].n);

  const run = async (runId: string) => {
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const t0 = performance.now();
    await app.get(EventPublisher).publishJob(JOB_NAMES.documentsExpiryScanAll, { asOf: AS_OF.toISOString() }, { runId });
    for (;;) {
      const done = await count(`SELECT count(*) n FROM document_scans WHERE run_id LIKE '${runId}:%' AND finished_at IS NOT NULL`);
      if (done === TENANTS) break;
      if (performance.now() - t0 > 600_000) throw new Error(`only ${done} of ${TENANTS} scans finished in 10 minutes`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const secs = seconds(t0);
    clearInterval(sampler);
    const totals = (await db.query<{ expiring: string; expired: string; escalated: string; read: string }>(
      `SELECT sum(expiring) expiring, sum(expired) expired, sum(escalated) escalated, sum(documents_read) read FROM document_scans WHERE run_id LIKE '${runId}:%'`,
    )).rows[0];
    return { secs, peakMb: Math.round(peak / 1048576), expiring: Number(totals.expiring), expired: Number(totals.expired), escalated: Number(totals.escalated), read: Number(totals.read) };
  };

  log('scan 1: documents.expiry-scan-all');
  const first = await run('bench-1');
  log(`scan 1: ${first.secs} s, ${first.expiring + first.expired} events, peak rss ${first.peakMb} MB`);
  const unpublished = await count('SELECT count(*) n FROM document_alerts WHERE published_at IS NULL');
  const stored = (await jsm.streams.info(STREAMS.EVENTS, { subjects_filter: 'events.*.document.>' })).state.subjects ?? {};
  const inStream = Object.entries(stored).filter(([s]) => /\.document\.(expiring|expired)$/.test(s)).reduce((n, [, v]) => n + v, 0);
  log('scan 2: the same scan again (idempotent rerun)');
  const second = await run('bench-2');
  log(`scan 2: ${second.secs} s, ${second.expiring + second.expired} events`);

  const result = {
    documents: TENANTS * PER_TENANT,
    tenants: TENANTS,
    seconds: first.secs,
    events_emitted: first.expiring + first.expired + first.escalated,
    rss_mb: first.peakMb,
    detail: {
      as_of: AS_OF.toISOString(),
      documents_in_window: first.read,
      expiring: first.expiring,
      expired: first.expired,
      events_stored_in_stream: inStream,
      alerts_left_unpublished: unpublished,
      rerun_seconds: second.secs,
      rerun_events_emitted: second.expiring + second.expired + second.escalated,
      seed_seconds: seedSeconds,
      max_rss_mb_whole_process: Math.round(process.resourceUsage().maxRSS / 1024),
      cpus: availableParallelism(),
      cpu_model: cpus()[0]?.model,
      node: process.version,
      measured_at: new Date().toISOString(),
    },
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'expiry.json'), `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote bench/results/expiry.json in ${seconds(started)} s total:\n${JSON.stringify(result, null, 2)}`);

  await app.close();
  await db.end();
  await nc.close();
  await nats.destroy();
  const cleanup = new pg.Client({ connectionString: base.database.url.replace(/\/[^/]*$/, '/postgres') });
  await cleanup.connect();
  await cleanup.query('DROP DATABASE IF EXISTS metronome_bench_expiry WITH (FORCE)');
  await cleanup.end();
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`[bench:expiry] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
