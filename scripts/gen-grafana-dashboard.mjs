#!/usr/bin/env node
/**
 * Generates the Grafana dashboard observability/grafana/dashboards/metronome.json and its copy
 * k8s/base/monitoring/grafana/metronome.json (kustomize only reads files below the
 * kustomization, so the ConfigMap generator needs its own copy).
 *
 *   node scripts/gen-grafana-dashboard.mjs          write both files
 *   node scripts/gen-grafana-dashboard.mjs --check  exit 1 if either is out of date
 *
 * Every query uses the ${datasource} variable; "service" is the label the scrape config adds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TARGETS = ['observability/grafana/dashboards/metronome.json', 'k8s/base/monitoring/grafana/metronome.json'];

const DS = { type: 'prometheus', uid: '${datasource}' };
const S = 'service=~"$service"';
const SJ = `${S}, job=~"$job"`;

/** A query: PromQL and its legend. */
const q = (expr, legendFormat = '') => ({ expr, legendFormat });

function timeseries(title, unit, queries, opts = {}) {
  return {
    type: 'timeseries',
    title,
    description: opts.description ?? '',
    fieldConfig: {
      defaults: {
        unit,
        min: opts.min,
        max: opts.max,
        custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: opts.stack ? 30 : 10, showPoints: 'never', stacking: { mode: opts.stack ? 'normal' : 'none', group: 'A' } },
        thresholds: opts.thresholds ?? { mode: 'absolute', steps: [{ color: 'green', value: null }] },
        mappings: opts.mappings ?? [],
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
    queries,
    w: opts.w ?? 12,
    h: opts.h ?? 8,
  };
}

function stat(title, unit, queries, opts = {}) {
  return {
    type: 'stat',
    title,
    description: opts.description ?? '',
    fieldConfig: {
      defaults: {
        unit,
        thresholds: opts.thresholds ?? { mode: 'absolute', steps: [{ color: 'green', value: null }] },
        mappings: opts.mappings ?? [],
      },
      overrides: [],
    },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', textMode: 'auto', justifyMode: 'auto', orientation: 'auto' },
    queries,
    w: opts.w ?? 4,
    h: opts.h ?? 4,
  };
}

const red = (at) => ({ mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: at }] });
const amberRed = (a, r) => ({ mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'orange', value: a }, { color: 'red', value: r }] });
const upDown = [{ type: 'value', options: { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } } }];
const circuit = [{ type: 'value', options: { 0: { text: 'closed', color: 'green' }, 1: { text: 'half-open', color: 'orange' }, 2: { text: 'open', color: 'red' } } }];
const paused = [{ type: 'value', options: { 0: { text: 'running', color: 'green' }, 1: { text: 'paused', color: 'orange' } } }];
const quantiles = (metric, by, sel, label) =>
  [0.5, 0.95, 0.99].map((p) =>
    q(`histogram_quantile(${p}, sum by (${by}, le) (rate(${metric}_bucket{${sel}}[$__rate_interval])))`, `p${Math.round(p * 100)} ${label}`),
  );

