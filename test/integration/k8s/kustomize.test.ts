/**
 * kubectl kustomize builds k8s/base, k8s/overlays/dev and k8s/overlays/prod; every object
 * validates against its schema (Kubernetes, KEDA ScaledObject, ServiceMonitor, PrometheusRule)
 * with no unknown fields; the pieces refer to each other correctly; prod and dev differ the way
 * k8s/README.md says. kubectl is required: these tests fail, never skip, without it.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigValidationError, loadConfig } from '../../../libs/common/src/config/load-config.js';
import { CONSUMER_DECLARATIONS } from '../../../libs/common/src/messaging/topology.js';
import { PRIORITIES, subjects } from '../../../libs/common/src/messaging/subjects.js';
import { overlayProcessSettings, serviceProcessSettings } from '../../../scripts/bench/service-node-options.js';
import {
  configData,
  containerEnv,
  find,
  K8sObject,
  KUBECTL_HINT,
  kustomize,
  labelsMatch,
  ofKind,
  podSpec,
  requireTool,
  ROOT,
  validateObject,
} from './k8s-support.js';

const SERVICES = ['scheduler', 'notifier', 'documents', 'recurrence'] as const;
const PORTS: Record<(typeof SERVICES)[number], number> = { scheduler: 3000, notifier: 3001, documents: 3002, recurrence: 3003 };
const KEDA_SCALED = ['notifier', 'documents', 'recurrence'] as const;
const BUILDS = { base: 'k8s/base', dev: 'k8s/overlays/dev', prod: 'k8s/overlays/prod' } as const;
type BuildName = keyof typeof BUILDS;

/**
 * The secret keys each workload reads (libs/common/src/config/load-config.ts and where the
 * value is used), and nothing more: a Deployment that receives any other key fails the test.
 * - every service: its own NATS user (NATS_USER/NATS_PASSWORD), the database, and JWT_SECRET
 *   (every HTTP API verifies bearer tokens, issue 22).
 * - scheduler: ENCRYPTION_* - its jobs API and schedules enqueue jobs whose sensitive fields are
 *   encrypted by the producer (JobEnqueuer, docs/durability.md).
 * - notifier: SMTP_URL (the mailer; the URL holds the SMTP password) and ENCRYPTION_* (webhook
 *   secrets are stored encrypted).
 * - documents, recurrence: no SMTP, webhook or encryption keys.
 */
const NATS_KEYS = ['NATS_USER', 'NATS_PASSWORD'];
const SECRET_KEYS: Record<string, string[]> = {
  scheduler: ['DATABASE_URL', 'JWT_SECRET', 'ENCRYPTION_KEYS', 'ENCRYPTION_ACTIVE_KEY', ...NATS_KEYS],
  notifier: ['DATABASE_URL', 'JWT_SECRET', 'ENCRYPTION_KEYS', 'ENCRYPTION_ACTIVE_KEY', 'SMTP_URL', ...NATS_KEYS],
  documents: ['DATABASE_URL', 'JWT_SECRET', ...NATS_KEYS],
  recurrence: ['DATABASE_URL', 'JWT_SECRET', ...NATS_KEYS],
  'metronome-migrate': ['DATABASE_URL'],
  'metronome-provision': NATS_KEYS,
};
/** The Secret each key lives in (one Secret per concern; NATS users one Secret each). */
const SECRET_OF: Record<string, (workload: string) => string> = {
  DATABASE_URL: () => 'metronome-database',
  JWT_SECRET: () => 'metronome-auth',
  ENCRYPTION_KEYS: () => 'metronome-encryption',
  ENCRYPTION_ACTIVE_KEY: () => 'metronome-encryption',
  SMTP_URL: () => 'metronome-smtp',
  NATS_USER: (w) => (w === 'metronome-provision' ? 'metronome-nats-admin' : `metronome-nats-${w}`),
  NATS_PASSWORD: (w) => (w === 'metronome-provision' ? 'metronome-nats-admin' : `metronome-nats-${w}`),
};
/** How the code reads a secret (its AppConfig field): used to find which app reads which secret. */
const READERS: Record<string, RegExp> = {
  SMTP_URL: /\bmail\.smtpUrl\b/,
  ENCRYPTION_KEYS: /\bFieldEncryption\b|\bconfig\.encryption\b/,
  JWT_SECRET: /\bauth\.jwtSecret\b|\bCredentialVerifier\b/,
  DATABASE_URL: /\bdatabase\.url\b/,
  NATS_PASSWORD: /\bnats\.password\b/,
};

