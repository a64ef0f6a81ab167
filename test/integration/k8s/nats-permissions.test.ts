/**
 * The NATS configuration the cluster runs (nats-config ConfigMap of each build): every
 * service's user may publish only inside its own subjects, the passwords come from the
 * services' Secrets, and nats-server itself accepts the files. Needs kubectl and nats-server.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSUMER_DECLARATIONS } from '../../../libs/common/src/messaging/topology.js';
import { configData, find, K8sObject, KUBECTL_HINT, kustomize, NATS_SERVER_HINT, natsServerBin, requireTool } from './k8s-support.js';
import { canPublish, canSubscribe, ConfMap, NatsUser, natsUsers, parseNatsConf, patternWithin } from './nats-conf.js';

const BUILDS = { base: 'k8s/base', dev: 'k8s/overlays/dev', prod: 'k8s/overlays/prod' } as const;
const SERVICES = ['scheduler', 'notifier', 'documents', 'recurrence'] as const;
type Service = (typeof SERVICES)[number];

/** Event types each service emits (subjects events.<companyId>.<type>). */
const OWNED_EVENTS: Record<Exclude<Service, 'scheduler'>, string[]> = {
  notifier: [],
  documents: ['document.expiring', 'document.expired', 'document.escalated', 'document.settings_changed', 'notification.requested'],
  recurrence: ['task.generated', 'task.assigned', 'calendar.reminder_due', 'task.reminder_due', 'notification.requested'],
};
const JOB_EVENTS = ['job.dead', 'job.sla_breached', 'job.timed_out'];
/**
 * Jobs a service enqueues itself (subjects jobs.<priority>.<job>): documents fans expiry-scan-all out per tenant,
 * the notifier plans its deliveries and alert summaries.
 */
const OWNED_JOBS: Record<Exclude<Service, 'scheduler'>, string[]> = { notifier: ['notifier.deliver', 'notifier.alert-summary'], documents: ['documents.expiry-scan'], recurrence: [] };
/** NATS core subjects (no stream) a service publishes and subscribes: the notifier's SSE fan-out between its replicas. */
const CORE: Record<Service, string[]> = { scheduler: [], notifier: ['notifier.inbox.>'], documents: [], recurrence: [] };
/** Reading a KV bucket: get (direct or message get), keys and watch (an ordered consumer, deleted after). */
const kvRead = (bucket: string) => [
  `$JS.API.STREAM.MSG.GET.KV_${bucket}`,
  `$JS.API.DIRECT.GET.KV_${bucket}`,
  `$JS.API.DIRECT.GET.KV_${bucket}.>`,
  `$JS.API.CONSUMER.CREATE.KV_${bucket}`,
  `$JS.API.CONSUMER.CREATE.KV_${bucket}.>`,
  `$JS.API.CONSUMER.INFO.KV_${bucket}.*`,
  `$JS.API.CONSUMER.DELETE.KV_${bucket}.*`,
  `$JS.API.CONSUMER.MSG.NEXT.KV_${bucket}.*`,
];
/**
 * What the job runtime of every service does with the KV buckets (libs/common/src/jobs): reads pauses (control) and
 * cancellations (runs, cancel.<run>), purges a cancellation once settled, merges its attempt ledger blocks
 * (runs, ledger.JOBS.<block>), beats its heartbeat (workers, <service>.<instance>) and publishes its job declarations
 * (job-catalog, keyed by job name <service>.<job>).
 */
const KV_READ = [...kvRead('control'), ...kvRead('runs')];
const kvWrites = (svc: string) => ['$KV.runs.cancel.*', '$KV.runs.ledger.JOBS.*', `$KV.workers.${svc}.*`, `$KV.job-catalog.${svc}.>`];
/** The max-deliveries watcher (libs/common/src/dead-letters): reads the message back by sequence, removes it from JOBS. */
const MAX_DELIVERIES = ['$JS.API.STREAM.MSG.GET.EVENTS', '$JS.API.STREAM.MSG.GET.JOBS', '$JS.API.STREAM.MSG.DELETE.JOBS'];
const advisory = (stream: string, durable: string) => `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`;
const JS_READ = ['$JS.API.INFO', '$JS.API.STREAM.NAMES', '$JS.API.STREAM.INFO.*'];