const ROWS = [
  {
    title: 'Overview',
    panels: [
      stat('Active schedules', 'short', [q(`max(metronome_scheduler_active_schedules{${S}})`)]),
      stat('Fires / min', 'short', [q(`sum(rate(metronome_scheduler_fires_total{${S}}[$__rate_interval])) * 60`)]),
      stat('Job failure ratio (5m)', 'percentunit', [
        q(`(sum(rate(metronome_job_runs_total{${SJ}, outcome=~"failed|dead"}[5m])) or vector(0)) / sum(rate(metronome_job_runs_total{${SJ}, outcome!="cancelled"}[5m]))`),
      ], { thresholds: amberRed(0.05, 0.1) }),
      stat('Outbox backlog', 'short', [q(`max(metronome_outbox_backlog{${S}})`)], { thresholds: amberRed(100, 1000) }),
      stat('DLQ depth', 'short', [q(`sum(max by (stream) (metronome_dlq_depth{${S}}))`)], { thresholds: red(1) }),
      stat('Paused queues', 'short', [q(`count(max by (queue) (metronome_queue_paused{${S}}) == 1) or vector(0)`)], { thresholds: amberRed(1, 100) }),
      stat('NATS', 'none', [q(`min(metronome_dependency_up{${S}, dependency="nats"})`)], { mappings: upDown, thresholds: red(0) }),
      stat('PostgreSQL', 'none', [q(`min(metronome_dependency_up{${S}, dependency="postgres"})`)], { mappings: upDown, thresholds: red(0) }),
      stat('Seconds since last fire', 's', [q(`time() - max(metronome_scheduler_last_fire_timestamp_seconds{${S}})`)], { thresholds: amberRed(120, 300) }),
      stat('Handlers in flight', 'short', [q(`sum(metronome_handlers_in_flight{${S}})`)]),
      stat('SLA breaches (1h)', 'short', [q(`sum(increase(metronome_sla_breaches_total{${SJ}}[1h]))`)], { thresholds: red(1) }),
      stat('Targets up', 'short', [q(`sum(up{${S}, service=~"scheduler|notifier|documents|recurrence"})`)]),
    ],
  },
  {
    title: 'Jobs',
    panels: [
      timeseries('Job runs by outcome', 'ops', [q(`sum by (outcome) (rate(metronome_job_runs_total{${SJ}}[$__rate_interval]))`, '{{outcome}}')], { stack: true }),
      timeseries('Failure ratio by job', 'percentunit', [
        // A job without failures charts 0, not nothing.
        q(
          `(sum by (job) (rate(metronome_job_runs_total{${SJ}, outcome=~"failed|dead"}[$__rate_interval])) or sum by (job) (rate(metronome_job_runs_total{${SJ}}[$__rate_interval])) * 0) / sum by (job) (rate(metronome_job_runs_total{${SJ}, outcome!="cancelled"}[$__rate_interval]))`,
          '{{job}}',
        ),
      ], { min: 0, thresholds: red(0.1), description: 'Alert MetronomeJobFailureRateHigh at 10% over 5m.' }),
      timeseries('Job runs by job and queue', 'ops', [q(`sum by (job, queue) (rate(metronome_job_runs_total{${SJ}}[$__rate_interval]))`, '{{job}} ({{queue}})')]),
      timeseries('Job duration', 's', quantiles('metronome_job_duration_seconds', 'job', SJ, '{{job}}')),
      timeseries('Lateness p99 by stage', 's', [
        q(`histogram_quantile(0.99, sum by (job, stage, le) (rate(metronome_job_lateness_seconds_bucket{${SJ}}[$__rate_interval])))`, '{{job}} {{stage}}'),
      ], { thresholds: red(1), description: 'How late runs were published / started against their due time. Alert above 1s.' }),
      timeseries('Lateness p50 by stage', 's', [
        q(`histogram_quantile(0.5, sum by (stage, le) (rate(metronome_job_lateness_seconds_bucket{${SJ}}[$__rate_interval])))`, '{{stage}}'),
      ]),
      timeseries('SLA breaches', 'short', [q(`sum by (job, kind) (increase(metronome_sla_breaches_total{${SJ}}[$__rate_interval]))`, '{{job}} {{kind}}')], {
        description: 'Alert MetronomeSlaBreached on any breach in 15m; the tenant\'s admins are notified (job.sla_breached).',
      }),
      timeseries('Timed-out attempts', 'short', [q(`sum by (job) (increase(metronome_job_timeouts_total{${SJ}}[$__rate_interval]))`, '{{job}}')], {
        description: 'Attempts aborted at their timeout (retried while attempts remain). Alert MetronomeJobTimeouts at 3 in 15m; job.timed_out notifies the admins.',
      }),
      timeseries('Deferrals by reason', 'short', [q(`sum by (reason) (increase(metronome_job_deferrals_total{${SJ}}[$__rate_interval]))`, '{{reason}}')], {
        description: 'Job messages handed back without spending an attempt: tenant_full, paused, no_handler, stopping, database_unavailable, not_due.',
      }),
      timeseries('Lost attempts', 'short', [q(`sum by (job) (increase(metronome_job_lost_attempts_total{${SJ}}[$__rate_interval]))`, '{{job}}')], {
        thresholds: red(1),
        description: 'Deliveries that started and never reported (the worker died or stalled past the ack wait), counted when the message came back; each is an attempt.',
      }),
    ],
  },
  {
    title: 'Run history',
    panels: [
      timeseries('Attempts written', 'ops', [q(`sum by (service) (rate(metronome_history_rows_total{${S}}[$__rate_interval]))`, '{{service}}')], {
        description: 'Finished attempts written to job_attempts in batches, before their messages are acked.',
      }),
      timeseries('History batch commit', 's', quantiles('metronome_history_batch_seconds', 'service', S, '{{service}}')),
      timeseries('History write errors', 'short', [q(`sum by (service) (increase(metronome_history_write_errors_total{${S}}[$__rate_interval]))`, '{{service}}')], {
        thresholds: red(1),
        description: 'Batches that failed (PostgreSQL unavailable) and were retried; their messages stay unacked until written.',
      }),
      timeseries('Job stats roll-up lag', 's', [q(`max(metronome_job_stats_rollup_lag_seconds{${S}})`, 'oldest attempt not rolled up')], {
        description: 'Age of the oldest finished attempt the scheduler has not yet rolled into job_stats_minute (charts count it meanwhile).',
      }),
      timeseries('Batches not rolled up', 'short', [q(`max(metronome_job_stats_rollup_pending_batches{${S}})`, 'batches')], {
        description: 'Run history batches waiting for the scheduler\'s roll-up, after its last pass; the charts count their attempts on the fly until then.',
      }),
    ],
  },
  {
    title: 'Queues',
    panels: [
      // Each service reports its own job consumers (replicas the same figure): max per service, summed over services.
      timeseries('Queue depth', 'short', [q(`sum by (queue) (max by (service, queue) (metronome_queue_depth{${S}}))`, '{{queue}}')], {
        description: 'Job messages not yet done per priority: undelivered, or delivered and not yet acknowledged (waiting, deferred, running), from JetStream.',
      }),
      timeseries('Queue paused', 'none', [q(`max by (queue) (metronome_queue_paused{${S}})`, '{{queue}}')], { mappings: paused, min: 0, max: 1 }),
      timeseries('Paused for', 's', [q(`time() - max by (queue) (metronome_queue_paused_since_seconds{${S}} > 0)`, '{{queue}}')], {
        thresholds: red(3600),
        description: 'Only paused queues are shown. Alert MetronomeQueuePausedTooLong after 1h.',
      }),
    ],
  },
  {
    title: 'Consumers',
    panels: [
      timeseries('Consumer pending', 'short', [q(`max by (stream, consumer) (metronome_consumer_pending{${S}})`, '{{stream}}/{{consumer}}')], {
        description: 'Messages not yet delivered. KEDA scales notifier, documents and recurrence on it.',
      }),
      timeseries('Consumer ack pending', 'short', [q(`max by (stream, consumer) (metronome_consumer_ack_pending{${S}})`, '{{stream}}/{{consumer}}')]),
      timeseries('Consumer redelivered', 'short', [q(`max by (stream, consumer) (metronome_consumer_redelivered{${S}})`, '{{stream}}/{{consumer}}')]),
      timeseries('Redeliveries', 'ops', [q(`sum by (consumer) (rate(metronome_redeliveries_total{${S}}[$__rate_interval]))`, '{{consumer}}')]),
      timeseries('Handler messages by outcome', 'ops', [
        q(`sum by (consumer, outcome) (rate(metronome_handler_messages_total{${S}}[$__rate_interval]))`, '{{consumer}} {{outcome}}'),
      ]),
      timeseries('Handler messages by subject', 'ops', [
        q(`topk(10, sum by (subject) (rate(metronome_handler_messages_total{${S}}[$__rate_interval])))`, '{{subject}}'),
      ]),
      timeseries('Handler duration', 's', quantiles('metronome_handler_duration_seconds', 'consumer', S, '{{consumer}}')),
      timeseries('Handlers in flight', 'short', [q(`sum by (consumer) (metronome_handlers_in_flight{${S}})`, '{{consumer}}')]),
    ],
  },
  {
    title: 'Dead letters',
    panels: [
      timeseries('DLQ depth', 'short', [q(`max by (stream) (metronome_dlq_depth{${S}})`, '{{stream}}')], { thresholds: red(1) }),
      timeseries('Dead letters by reason', 'short', [
        q(`sum by (consumer, reason) (increase(metronome_dlq_messages_total{${S}}[$__rate_interval]))`, '{{consumer}}: {{reason}}'),
      ], { stack: true, description: 'Alert MetronomeDeadLetters on any in 15m; job.dead notifies the tenant\'s admins (system admins for runs without a tenant).' }),
    ],
  },
  {
    title: 'Scheduler',
    panels: [
      timeseries('Fires by kind', 'ops', [q(`sum by (kind) (rate(metronome_scheduler_fires_total{${S}}[$__rate_interval]))`, '{{kind}}')], { stack: true }),
      timeseries('Active schedules', 'short', [q(`max(metronome_scheduler_active_schedules{${S}})`, 'active')]),
      timeseries('Seconds since last fire', 's', [q(`time() - max(metronome_scheduler_last_fire_timestamp_seconds{${S}})`, 'since last fire')], {
        thresholds: red(300),
        description: 'Alert MetronomeSchedulerNotFiring above 5 minutes while schedules exist.',
      }),
      timeseries('Outbox backlog', 'short', [q(`max(metronome_outbox_backlog{${S}})`, 'unpublished')]),
    ],
  },
  {
    title: 'Notifications',
    panels: [
      timeseries('Deliveries by channel and outcome', 'ops', [
        q(`sum by (channel, outcome) (rate(metronome_notification_deliveries_total{${S}}[$__rate_interval]))`, '{{channel}} {{outcome}}'),
      ], { description: 'in_app, email, push, webhook; sent, retry, failed, deferred (quiet hours, open circuit), skipped (opted out, no address).' }),
      timeseries('Failed deliveries', 'short', [
        q(`sum by (channel) (increase(metronome_notification_deliveries_total{${S}, outcome="failed"}[$__rate_interval]))`, '{{channel}}'),
      ], { thresholds: red(1), description: 'Given up: attempts exhausted, refused (4xx), or a push subscription gone (404/410, dropped).' }),
    ],
  },
  {
    title: 'Dependencies',
    panels: [
      timeseries('Dependency up', 'none', [q(`min by (service, dependency) (metronome_dependency_up{${S}})`, '{{service}} → {{dependency}}')], {
        mappings: upDown,
        min: 0,
        max: 1,
      }),
      timeseries('Circuit state', 'none', [q(`max by (service, dependency) (metronome_circuit_state{${S}})`, '{{service}} → {{dependency}}')], {
        mappings: circuit,
        min: 0,
        max: 2,
      }),
    ],
  },
  {
    title: 'Processes',
    panels: [
      timeseries('Resident memory', 'bytes', [q(`sum by (service, pod) (process_resident_memory_bytes{${S}})`, '{{service}} {{pod}}')]),
      timeseries('CPU', 'percentunit', [q(`sum by (service, pod) (rate(process_cpu_seconds_total{${S}}[$__rate_interval]))`, '{{service}} {{pod}}')]),
      timeseries('Event loop lag p99', 's', [q(`max by (service, pod) (nodejs_eventloop_lag_p99_seconds{${S}})`, '{{service}} {{pod}}')]),
      timeseries('Heap used', 'bytes', [q(`sum by (service, pod) (nodejs_heap_size_used_bytes{${S}})`, '{{service}} {{pod}}')]),
    ],
  },
];

