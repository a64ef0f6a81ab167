/**
 * Helpers for the k8s tests: kustomize builds through kubectl, schema validation with the
 * kubernetes-models validators (core APIs, KEDA and prometheus-operator CRDs), and a strict
 * pass that reports fields no schema knows (the generated validators ignore unknown fields,
 * so a typo like "livenesProbe" would otherwise pass).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import * as coreV1 from 'kubernetes-models/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as kedaV1alpha1 from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A Kubernetes object as produced by kustomize (loosely typed on purpose). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

/** Runs a required external tool; fails (never skips) with the install hint when it is missing. */
export function requireTool(cmd: string, args: string[], hint: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} is required by these tests and is not usable (${r.error?.message ?? r.stderr}). ${hint}`);
  }
}

export const KUBECTL_HINT = 'Install kubectl (it bundles kustomize), e.g. the Debian package "kubectl" from the Kubernetes apt repository.';

export const NATS_SERVER_HINT = 'Install nats-server, e.g. the Debian package "nats-server".';

/** nats-server from PATH, or where Debian's package puts it (/usr/sbin may be off a user's PATH). */
export function natsServerBin(): string {
  const onPath = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (!onPath.error) return 'nats-server';
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
}

export function kustomize(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(out)
    .map((d) => {
      if (d.errors.length) throw new Error(`${dir}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as K8sObject;
    })
    .filter((o) => o !== null)
    .map((o) => {
      // kustomize wraps long base64 values of generated Secrets over several lines. The API
      // server decodes them with Go's base64 decoder, which skips newlines; the schema's "byte"
      // format does not, so compare what the server sees.
      if (o.kind === 'Secret' && o.data) {
        for (const k of Object.keys(o.data)) o.data[k] = String(o.data[k]).replace(/\n/g, '');
      }
      return o;
    });
}

type ModelClass = { apiVersion: string; kind: string; prototype: { validate(): void } };

const MODELS = new Map<string, ModelClass>();
for (const mod of [coreV1, appsV1, batchV1, policyV1, networkingV1, autoscalingV2, kedaV1alpha1, monitoringV1]) {
  for (const value of Object.values(mod) as unknown[]) {
    const c = value as Partial<ModelClass>;
    if (typeof value === 'function' && typeof c.apiVersion === 'string' && typeof c.kind === 'string') {
      MODELS.set(`${c.apiVersion}/${c.kind}`, value as unknown as ModelClass);
    }
  }
}

interface Seen {
  read: Set<PropertyKey>;
  enumerated: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Wraps an object so the validator's property reads are recorded per (raw) object. */
function tracked(value: unknown, log: Map<object, Seen>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const target = value as object;
  const seen = (): Seen => {
    let s = log.get(target);
    if (!s) log.set(target, (s = { read: new Set(), enumerated: false }));
    return s;
  };
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === 'string') seen().read.add(key);
      return tracked(Reflect.get(t, key, receiver), log);
    },
    has(t, key) {
      seen().read.add(key);
      return Reflect.has(t, key);
    },
    ownKeys(t) {
      seen().enumerated = true;
      return Reflect.ownKeys(t);
    },
    getOwnPropertyDescriptor(t, key) {
      seen().read.add(key);
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
  });
}

/** Keys the validator never looked at, in objects whose other keys it did check. */
function unknownFields(value: unknown, log: Map<object, Seen>, path: string, out: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => unknownFields(v, log, `${path}[${i}]`, out));
    return;
  }
  if (!isRecord(value)) return;
  const seen = log.get(value);
  // Never looked at (free-form object) or enumerated (a map such as labels): nothing to report.
  if (!seen || seen.enumerated || seen.read.size === 0) return;
  for (const key of Object.keys(value)) {
    if (!seen.read.has(key)) out.push(`${path}.${key}`);
    else unknownFields(value[key], log, `${path}.${key}`, out);
  }
}

/** Problems of one object: no schema for its kind, schema violations, unknown fields. */
export function validateObject(obj: K8sObject): string[] {
  const id = `${obj.kind}/${obj.metadata?.name}`;
  const model = MODELS.get(`${obj.apiVersion}/${obj.kind}`);
  if (!model) return [`${id}: no schema for ${obj.apiVersion} ${obj.kind}`];
  const log = new Map<object, Seen>();
  const problems: string[] = [];
  try {
    model.prototype.validate.call(tracked(obj, log));
  } catch (e) {
    problems.push(`${id}: ${(e as Error).message}`);
  }
  const unknown: string[] = [];
  unknownFields(obj, log, '', unknown);
  for (const u of unknown) problems.push(`${id}: unknown field ${u.slice(1)}`);
  return problems;
}

export function find(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} named ${name}`);
  return o;
}

export function ofKind(objs: K8sObject[], kind: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind);
}

/** The pod spec of a workload (Deployment, StatefulSet, Job). */
export function podSpec(o: K8sObject): K8sObject['spec'] {
  return o.spec.template.spec;
}

export function labelsMatch(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Data of a ConfigMap (string values), or of a Secret (stringData or decoded data). */
export function configData(o: K8sObject): Record<string, string> {
  if (o.kind === 'Secret') {
    const out: Record<string, string> = { ...(o.stringData ?? {}) };
    for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) out[k] = Buffer.from(v, 'base64').toString('utf8');
    return out;
  }
  return { ...(o.data ?? {}) };
}

/** The environment a container starts with: ConfigMaps and Secrets resolved, as the kubelet would. */
export function containerEnv(objs: K8sObject[], c: K8sObject): Record<string, string> {
  const env: Record<string, string> = {};
  const data = (kind: string, name: string) => configData(find(objs, kind, name));
  for (const e of c.envFrom ?? []) Object.assign(env, e.configMapRef ? data('ConfigMap', e.configMapRef.name) : data('Secret', e.secretRef.name));
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = data('Secret', e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key];
    else if (e.valueFrom?.configMapKeyRef) env[e.name] = data('ConfigMap', e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key];
    else if (e.valueFrom?.fieldRef) env[e.name] = 'pod-0';
  }
  return env;
}