const consumersOf = (svc: string) => CONSUMER_DECLARATIONS.filter((c) => c.durable.startsWith(`${svc}-`));
const consumerSubjects = (stream: string, durable: string) => [
  `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
  `$JS.API.CONSUMER.CREATE.${stream}.${durable}`,
  `$JS.API.CONSUMER.CREATE.${stream}.${durable}.>`,
  `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
  `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
  `$JS.ACK.${stream}.${durable}.>`,
  `dlq.${stream}.${durable}`,
];

/** The most a service's user may publish: every allowed pattern must lie inside one of these. */
function envelope(svc: Service): string[] {
  if (svc === 'scheduler') {
    return [
      'jobs.>',
      'events.>',
      '$KV.control.>',
      ...JS_READ,
      ...KV_READ,
      '$JS.API.STREAM.LIST',
      '$JS.API.CONSUMER.NAMES.*',
      '$JS.API.CONSUMER.LIST.*',
      '$JS.API.CONSUMER.INFO.*.*',
      ...kvWrites(svc),
      ...MAX_DELIVERIES,
      // the admin API: running runs from every worker's heartbeat, job access from every service's declarations,
      // waiting runs and the oldest pending message of each job consumer from JOBS
      ...kvRead('workers'),
      ...kvRead('job-catalog'),
      '$JS.API.DIRECT.GET.JOBS',
      '$JS.API.STREAM.MSG.GET.DLQ',
      '$JS.API.STREAM.MSG.DELETE.DLQ',
      '$JS.API.DIRECT.GET.DLQ',
      '$JS.API.DIRECT.GET.DLQ.>',
      '$JS.API.CONSUMER.CREATE.DLQ',
      '$JS.API.CONSUMER.CREATE.DLQ.>',
      '$JS.API.CONSUMER.DELETE.DLQ.*',
      '$JS.API.CONSUMER.MSG.NEXT.DLQ.*',
      '$JS.ACK.DLQ.>',
      ...consumersOf('scheduler').flatMap((c) => consumerSubjects(c.stream, c.durable)),
    ];
  }
  return [
    ...JS_READ,
    ...KV_READ,
    ...[...OWNED_EVENTS[svc], ...JOB_EVENTS].map((t) => `events.*.${t}`),
    ...OWNED_JOBS[svc].map((j) => `jobs.*.${j}`),
    ...CORE[svc],
    ...kvWrites(svc),
    ...MAX_DELIVERIES,
    ...consumersOf(svc).flatMap((c) => consumerSubjects(c.stream, c.durable)),
  ];
}

/** Subjects nobody but metronome-admin may publish to. */
const ADMIN_ONLY = [
  '$JS.API.STREAM.CREATE.EVENTS',
  '$JS.API.STREAM.UPDATE.JOBS',
  '$JS.API.STREAM.DELETE.DLQ',
  '$JS.API.STREAM.PURGE.EVENTS',
  '$JS.API.STREAM.DELETE.KV_control',
  '$JS.API.STREAM.PURGE.KV_control',
  '$JS.API.CONSUMER.DELETE.EVENTS.notifier-events',
  '$JS.API.CONSUMER.DELETE.JOBS.documents-jobs-normal',
  '$JS.API.META.LEADER.STEPDOWN',
  '$JS.API.SERVER.REMOVE',
];

/** Each NATS user's inbox prefix (NATS_INBOX_PREFIX of its workload). */
const INBOX: Record<string, string> = Object.fromEntries([...SERVICES.map((s) => [s, `_INBOX_${s}`]), ['metronome-admin', '_INBOX_admin']]);

const built = {} as Record<keyof typeof BUILDS, K8sObject[]>;
const confs = {} as Record<keyof typeof BUILDS, Record<string, string>>;

function loadConf(files: Record<string, string>): ConfMap {
  return parseNatsConf(files['nats.conf'], (path) => {
    const name = path.replace(/^\.\//, '');
    if (!(name in files)) throw new Error(`include ${path}: not in the ConfigMap`);
    return files[name];
  });
}

beforeAll(() => {
  requireTool('kubectl', ['version', '--client'], KUBECTL_HINT);
  requireTool(natsServerBin(), ['--version'], NATS_SERVER_HINT);
  for (const [name, dir] of Object.entries(BUILDS)) {
    const objs = kustomize(dir);
    built[name as keyof typeof BUILDS] = objs;
    confs[name as keyof typeof BUILDS] = configData(find(objs, 'ConfigMap', 'nats-config'));
  }
});

describe.each(Object.keys(BUILDS) as (keyof typeof BUILDS)[])('nats.conf of the %s build', (name) => {
  let users: NatsUser[];
  let conf: ConfMap;
  beforeAll(() => {
    conf = loadConf(confs[name]);
    users = natsUsers(conf);
  });
  const user = (u: string) => {
    const found = users.find((x) => x.user === u);
    if (!found) throw new Error(`no NATS user ${u}`);
    return found;
  };

  test('one account with JetStream, one user per service plus metronome-admin', () => {
    expect(Object.keys(conf.accounts as ConfMap)).toEqual(['METRONOME']);
    expect(((conf.accounts as ConfMap).METRONOME as ConfMap).jetstream).toBe('enabled');
    expect(users.map((u) => u.user).sort()).toEqual([...SERVICES, 'metronome-admin'].sort());
    expect(conf.jetstream).toMatchObject({ store_dir: '/data/jetstream' });
    expect(conf.server_name).toEqual({ $var: 'POD_NAME' });
  });

  test('no password is written in the file: each comes from the environment of the NATS pods, fed by the user\'s Secret', () => {
    const nats = find(built[name], 'StatefulSet', 'nats');
    const env = nats.spec.template.spec.containers[0].env as K8sObject[];
    for (const u of users) {
      expect(u.password).toEqual({ $var: expect.stringMatching(/^NATS_PASSWORD_[A-Z]+$/) });
      const variable = (u.password as { $var: string }).$var;
      const e = env.find((x) => x.name === variable);
      const secretName = u.user === 'metronome-admin' ? 'metronome-nats-admin' : `metronome-nats-${u.user}`;
      expect(e?.valueFrom?.secretKeyRef).toEqual({ name: secretName, key: 'NATS_PASSWORD' });
      if (name !== 'prod') expect(configData(find(built[name], 'Secret', secretName)).NATS_USER).toBe(u.user);
    }
  });

  test.each(SERVICES)('%s publishes only inside its own subjects', (svc) => {
    const u = user(svc);
    const outside = u.publishAllow.filter((p) => !envelope(svc).some((e) => patternWithin(p, e)));
    expect(outside).toEqual([]);
  });

  test.each(SERVICES)('%s may use what its code needs', (svc) => {
    const u = user(svc);
    const needed = [
      '$JS.API.INFO',
      '$JS.API.STREAM.INFO.KV_control',
      '$JS.API.DIRECT.GET.KV_control.$KV.control.queue.low',
      '$JS.API.CONSUMER.MSG.NEXT.KV_control.abc',
      // job runtime: buckets opened, cancellations watched and purged, ledger blocks read and merged, heartbeat, declarations
      '$JS.API.STREAM.INFO.KV_runs',
      '$JS.API.STREAM.INFO.KV_workers',
      '$JS.API.STREAM.INFO.KV_job-catalog',
      '$JS.API.CONSUMER.CREATE.KV_runs.abc.$KV.runs.cancel.>',
      '$JS.API.DIRECT.GET.KV_runs.$KV.runs.ledger.JOBS.12',
      '$JS.API.DIRECT.GET.KV_runs.$KV.runs.cancel._YWJj',
      '$KV.runs.ledger.JOBS.12',
      '$KV.runs.cancel.0b5d3c1e-4b0a-4c55-9a43-1a2b3c4d5e6f',
      `$KV.workers.${svc}.nats-0-17-ab12`,
      `$KV.job-catalog.${svc}.some-job`,
      // max-deliveries watcher
      ...MAX_DELIVERIES,
    ];
    const declared = consumersOf(svc);
    if (svc !== 'scheduler') expect(declared.length).toBeGreaterThan(0);
    for (const c of declared) {
      needed.push(
        `$JS.API.CONSUMER.INFO.${c.stream}.${c.durable}`,
        `$JS.API.CONSUMER.MSG.NEXT.${c.stream}.${c.durable}`,
        `$JS.ACK.${c.stream}.${c.durable}.1.42.7.1700000000000000000.0`,
        `dlq.${c.stream}.${c.durable}`,
      );
    }
    if (svc === 'scheduler') {
      needed.push('jobs.normal.documents.tick', 'events.acme.job.dead', '$KV.control.queue.low', '$JS.API.STREAM.MSG.GET.DLQ', '$JS.API.DIRECT.GET.JOBS');
      needed.push('$JS.API.CONSUMER.CREATE.KV_workers.abc.$KV.workers.>', '$JS.API.DIRECT.GET.KV_workers.$KV.workers.documents.nats-0-17-ab12');
      needed.push('$JS.API.CONSUMER.CREATE.KV_job-catalog.abc.$KV.job-catalog.>', '$JS.API.DIRECT.GET.KV_job-catalog.$KV.job-catalog.documents.tick');
    }
    else for (const t of [...OWNED_EVENTS[svc], ...JOB_EVENTS]) needed.push(`events.acme.${t}`);
    if (svc !== 'scheduler') for (const j of OWNED_JOBS[svc]) needed.push(`jobs.high.${j}`);
    if (svc === 'notifier') needed.push('notifier.inbox.acme.0123abcd');
    expect(needed.filter((s) => !canPublish(u, s))).toEqual([]);
    expect(canSubscribe(u, `_INBOX_${svc}.abc.def`)).toBe(true);
    expect(declared.map((c) => advisory(c.stream, c.durable)).filter((s) => !canSubscribe(u, s))).toEqual([]);
  });

  test.each([...SERVICES, 'metronome-admin'])('%s subscribes only to its own inbox prefix, the one its workload sets, and its consumers\' max-deliveries advisories', (who) => {
    const u = user(who);
    const workload = who === 'metronome-admin' ? find(built[name], 'Job', 'metronome-provision') : find(built[name], 'Deployment', who);
    const env = workload.spec.template.spec.containers[0].env as K8sObject[];
    const prefix = env.find((e) => e.name === 'NATS_INBOX_PREFIX')?.value as string;
    expect(prefix).toBe(INBOX[who]);
    // the notifier also hears its replicas' in-app fan-out (notifier.inbox.<companyId>.<user>)
    const advisories = who === 'metronome-admin' ? [] : consumersOf(who).map((c) => advisory(c.stream, c.durable));
    expect([...u.subscribeAllow].sort()).toEqual([...(who === 'notifier' ? [`${prefix}.>`, 'notifier.inbox.>'] : [`${prefix}.>`]), ...advisories].sort());
    expect([who, canSubscribe(u, 'notifier.inbox.acme.0123abcd')]).toEqual([who, who === 'notifier']);
    expect(u.subscribeDeny).toEqual([]);
    // nobody publishes into an inbox: a service's replies come from the server only
    expect(Object.values(INBOX).filter((p) => canPublish(u, `${p}.abc`))).toEqual([]);
    const foreign = Object.entries(INBOX).filter(([n]) => n !== who).map(([, p]) => `${p}.abc.def`);
    expect([...foreign, '_INBOX.abc.def', '_INBOX.>', '>'].filter((s) => canSubscribe(u, s))).toEqual([]);
  });

  test.each(SERVICES)('%s cannot publish outside its subjects', (svc) => {
    const u = user(svc);
    const others = SERVICES.filter((s) => s !== svc).flatMap((s) => consumersOf(s));
    const forbidden = [
      ...ADMIN_ONLY,
      'foo',
      'events',
      '$SYS.REQ.SERVER.PING',
      ...others.flatMap((c) => [`$JS.API.CONSUMER.MSG.NEXT.${c.stream}.${c.durable}`, `$JS.ACK.${c.stream}.${c.durable}.1.1.1.1.0`, `dlq.${c.stream}.${c.durable}`]),
      // another service's heartbeat or job declarations, any other key of the runs bucket, dead letters' or events' removal
      ...SERVICES.filter((s) => s !== svc).flatMap((s) => [`$KV.workers.${s}.nats-0-17-ab12`, `$KV.job-catalog.${s}.some-job`]),
      '$KV.workers.x',
      '$KV.runs.anything',
      '$KV.runs.ledger.EVENTS.1',
      '$KV.job-catalog.x',
      '$JS.API.STREAM.MSG.DELETE.EVENTS',
      '$JS.API.STREAM.MSG.DELETE.KV_runs',
      '$JS.API.STREAM.PURGE.KV_runs',
      '$JS.API.STREAM.DELETE.KV_workers',
      '$JS.API.STREAM.CREATE.KV_job-catalog',
    ];
    if (svc !== 'scheduler') {
      forbidden.push(
        'jobs.normal.documents.tick',
        'jobs.critical.recurrence.generate',
        'events.acme.document.upserted',
        'events.acme.member.upserted',
        '$KV.control.queue.low',
        '$JS.API.STREAM.MSG.DELETE.DLQ',
        '$JS.API.CONSUMER.INFO.EVENTS.scheduler-events',
        // only the scheduler lists waiting jobs, running runs and job declarations
        '$JS.API.DIRECT.GET.JOBS',
        '$JS.API.CONSUMER.CREATE.KV_workers.abc.$KV.workers.>',
        '$JS.API.DIRECT.GET.KV_workers.$KV.workers.documents.nats-0-17-ab12',
        '$JS.API.CONSUMER.CREATE.KV_job-catalog.abc.$KV.job-catalog.>',
        '$JS.API.DIRECT.GET.KV_job-catalog.$KV.job-catalog.documents.tick',
      );
      const foreign = Object.entries(OWNED_EVENTS)
        .filter(([s]) => s !== svc)
        .flatMap(([, types]) => types)
        .filter((t) => !OWNED_EVENTS[svc].includes(t));
      forbidden.push(...foreign.map((t) => `events.acme.${t}`));
    }
    expect(forbidden.filter((s) => canPublish(u, s))).toEqual([]);
    // replies only: no subscription to message subjects
    for (const s of ['events.acme.document.expiring', 'jobs.normal.documents.tick', '$KV.control.queue.low', 'dlq.EVENTS.notifier-events', '$KV.workers.scheduler.x']) expect(canSubscribe(u, s)).toBe(false);
    // nor another service's advisories, nor every advisory
    const foreignAdvisories = [...others.map((c) => advisory(c.stream, c.durable)), '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.DLQ.x', '$JS.EVENT.ADVISORY.STREAM.CREATED.JOBS'];
    expect(foreignAdvisories.filter((s) => canSubscribe(u, s))).toEqual([]);
  });

  test('metronome-admin (provision Job) has the JetStream API but no message subjects', () => {
    const admin = user('metronome-admin');
    for (const s of ADMIN_ONLY) expect(canPublish(admin, s)).toBe(true);
    for (const s of ['events.acme.document.expiring', 'jobs.normal.documents.tick', 'dlq.EVENTS.notifier-events']) expect(canPublish(admin, s)).toBe(false);
  });

  test('nats-server accepts the configuration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nats-conf-'));
    try {
      for (const [file, text] of Object.entries(confs[name])) writeFileSync(join(dir, file), text);
      const env = { ...process.env, POD_NAME: 'nats-0' } as Record<string, string>;
      for (const u of users) env[(u.password as { $var: string }).$var] = `pw-${u.user}`;
      const r = spawnSync(natsServerBin(), ['-t', '-c', join(dir, 'nats.conf')], { env, encoding: 'utf8' });
      expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, output: expect.stringMatching(/configuration file .* is valid/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('dev runs one standalone server, prod and base a three-node cluster', () => {
  expect(loadConf(confs.dev).cluster).toBeUndefined();
  for (const b of ['base', 'prod'] as const) {
    const cluster = loadConf(confs[b]).cluster as ConfMap;
    expect(cluster.routes).toEqual([0, 1, 2].map((i) => `nats-route://nats-${i}.nats-headless:6222`));
  }
});