function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigValidationError) return e.problems;
    throw e;
  }
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith('.ts') && !f.name.endsWith('.spec.ts'))
    .map((f) => join(f.parentPath, f.name));
}

const built = {} as Record<BuildName, K8sObject[]>;

beforeAll(() => {
  requireTool('kubectl', ['version', '--client'], KUBECTL_HINT);
  for (const [name, dir] of Object.entries(BUILDS)) built[name as BuildName] = kustomize(dir);
});

const workloads = (objs: K8sObject[]) => objs.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
const containersOf = (o: K8sObject): K8sObject[] => [...(podSpec(o).initContainers ?? []), ...podSpec(o).containers];
const quantity = (q: string): number => {
  const m = /^([\d.]+)(m|Ki|Mi|Gi)?$/.exec(String(q));
  if (!m) throw new Error(`unreadable quantity ${q}`);
  const n = Number(m[1]);
  return m[2] === 'm' ? n / 1000 : m[2] === 'Ki' ? n * 1024 : m[2] === 'Mi' ? n * 1024 ** 2 : m[2] === 'Gi' ? n * 1024 ** 3 : n;
};

describe('schema validation catches mistakes', () => {
  test('a misspelt field is reported as unknown', () => {
    const deployment = structuredClone(find(built.base, 'Deployment', 'scheduler'));
    const c = podSpec(deployment).containers[0];
    c.livenesProbe = c.livenessProbe;
    delete c.livenessProbe;
    expect(validateObject(deployment)).toEqual(['Deployment/scheduler: unknown field spec.template.spec.containers[0].livenesProbe']);
  });

  test('a wrong type is reported', () => {
    const so = structuredClone(find(built.base, 'ScaledObject', 'notifier'));
    so.spec.minReplicaCount = 'two';
    expect(validateObject(so).join('\n')).toMatch(/ScaledObject\/notifier: .*minReplicaCount/);
  });

  test('an unknown field in a CRD (ServiceMonitor) is reported', () => {
    const sm = structuredClone(find(built.base, 'ServiceMonitor', 'metronome'));
    sm.spec.endpoints[0].honourLabels = true;
    expect(validateObject(sm)).toEqual(['ServiceMonitor/metronome: unknown field spec.endpoints[0].honourLabels']);
  });
});

