/**
 * A real Prometheus (Debian package `prometheus`) scrapes the four services,
 * each a built child process on its own port, running the demo (DEMO=true, as
 * `npm start` does), and loads the project's alert rules: every metric the
 * services declare has samples, every dashboard panel has data, the key series
 * carry a `service` label, every rule group is healthy, and the demo's dead
 * letter both fires its alert and reaches the tenant admin's in-app inbox.
 * Needs `npm run build` first (npm test does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { parse } from 'yaml';
import {
  CONSUMER_DECLARATIONS,
  createCloudEvent,
  encodeCloudEvent,
  EVENT_TYPES,
  JOB_NAMES,
  KV_DECLARATIONS,
  MetronomeMetrics,
  provision,
  STREAM_DECLARATIONS,
  subjects,
} from '../../../libs/common/src/index.js';
import { TEST_JWT_SECRET, testToken } from '../../support/auth.js';
import { TestDatabase } from '../../support/database.js';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { ROOT, ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';

const SERVICES = ['scheduler', 'notifier', 'documents', 'recurrence'] as const;
type Service = (typeof SERVICES)[number];
const ALERTS = join(ROOT, 'observability', 'prometheus', 'alerts.yml');
const DASHBOARD = join(ROOT, 'observability', 'grafana', 'dashboards', 'metronome.json');
/** Panels that chart only a condition the demo does not create. */
const CONDITIONAL_PANELS: Record<string, string> = { 'Paused for': 'shows only paused queues' };

function findPrometheus(): string {
  if (process.env.PROMETHEUS_BIN) return process.env.PROMETHEUS_BIN;
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'prometheus'))) return join(dir, 'prometheus');
  if (existsSync('/usr/bin/prometheus')) return '/usr/bin/prometheus';
  throw new Error('prometheus is not installed: sudo apt-get install -y prometheus');
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