export function buildDashboard() {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({ type: 'row', title: row.title, id: id++, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      if (x + p.w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      const { queries, w, h, ...rest } = p;
      panels.push({
        ...rest,
        id: id++,
        datasource: DS,
        gridPos: { h, w, x, y },
        targets: queries.map((t, i) => ({ datasource: DS, expr: t.expr, legendFormat: t.legendFormat, refId: String.fromCharCode(65 + i) })),
      });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: 'metronome',
    title: 'Metronome',
    description: 'Jobs, queues, consumers, dead letters, scheduler, notifications and dependencies of Metronome.',
    tags: ['metronome', 'nats', 'jobs'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    links: [],
    annotations: { list: [] },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', options: [] },
        {
          name: 'service',
          label: 'Service',
          type: 'query',
          datasource: DS,
          query: { query: 'label_values(up{service=~"scheduler|notifier|documents|recurrence"}, service)', refId: 'service' },
          definition: 'label_values(up{service=~"scheduler|notifier|documents|recurrence"}, service)',
          includeAll: true,
          allValue: '.*',
          multi: true,
          current: { selected: true, text: ['All'], value: ['$__all'] },
          refresh: 2,
          sort: 1,
          hide: 0,
          options: [],
        },
        {
          name: 'job',
          label: 'Job',
          type: 'query',
          datasource: DS,
          query: { query: 'label_values(metronome_job_runs_total, job)', refId: 'job' },
          definition: 'label_values(metronome_job_runs_total, job)',
          includeAll: true,
          allValue: '.*',
          multi: true,
          current: { selected: true, text: ['All'], value: ['$__all'] },
          refresh: 2,
          sort: 1,
          hide: 0,
          options: [],
        },
      ],
    },
    panels,
  };
}

export function render() {
  return JSON.stringify(buildDashboard(), null, 2) + '\n';
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const expected = render();
  let stale = 0;
  for (const t of TARGETS) {
    const path = join(root, t);
    if (process.argv.includes('--check')) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        /* missing: out of date */
      }
      if (current !== expected) {
        console.error(`${t} is out of date: run node scripts/gen-grafana-dashboard.mjs`);
        stale++;
      }
    } else {
      writeFileSync(path, expected);
      console.log(`wrote ${t}`);
    }
  }
  if (stale > 0) process.exit(1);
}