describe.each(Object.keys(BUILDS) as BuildName[])('%s build', (name) => {
  const objs = () => built[name];

  test('every object validates against its schema, with no unknown fields', () => {
    expect(objs().length).toBeGreaterThan(20);
    expect(objs().flatMap(validateObject)).toEqual([]);
  });

  test('names are unique per kind', () => {
    const ids = objs().map((o) => `${o.kind}/${o.metadata.name}`);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  test('every object belongs to one namespace (overlays) or none (base)', () => {
    const namespaced = objs().filter((o) => o.kind !== 'Namespace');
    const namespaces = new Set(namespaced.map((o) => o.metadata.namespace));
    if (name === 'base') expect([...namespaces]).toEqual([undefined]);
    else {
      expect(namespaces.size).toBe(1);
      expect(ofKind(objs(), 'Namespace').map((n) => n.metadata.name)).toEqual([...namespaces]);
    }
  });

  test.each(SERVICES)('Deployment %s: command, port, probes, resources, hardening', (svc) => {
    const d = find(objs(), 'Deployment', svc);
    const [c] = podSpec(d).containers;
    expect(c.image).toBe('metronome:latest');
    expect(c.command).toEqual(['node', `dist/apps/${svc}/src/main.js`]);
    expect(c.ports).toEqual([{ name: 'http', containerPort: PORTS[svc], protocol: 'TCP' }]);
    expect(c.env).toEqual(expect.arrayContaining([{ name: 'HTTP_PORT', value: String(PORTS[svc]) }]));
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    for (const k of ['cpu', 'memory']) {
      expect(c.resources.requests[k]).toBeDefined();
      expect(c.resources.limits[k]).toBeDefined();
      expect(quantity(c.resources.limits[k])).toBeGreaterThanOrEqual(quantity(c.resources.requests[k]));
    }
    expect(podSpec(d).securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'metronome-config' } }]);
    expect(c.env).toEqual(expect.arrayContaining([{ name: 'NATS_CLIENT_NAME', value: svc }, { name: 'NATS_INBOX_PREFIX', value: `_INBOX_${svc}` }]));
    // the per-service port key the config loader reads (SCHEDULER_PORT, ...) agrees with the container port
    expect(configData(find(objs(), 'ConfigMap', 'metronome-config'))[`${svc.toUpperCase()}_PORT`]).toBe(String(PORTS[svc]));
  });

  test.each(SERVICES)('Deployment %s: NODE_OPTIONS caps the V8 heap at most 3/4 of the memory limit, and node accepts it', (svc) => {
    const [c] = podSpec(find(objs(), 'Deployment', svc)).containers;
    const options = (c.env ?? []).find((e: K8sObject) => e.name === 'NODE_OPTIONS')?.value as string | undefined;
    expect(options).toMatch(/--max-old-space-size=\d+/);
    const capMb = Number(/--max-old-space-size=(\d+)/.exec(options!)![1]);
    expect(capMb * 2 ** 20).toBeLessThanOrEqual(quantity(c.resources.limits.memory) * 0.75);
    // Node refuses to start on a flag NODE_OPTIONS does not allow; the heap limit it reports includes the young generation.
    const limitMb = Number(
      execFileSync(process.execPath, ['-e', 'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit / 2 ** 20))'], {
        env: { ...process.env, NODE_OPTIONS: options },
      }).toString(),
    );
    expect(limitMb).toBeGreaterThanOrEqual(capMb);
    expect(limitMb).toBeLessThan(capMb + 64);
  });

  test.each(SERVICES)('Deployment %s: runs with the malloc arena cap the bench measured its RSS with', (svc) => {
    const [c] = podSpec(find(objs(), 'Deployment', svc)).containers;
    const arenas = (c.env ?? []).find((e: K8sObject) => e.name === 'MALLOC_ARENA_MAX')?.value as string | undefined;
    expect(arenas).toBe(serviceProcessSettings(ROOT).env.MALLOC_ARENA_MAX);
    expect(Number(arenas)).toBeGreaterThanOrEqual(1);
  });

  test.each(SERVICES)('%s has a Service on its http port and a PodDisruptionBudget', (svc) => {
    const d = find(objs(), 'Deployment', svc);
    const s = find(objs(), 'Service', svc);
    expect(labelsMatch(s.spec.selector, d.spec.template.metadata.labels)).toBe(true);
    expect(s.spec.ports).toEqual([{ name: 'http', port: PORTS[svc], targetPort: 'http', protocol: 'TCP' }]);
    expect(s.metadata.labels?.['metronome.io/scrape']).toBe('true');
    const pdb = find(objs(), 'PodDisruptionBudget', svc);
    expect(labelsMatch(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
  });

  test('every Service and PodDisruptionBudget selects the pods of some workload, on ports they declare', () => {
    const problems: string[] = [];
    for (const s of ofKind(objs(), 'Service')) {
      const w = workloads(objs()).find((x) => labelsMatch(s.spec.selector, x.spec.template.metadata.labels));
      if (!w) {
        problems.push(`Service ${s.metadata.name} selects nothing`);
        continue;
      }
      const portNames = containersOf(w).flatMap((c) => (c.ports ?? []).map((p: K8sObject) => p.name));
      for (const p of s.spec.ports) if (typeof p.targetPort === 'string' && !portNames.includes(p.targetPort)) problems.push(`Service ${s.metadata.name}: no port ${p.targetPort}`);
    }
    for (const pdb of ofKind(objs(), 'PodDisruptionBudget')) {
      if (!workloads(objs()).some((x) => labelsMatch(pdb.spec.selector.matchLabels, x.spec.template.metadata.labels))) problems.push(`PDB ${pdb.metadata.name} selects nothing`);
    }
    expect(problems).toEqual([]);
  });

  test('every ConfigMap and Secret a pod refers to is in the build (prod: Secrets are created out of band)', () => {
    const refs: { kind: string; name: string; key?: string; from: string }[] = [];
    for (const w of workloads(objs())) {
      for (const c of containersOf(w)) {
        for (const e of c.envFrom ?? []) {
          if (e.configMapRef) refs.push({ kind: 'ConfigMap', name: e.configMapRef.name, from: w.metadata.name });
          if (e.secretRef) refs.push({ kind: 'Secret', name: e.secretRef.name, from: w.metadata.name });
        }
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) refs.push({ kind: 'Secret', ...e.valueFrom.secretKeyRef, from: w.metadata.name });
          if (e.valueFrom?.configMapKeyRef) refs.push({ kind: 'ConfigMap', ...e.valueFrom.configMapKeyRef, from: w.metadata.name });
        }
      }
      for (const v of podSpec(w).volumes ?? []) if (v.configMap) refs.push({ kind: 'ConfigMap', name: v.configMap.name, from: w.metadata.name });
    }
    expect(refs.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const r of refs) {
      if (r.kind === 'Secret' && name === 'prod') continue;
      const o = objs().find((x) => x.kind === r.kind && x.metadata.name === r.name);
      if (!o) missing.push(`${r.from} -> ${r.kind} ${r.name}`);
      else if (r.key && !(r.key in configData(o))) missing.push(`${r.from} -> ${r.kind} ${r.name} key ${r.key}`);
    }
    expect(missing).toEqual([]);
    if (name === 'prod') {
      // Every Secret prod needs is named in the README's list of secrets to create.
      const readme = readFileSync(join(ROOT, 'k8s/README.md'), 'utf8');
      const needed = [...new Set(refs.filter((r) => r.kind === 'Secret').map((r) => r.name))];
      expect(needed.filter((n) => !readme.includes(`\`${n}\``))).toEqual([]);
    }
  });

  test('every workload receives exactly the secret keys it reads, key by key (never a whole Secret)', () => {
    const got: Record<string, string[]> = {};
    const problems: string[] = [];
    for (const w of workloads(objs()).filter((x) => x.metadata.name in SECRET_KEYS)) {
      for (const c of containersOf(w)) {
        // envFrom a Secret hands over every key it holds now or later (prod Secrets are made out of band)
        for (const e of c.envFrom ?? []) if (e.secretRef) problems.push(`${w.metadata.name}: envFrom Secret ${e.secretRef.name}`);
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          (got[w.metadata.name] ??= []).push(e.name);
          if (e.name !== ref.key) problems.push(`${w.metadata.name}: ${e.name} from key ${ref.key}`);
          if (SECRET_OF[ref.key]?.(w.metadata.name) !== ref.name) problems.push(`${w.metadata.name}: ${ref.key} from Secret ${ref.name}`);
        }
      }
    }
    expect(problems).toEqual([]);
    const sorted = (r: Record<string, string[]>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [...v].sort()]));
    expect(sorted(got)).toEqual(sorted(SECRET_KEYS));
    // the NATS pods take only the passwords (their users' Secrets), nothing else
    const nats = containersOf(find(objs(), 'StatefulSet', 'nats')).flatMap((c) => (c.env ?? []).filter((e: K8sObject) => e.valueFrom?.secretKeyRef));
    expect(nats.map((e: K8sObject) => e.valueFrom.secretKeyRef.key)).toEqual(nats.map(() => 'NATS_PASSWORD'));
  });

  test('migration and stream-provisioning Jobs', () => {
    const migrate = find(objs(), 'Job', 'metronome-migrate');
    expect(podSpec(migrate).containers[0].command).toEqual(['node', 'dist/scripts/migrate.js']);
    const provision = find(objs(), 'Job', 'metronome-provision');
    const c = podSpec(provision).containers[0];
    expect(c.command).toEqual(['node', 'dist/scripts/provision.js']);
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'metronome-config' } }]);
    expect(c.env).toEqual(expect.arrayContaining([{ name: 'NATS_INBOX_PREFIX', value: '_INBOX_admin' }]));
    for (const j of [migrate, provision]) expect(podSpec(j).restartPolicy).toBe('OnFailure');
  });

  test('ConfigMap metronome-config: services do not migrate or provision on start', () => {
    const cfg = configData(find(objs(), 'ConfigMap', 'metronome-config'));
    expect(cfg).toMatchObject({ NATS_URLS: 'nats://nats:4222', NATS_PROVISION_ON_START: 'false', DATABASE_MIGRATE_ON_START: 'false' });
    expect(cfg.LOG_LEVEL).toMatch(/^(fatal|error|warn|info|debug|trace)$/);
  });

  test('ServiceMonitors select Services with the scraped port; honorLabels keeps the job label', () => {
    const monitors = ofKind(objs(), 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(['metronome', 'nats']);
    for (const m of monitors) {
      const services = ofKind(objs(), 'Service').filter(
        (s) => labelsMatch(m.spec.selector.matchLabels, s.metadata.labels) && s.spec.ports.some((p: K8sObject) => p.name === m.spec.endpoints[0].port),
      );
      expect(services.length).toBeGreaterThan(0);
      if (m.metadata.name === 'metronome') expect(services.map((s) => s.metadata.name).sort()).toEqual([...SERVICES].sort());
    }
    expect(find(objs(), 'ServiceMonitor', 'metronome').spec.endpoints[0].honorLabels).toBe(true);
  });

  test('the Grafana dashboard ConfigMap carries the dashboard and the sidecar label', () => {
    const cm = find(objs(), 'ConfigMap', 'metronome-grafana-dashboard');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(cm.data['metronome.json']).toBe(readFileSync(join(ROOT, 'observability/grafana/dashboards/metronome.json'), 'utf8'));
  });

  test('NetworkPolicies: default deny plus the allowed paths', () => {
    const names = ofKind(objs(), 'NetworkPolicy').map((n) => n.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['default-deny-ingress', 'scheduler-http', 'services-metrics', 'nats']));
    const deny = find(objs(), 'NetworkPolicy', 'default-deny-ingress');
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    // NATS clients must carry the label the NATS policy admits.
    for (const w of workloads(objs()).filter((x) => x.metadata.name !== 'nats' && x.metadata.name !== 'postgres' && x.metadata.name !== 'metronome-migrate')) {
      expect([w.metadata.name, w.spec.template.metadata.labels['metronome.io/nats-client']]).toEqual([w.metadata.name, 'true']);
    }
  });

  test('PostgreSQL is external except in dev', () => {
    const pg = objs().find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'postgres');
    if (name === 'dev') expect(pg).toBeDefined();
    else expect(pg).toBeUndefined();
  });
});