describe('a real Prometheus scraping the four services', () => {
  const nats = new TestNatsServer();
  const database = new TestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'metronome-prometheus-'));
  const ports = {} as Record<Service, number>;
  const services: ServiceProcess[] = [];
  let prometheus: ChildProcess | undefined;
  const promLog: string[] = [];
  let promUrl = '';
  let nc: NatsConnection;

  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
    return body.data.result;
  };
  /** The services that have at least one series of the metric, once Prometheus has all of `want`. */
  const servicesWith = (metric: string, want: readonly Service[]) =>
    waitFor(async () => {
      const found = new Set((await query(`count by (service) (${metric})`)).map((s) => s.metric.service));
      return want.every((s) => found.has(s)) ? [...found].sort() : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: `${metric} from ${want.join(', ')}` }).catch(async (e) => {
      throw new Error(`${String(e)}; have ${JSON.stringify(await query(`count by (service) (${metric})`))}`);
    });

  beforeAll(async () => {
    await Promise.all([nats.start(), database.create()]);
    nc = await connect({ servers: nats.url });
    await provision(await jetstreamManager(nc), STREAM_DECLARATIONS, CONSUMER_DECLARATIONS, { replicas: 1, ackWaitMs: 30_000, kv: KV_DECLARATIONS });
    for (const s of SERVICES) ports[s] = await freePort();
    const env = {
      NATS_URLS: nats.url,
      DATABASE_URL: database.url,
      // Streams, consumers and the control bucket exist already: four processes provisioning at once would race.
      NATS_PROVISION_ON_START: 'false',
      // One secret for the four processes (the demo's seeder calls the other APIs with tokens it signs).
      JWT_SECRET: TEST_JWT_SECRET,
      SCHEDULER_PORT: String(ports.scheduler),
      NOTIFIER_PORT: String(ports.notifier),
      DOCUMENTS_PORT: String(ports.documents),
      RECURRENCE_PORT: String(ports.recurrence),
    };
    // The scheduler seeds the demo through the other services' APIs and events: it starts once they are up.
    const start = (s: Service) => {
      const p = new ServiceProcess(`apps/${s}/src/main.js`, { ...env, DEMO: 'true', INSTANCE_ID: `${s}-scrape` }).start();
      services.push(p);
      return p.waitForLog(`${s} started`, 45_000);
    };
    await Promise.all((['notifier', 'documents', 'recurrence'] as const).map(start));
    const schedulerStarted = start('scheduler');

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: [ALERTS],
      scrape_configs: [
        {
          job_name: 'metronome',
          // As observability/prometheus/prometheus.yml: keep the services' own "job" label on metronome_job_* series.
          honor_labels: true,
          metrics_path: '/metrics',
          static_configs: SERVICES.map((s) => ({ targets: [`127.0.0.1:${ports[s]}`], labels: { service: s } })),
        },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2)); // JSON is YAML
    prometheus = spawn(findPrometheus(), [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stdout!.on('data', (d: Buffer) => promLog.push(d.toString()));
    prometheus.stderr!.on('data', (d: Buffer) => promLog.push(d.toString()));

    await schedulerStarted;
    await waitFor(async () => {
      if (prometheus!.exitCode !== null) throw new Error(`prometheus exited ${prometheus!.exitCode}:\n${promLog.join('')}`);
      return fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false);
    }, { timeoutMs: 15_000, what: 'prometheus ready' });
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const p = prometheus;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
        setTimeout(() => p.kill('SIGKILL'), 5_000).unref();
      });
    }
    for (const p of services) {
      p.kill('SIGKILL');
      await p.exited;
    }
    await nc?.close();
    await nats.destroy();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes every service and finds the key series with a service label', async () => {
    // A little traffic: one tick job through documents.
    const runId = randomUUID();
    const event = createCloudEvent({ type: JOB_NAMES.documentsTick, source: 'scrape-test', id: runId, data: { runId, scheduledFor: new Date().toISOString(), workMs: 0 } });
    await jetstream(nc).publish(subjects.job('normal', JOB_NAMES.documentsTick), encodeCloudEvent(event), { msgID: runId });
    await waitFor(async () => (await database.query('SELECT 1 FROM tick_records WHERE message_id = $1', [runId])).length === 1, { what: 'tick recorded' });
    // What the kubelet's readiness probe does: /readyz records metronome_dependency_up.
    for (const s of SERVICES) expect([s, (await fetch(`http://127.0.0.1:${ports[s]}/readyz`)).status]).toEqual([s, 200]);

    const up = await waitFor(async () => {
      const r = await query('up{job="metronome"}');
      return r.length === SERVICES.length && r.every((x) => x.value[1] === '1') ? r : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'up == 1 for every target' });
    expect(up!.map((x) => x.metric.service).sort()).toEqual([...SERVICES].sort());

    const all = [...SERVICES];
    const everyService = ['process_resident_memory_bytes', 'metronome_dependency_up{dependency="nats"}', 'metronome_dependency_up{dependency="postgres"}'];
    for (const metric of everyService) expect([metric, await servicesWith(metric, all)]).toEqual([metric, all.sort()]);
    // Every service serves at least one durable consumer, whose JetStream view and the DLQ depth it exports.
    for (const metric of ['metronome_consumer_pending', 'metronome_consumer_ack_pending', 'metronome_dlq_depth']) {
      expect([metric, await servicesWith(metric, all)]).toEqual([metric, all.sort()]);
    }
    // The tick went through documents' handler.
    for (const metric of ['metronome_handler_messages_total{outcome="acked"}', 'metronome_handler_duration_seconds_bucket']) {
      expect(await servicesWith(metric, ['documents'])).toContain('documents');
    }
    const acked = await query('sum by (service, consumer) (metronome_handler_messages_total{outcome="acked"})');
    expect(acked).toEqual(expect.arrayContaining([expect.objectContaining({ metric: expect.objectContaining({ service: 'documents' }) })]));
    expect(Number(acked.find((a) => a.metric.service === 'documents')!.value[1])).toBeGreaterThanOrEqual(1);
    // Histogram buckets carry le and the service, so histogram_quantile works per service. A rate needs two
    // scrapes of the series: asked right after the first, it has none yet (seen in CI), so this waits for it.
    const p99 = 'histogram_quantile(0.99, sum by (service, le) (rate(metronome_handler_duration_seconds_bucket[1m])))';
    expect(await servicesWith(p99, ['documents'])).toContain('documents');
  });

  it('has samples of every metric the services declare after the demo run', async () => {
    for (const s of SERVICES) await fetch(`http://127.0.0.1:${ports[s]}/readyz`);
    const declared = new MetronomeMetrics('scrape-test').registry.getMetricsAsArray().filter((m) => m.name.startsWith('metronome_'));
    // A histogram is sampled as <name>_count (and _bucket, _sum).
    const series = declared.map((m) => (String(m.type) === 'histogram' ? `${m.name}_count` : m.name));
    expect(series.length).toBeGreaterThan(20);
    const missing = async () => (await Promise.all(series.map(async (name) => ((await query(`count(${name})`)).length ? null : name)))).filter((n): n is string => n !== null);
    const last = await waitFor(async () => {
      const m = await missing();
      return m.length === 0 ? m : undefined;
    }, { timeoutMs: 90_000, intervalMs: 1_000, what: 'a sample of every declared metric' }).catch(async () => missing());
    expect(last).toEqual([]);
    // The two series that used to be declared and never set: the depth of every priority of a job runtime service,
    // and in-app deliveries the demo's notifications made.
    const depth = await query('max by (service, queue) (metronome_queue_depth)');
    for (const s of ['notifier', 'documents']) {
      expect([s, depth.filter((d) => d.metric.service === s).map((d) => d.metric.queue).sort()]).toEqual([s, ['critical', 'high', 'low', 'normal']]);
    }
    const inApp = await waitFor(async () => {
      const r = await query('sum(metronome_notification_deliveries_total{channel="in_app", outcome="sent"})');
      return r.length && Number(r[0].value[1]) > 0 ? r : undefined;
    }, { timeoutMs: 60_000, what: 'in-app deliveries counted' });
    expect(Number(inApp![0].value[1])).toBeGreaterThan(0);
  });

  it('has data in every dashboard panel after the demo run', async () => {
    type Panel = { type: string; title: string; targets?: { expr: string }[] };
    const panels = (JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] }).panels.filter((p) => p.type !== 'row' && !(p.title in CONDITIONAL_PANELS));
    expect(panels.length).toBeGreaterThan(30);
    const evaluate = (expr: string) => query(expr.replace(/\$__rate_interval|\$__interval/g, '1m').replace(/\$service|\$job/g, '.*'));
    const empty = async () => {
      const out: string[] = [];
      for (const p of panels) for (const t of p.targets ?? []) if ((await evaluate(t.expr)).length === 0) out.push(`${p.title}: ${t.expr}`);
      return out;
    };
    const last = await waitFor(async () => {
      const e = await empty();
      return e.length === 0 ? e : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1_000, what: 'data in every panel' }).catch(async () => empty());
    expect(last).toEqual([]);
  });

  it('tells the demo tenant\'s admin in-app about the demo\'s dead letter, and fires MetronomeDeadLetters', async () => {
    // The demo publishes one malformed document.upserted for acme: documents-events dead-letters it, job.dead follows.
    // acme's admin reads her inbox with her own token, as the identity provider signs it.
    const ana = { Authorization: `Bearer ${await testToken('tenant-admin', 'acme', { sub: 'acme-ana' })}` };
    const inbox = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${ports.notifier}/api/v1/notifications`, { headers: ana });
      expect(res.status).toBe(200);
      const items = ((await res.json()) as { items: { type: string; title: string; data: { job?: string; reason?: string } }[] }).items;
      // (The demo's failed job run, a refused expiry scan, is dead-lettered too and tells her as well.)
      return items.find((n) => n.type === EVENT_TYPES.jobDead && n.data.job === 'document.upserted');
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'the demo\'s dead letter in acme\'s admin inbox' });
    expect(inbox).toMatchObject({ title: 'Job failed: document.upserted', data: { job: 'document.upserted', reason: 'invalid_payload' } });
    // The demo's dead letter may come before Prometheus's first scrape of documents (then increase() sees no change):
    // one more payload documents-events refuses, now that every counter has been scraped at its value.
    const badId = randomUUID();
    const bad = createCloudEvent({ type: 'document.upserted', source: 'scrape-test', id: badId, companyId: 'acme', data: { documentId: 42 } });
    await jetstream(nc).publish(subjects.event('acme', 'document.upserted'), encodeCloudEvent(bad), { msgID: badId });
    const firing = await waitFor(async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return body.data.alerts.find((a) => a.labels.alertname === 'MetronomeDeadLetters' && a.labels.consumer === 'documents-events' && a.state === 'firing');
    }, { timeoutMs: 30_000, intervalMs: 500, what: 'MetronomeDeadLetters firing' });
    expect(firing!.labels.reason).toBe('invalid_payload');
  });

  it('loads the alert rules file with every group healthy', async () => {
    const declared = (parse(readFileSync(ALERTS, 'utf8')) as { groups: { name: string; rules: { alert?: string; record?: string }[] }[] }).groups;
    type Rule = { name: string; health: string; lastError?: string; type: string };
    type Group = { name: string; file: string; rules: Rule[] };
    const groups = await waitFor(async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Group[] } };
      const g = body.data.groups;
      // Health is "unknown" until a rule has been evaluated once.
      return g.length === declared.length && g.every((x) => x.rules.every((r) => r.health !== 'unknown')) ? g : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'every rule evaluated' });

    expect(groups!.map((g) => g.name).sort()).toEqual(declared.map((g) => g.name).sort());
    for (const g of groups!) {
      expect(g.file).toBe(ALERTS);
      const want = declared.find((d) => d.name === g.name)!.rules.map((r) => r.alert ?? r.record);
      expect([g.name, g.rules.map((r) => r.name)]).toEqual([g.name, want]);
      for (const r of g.rules) expect([g.name, r.name, r.health, r.lastError ?? '']).toEqual([g.name, r.name, 'ok', '']);
    }
    // With every service up and reachable, the service-down alert is not pending or firing.
    const alerts = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    expect(alerts.data.alerts.filter((a) => ['MetronomeServiceDown', 'MetronomeNatsUnreachable', 'MetronomePostgresUnreachable'].includes(a.labels.alertname))).toEqual([]);
  });
});
