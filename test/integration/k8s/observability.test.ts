/**
 * Alerting rules and dashboard: promtool accepts the rules and their unit tests pass, the
 * PrometheusRule in k8s/base is the plain rules file, the Grafana dashboard is current, uses the
 * ${datasource} variable, charts every metric the services declare, and all its queries parse.
 * promtool is required (Debian package "prometheus"): these tests fail, never skip, without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { MetronomeMetrics } from '../../../libs/common/src/metrics/metrics.registry.js';
import { requireTool, ROOT, validateObject, K8sObject } from './k8s-support.js';

const PROMTOOL_HINT = 'Install promtool: apt-get install -y prometheus (Debian package "prometheus").';
const ALERTS = 'observability/prometheus/alerts.yml';

function run(cmd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * Every metric the services declare (read from the registry itself, so a new metric that nobody
 * charts fails here), and the one default metric the dashboard relies on.
 */
const METRICS = [
  ...new MetronomeMetrics('test').registry.getMetricsAsArray().map((m) => m.name).filter((n) => n.startsWith('metronome_')),
  'process_resident_memory_bytes',
];

const REQUIRED_ALERTS = [
  'MetronomeJobFailureRateHigh',
  'MetronomeConsumerBacklogGrowing',
  'MetronomeDlqGrowing',
  'MetronomeQueuePausedTooLong',
  'MetronomeSchedulerNotFiring',
  'MetronomeJobLatenessP99High',
  'MetronomeNatsUnreachable',
  'MetronomePostgresUnreachable',
  'MetronomeDeadLetters',
  'MetronomeJobTimeouts',
  'MetronomeSlaBreached',
];

beforeAll(() => {
  requireTool('promtool', ['--version'], PROMTOOL_HINT);
});

describe('alerting rules', () => {
  test('promtool check rules accepts alerts.yml', () => {
    const r = run('promtool', ['check', 'rules', ALERTS]);
    expect(r).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  test('promtool test rules: the unit tests of the alerts pass', () => {
    const r = run('promtool', ['test', 'rules', 'observability/prometheus/alerts.test.yml']);
    expect(r).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  test('the unit tests cover at least the failure-rate, DLQ, dead-letter, timeout and SLA alerts', () => {
    const tests = parse(readFileSync(join(ROOT, 'observability/prometheus/alerts.test.yml'), 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const firing = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    expect([...firing]).toEqual(expect.arrayContaining(['MetronomeJobFailureRateHigh', 'MetronomeDlqGrowing', 'MetronomeDeadLetters', 'MetronomeJobTimeouts', 'MetronomeSlaBreached']));
  });

  test('every required alert exists, with a severity, summary and description', () => {
    const rules = (parse(readFileSync(join(ROOT, ALERTS), 'utf8')) as { groups: { rules: K8sObject[] }[] }).groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(REQUIRED_ALERTS));
    for (const r of rules) {
      expect([r.alert, r.labels?.severity]).toEqual([r.alert, expect.stringMatching(/^(warning|critical)$/)]);
      expect(r.annotations?.summary).toBeTruthy();
      expect(r.annotations?.description).toBeTruthy();
    }
  });

  test('promtool check config accepts the example scrape config', () => {
    const r = run('promtool', ['check', 'config', 'observability/prometheus/prometheus.yml']);
    expect(r).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  test('k8s/base/prometheus-rule.yaml is the PrometheusRule of the plain rules file, and current', () => {
    const rule = parseAllDocuments(readFileSync(join(ROOT, 'k8s/base/prometheus-rule.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject);
    expect(rule).toHaveLength(1);
    expect(rule[0]).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(validateObject(rule[0])).toEqual([]);
    const plain = parse(readFileSync(join(ROOT, ALERTS), 'utf8')) as { groups: unknown };
    expect(rule[0].spec.groups).toEqual(plain.groups);
    expect(run('node', ['scripts/gen-prometheus-rule.mjs', '--check'])).toMatchObject({ status: 0 });
  });
});

describe('Grafana dashboard', () => {
  const dashboard = () => JSON.parse(readFileSync(join(ROOT, 'observability/grafana/dashboards/metronome.json'), 'utf8')) as K8sObject;
  const panels = () => (dashboard().panels as K8sObject[]).filter((p) => p.type !== 'row');
  const exprs = () => panels().flatMap((p) => (p.targets as K8sObject[]).map((t) => t.expr as string));

  test('is current with its generator (both copies)', () => {
    expect(run('node', ['scripts/gen-grafana-dashboard.mjs', '--check'])).toMatchObject({ status: 0 });
  });

  test('has a Prometheus ${datasource} variable that every panel and query uses', () => {
    const variable = (dashboard().templating.list as K8sObject[]).find((v) => v.name === 'datasource');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of panels()) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  test('charts every metric the services declare', () => {
    expect(METRICS.length).toBeGreaterThan(20);
    const all = exprs().join('\n');
    expect(METRICS.filter((m) => !new RegExp(`\\b${m}(_bucket|_sum|_count)?\\b`).test(all))).toEqual([]);
  });

  test('panels have unique ids and fit the 24-column grid', () => {
    const ids = (dashboard().panels as K8sObject[]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard().panels as K8sObject[]) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
  });

  test('every query is valid PromQL (checked by promtool as recording rules)', () => {
    const rules = exprs().map((expr, i) => ({
      record: `dashboard:query_${i}`,
      expr: expr.replace(/\$__rate_interval|\$__interval/g, '5m').replace(/\$service|\$job/g, '.*'),
    }));
    expect(rules.length).toBeGreaterThan(30);
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-promql-'));
    try {
      const file = join(dir, 'queries.yml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      expect(run('promtool', ['check', 'rules', file])).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('provisioning files point Grafana at the dashboards folder and a Prometheus data source', () => {
    const ds = parse(readFileSync(join(ROOT, 'observability/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as K8sObject;
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus' });
    const dash = parse(readFileSync(join(ROOT, 'observability/grafana/provisioning/dashboards/metronome.yml'), 'utf8')) as K8sObject;
    expect(dash.providers[0]).toMatchObject({ type: 'file', options: { path: expect.any(String) } });
  });
});