describe('prod overlay', () => {
  const prod = () => built.prod;

  test('a three-node NATS cluster with routes to every node', () => {
    const nats = find(prod(), 'StatefulSet', 'nats');
    expect(nats.spec.replicas).toBe(3);
    expect(nats.spec.serviceName).toBe('nats-headless');
    expect(nats.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    const conf = configData(find(prod(), 'ConfigMap', 'nats-config'));
    expect(conf['nats.conf']).toMatch(/^server_name: \$POD_NAME$/m);
    expect(conf['nats.conf']).toMatch(/^include \.\/cluster\.conf$/m);
    for (const i of [0, 1, 2]) expect(conf['cluster.conf']).toContain(`nats-route://nats-${i}.nats-headless:6222`);
    expect(find(prod(), 'Service', 'nats-headless').spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
  });

  test('streams are declared R3: the provision Job reads STREAM_REPLICAS=3', () => {
    expect(configData(find(prod(), 'ConfigMap', 'metronome-config')).STREAM_REPLICAS).toBe('3');
    expect(podSpec(find(prod(), 'Job', 'metronome-provision')).containers[0].envFrom[0]).toEqual({ configMapRef: { name: 'metronome-config' } });
  });

  test('KEDA nats-jetstream triggers for notifier, documents and recurrence', () => {
    const scaled = ofKind(prod(), 'ScaledObject');
    expect(scaled.map((s) => s.metadata.name).sort()).toEqual([...KEDA_SCALED].sort());
    const triggers = scaled.flatMap((s) => s.spec.triggers.map((t: K8sObject) => ({ target: s.spec.scaleTargetRef.name, ...t })));
    for (const t of triggers) {
      expect(t.type).toBe('nats-jetstream');
      expect(t.metadata.natsServerMonitoringEndpoint).toBe('nats-headless.metronome.svc.cluster.local:8222');
      expect(t.metadata.account).toBe('METRONOME');
      expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
      // the consumer is one the code declares, on the same stream, owned by the scaled service
      const declared = CONSUMER_DECLARATIONS.find((c) => c.durable === t.metadata.consumer);
      expect(declared?.stream).toBe(t.metadata.stream);
      expect(t.metadata.consumer.startsWith(`${t.target}-`)).toBe(true);
    }
    const pairs = triggers.map((t) => `${t.metadata.stream}/${t.metadata.consumer}`);
    expect(pairs).toEqual(
      expect.arrayContaining([
        'EVENTS/notifier-events',
        // the notifier's jobs run on the job runtime too: one consumer per priority
        ...PRIORITIES.map((p) => `JOBS/${subjects.jobConsumer('notifier', p)}`),
        'EVENTS/documents-events',
        // documents' jobs run on the job runtime: one consumer per priority, each a trigger
        ...PRIORITIES.map((p) => `JOBS/${subjects.jobConsumer('documents', p)}`),
        'EVENTS/recurrence-events',
        // every service's jobs run on per-priority consumers (critical work never waits behind a low backlog)
        ...PRIORITIES.map((p) => `JOBS/${subjects.jobConsumer('recurrence', p)}`),
      ]),
    );
    for (const s of scaled) {
      expect(s.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
      expect(s.spec.maxReplicaCount).toBeGreaterThan(s.spec.minReplicaCount);
      // KEDA owns replicas: the Deployment must not set them, or every apply would fight the HPA
      expect(find(prod(), 'Deployment', s.spec.scaleTargetRef.name).spec.replicas).toBeUndefined();
    }
  });

  test('more replicas and bigger resources than the base', () => {
    expect(find(prod(), 'Deployment', 'scheduler').spec.replicas).toBeGreaterThan(find(built.base, 'Deployment', 'scheduler').spec.replicas);
    for (const svc of SERVICES) {
      const big = podSpec(find(prod(), 'Deployment', svc)).containers[0].resources;
      const small = podSpec(find(built.base, 'Deployment', svc)).containers[0].resources;
      for (const k of ['cpu', 'memory']) {
        expect(quantity(big.requests[k])).toBeGreaterThan(quantity(small.requests[k]));
        expect(quantity(big.limits[k])).toBeGreaterThanOrEqual(quantity(small.limits[k]));
      }
    }
  });

  test("services keep every base setting and get a larger young generation (2 x 16 MB: prod's request affords it)", () => {
    const flag = (options: string | undefined, name: string) => Number(new RegExp(`--${name}=(\\d+)`).exec(options ?? '')?.[1]);
    for (const svc of SERVICES) {
      const env = (b: K8sObject[]) => podSpec(find(b, 'Deployment', svc)).containers[0].env as K8sObject[];
      const base = env(built.base);
      const big = env(prod());
      // a strategic-merge patch that lost the list's merge key would replace the whole env
      expect(big.map((e) => e.name).sort()).toEqual(base.map((e) => e.name).sort());
      for (const e of base.filter((x) => x.name !== 'NODE_OPTIONS')) expect(big).toContainEqual(e);
      const baseOptions = base.find((e) => e.name === 'NODE_OPTIONS')?.value as string;
      const prodOptions = big.find((e) => e.name === 'NODE_OPTIONS')?.value as string;
      expect(flag(prodOptions, 'max-semi-space-size')).toBe(16);
      expect(flag(prodOptions, 'max-semi-space-size')).toBeGreaterThan(flag(baseOptions, 'max-semi-space-size'));
      expect(flag(prodOptions, 'max-old-space-size')).toBe(flag(baseOptions, 'max-old-space-size'));
    }
  });

  test("the bench's --overlay=prod runs its workers with what the prod build gives the job-consuming service", () => {
    const settings = overlayProcessSettings(ROOT, 'prod');
    const env = podSpec(find(prod(), 'Deployment', 'notifier')).containers[0].env as K8sObject[];
    expect(settings.nodeOptions.join(' ')).toBe(env.find((e) => e.name === 'NODE_OPTIONS')?.value);
    expect(settings.nodeOptions).toContain('--max-semi-space-size=16');
    expect(settings.env.MALLOC_ARENA_MAX).toBe(env.find((e) => e.name === 'MALLOC_ARENA_MAX')?.value);
    expect(settings.source).toBe('k8s/overlays/prod');
    expect(() => overlayProcessSettings(ROOT, '../base')).toThrow(/directory name under k8s\/overlays/);
  });

  test('no Secret (and no placeholder credential) is part of the prod build', () => {
    expect(ofKind(prod(), 'Secret')).toEqual([]);
    expect(JSON.stringify(prod())).not.toContain('change-me');
  });
});

describe('dev overlay', () => {
  const dev = () => built.dev;

  test('one replica of every service and of NATS, standalone NATS, R1 streams', () => {
    for (const svc of SERVICES) expect(find(dev(), 'Deployment', svc).spec.replicas).toBe(1);
    expect(find(dev(), 'StatefulSet', 'nats').spec.replicas).toBe(1);
    const conf = configData(find(dev(), 'ConfigMap', 'nats-config'));
    expect(conf['cluster.conf']).not.toMatch(/^\s*cluster\s*\{/m);
    expect(configData(find(dev(), 'ConfigMap', 'metronome-config')).STREAM_REPLICAS).toBe('1');
    expect(ofKind(dev(), 'ScaledObject')).toEqual([]);
  });

  test('DATABASE_URL points at the reference PostgreSQL with its credentials', () => {
    const url = new URL(configData(find(dev(), 'Secret', 'metronome-database')).DATABASE_URL);
    const pg = configData(find(dev(), 'Secret', 'postgres-credentials'));
    expect(url.hostname).toBe('postgres');
    expect(find(dev(), 'Service', 'postgres').spec.ports[0].port).toBe(Number(url.port));
    expect([decodeURIComponent(url.username), decodeURIComponent(url.password), url.pathname.slice(1)]).toEqual([pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, pg.POSTGRES_DB]);
  });

  test.each([...SERVICES, 'metronome-migrate', 'metronome-provision'])('%s starts: its environment passes the config loader, placeholder checks included', (w) => {
    const workload = workloads(dev()).find((x) => x.metadata.name === w)!;
    expect(configProblems(containerEnv(dev(), podSpec(workload).containers[0]))).toEqual([]);
  });
});

describe('base placeholders', () => {
  test.each(SERVICES)('%s refuses to start with the base Secrets, naming every placeholder key', (svc) => {
    const env = containerEnv(built.base, podSpec(find(built.base, 'Deployment', svc)).containers[0]);
    const problems = configProblems(env);
    const named = problems.map((p) => p.slice(0, p.indexOf(':')));
    const expected = ['JWT_SECRET', 'NATS_PASSWORD', 'DATABASE_URL (password)'];
    if (SECRET_KEYS[svc].includes('SMTP_URL')) expected.push('SMTP_URL (password)');
    if (SECRET_KEYS[svc].includes('ENCRYPTION_KEYS')) expected.push('ENCRYPTION_KEYS');
    expect(named.sort()).toEqual(expected.sort());
    // the problems name keys, never values
    for (const [key, value] of Object.entries(env)) if (SECRET_KEYS[svc].includes(key) && key !== 'NATS_USER' && key !== 'ENCRYPTION_ACTIVE_KEY') expect(problems.join('\n')).not.toContain(value);
  });
});

describe('secrets follow the code', () => {
  test.each(SERVICES)('every secret the %s code reads is in its Deployment', (svc) => {
    const code = sourceFiles(`apps/${svc}/src`).map((f) => readFileSync(f, 'utf8')).join('\n');
    const read = Object.entries(READERS).filter(([, re]) => re.test(code)).map(([key]) => key);
    expect(read.filter((k) => !SECRET_KEYS[svc].includes(k))).toEqual([]);
  });

  test('SMTP_URL is read by the notifier only', () => {
    const readers = SERVICES.filter((svc) => sourceFiles(`apps/${svc}/src`).some((f) => READERS.SMTP_URL.test(readFileSync(f, 'utf8'))));
    expect(readers).toEqual(['notifier']);
  });
});
