import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { PRIORITIES } from '../../messaging/subjects.js';
import type { ConsumerDeclaration } from '../../messaging/topology.js';
import { jobHandlerMetadata, type JobHandlerFn, type JobHandlerMetadata } from '../job-handler.decorator.js';
import { DEFAULT_JOB_BACKOFF, DEFAULT_JOB_MAX_ATTEMPTS, DEFAULT_JOB_TIMEOUT_MS, type JobSpec } from './job-spec.js';
import { toPriority } from '../priority.js';

interface Found {
  meta: JobHandlerMetadata;
  fn: JobHandlerFn;
  owner: string;
}

/** subjectMatches('jobs.normal.docs.>', 'jobs.normal.docs.tick') — NATS wildcard matching of one subject. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** Every @JobHandler on the app's providers and controllers (methods, or classes with handle()). */
export function discoverHandlers(discovery: DiscoveryService, scanner: MetadataScanner): Map<string, Found[]> {
  const found = new Map<string, Found[]>();
  const add = (meta: JobHandlerMetadata, fn: JobHandlerFn, owner: string) => {
    const list = found.get(meta.job) ?? [];
    list.push({ meta, fn, owner });
    found.set(meta.job, list);
  };
  const seen = new Set<object>();
  for (const wrapper of [...discovery.getProviders(), ...discovery.getControllers()]) {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!instance || typeof instance !== 'object' || seen.has(instance) || !wrapper.metatype) continue;
    seen.add(instance);
    const classMeta = jobHandlerMetadata(wrapper.metatype);
    if (classMeta) {
      if (typeof instance.handle !== 'function') throw new Error(`${wrapper.metatype.name} is a @JobHandler class without a handle(context) method`);
      add(classMeta, (ctx) => (instance.handle as JobHandlerFn).call(instance, ctx), wrapper.metatype.name);
    }
    const proto = Object.getPrototypeOf(instance) as object;
    for (const method of scanner.getAllMethodNames(proto)) {
      const fn = (proto as Record<string, unknown>)[method];
      const meta = typeof fn === 'function' ? jobHandlerMetadata(fn) : undefined;
      if (meta) add(meta, (ctx) => (fn as JobHandlerFn).call(instance, ctx), `${wrapper.metatype.name}.${method}`);
    }
  }
  return found;
}

/**
 * Checks the handlers found against the service's declared job list and
 * consumers: every declared job has exactly one handler, every handler is
 * declared, every job is covered at every priority. Returns the problems.
 */
export function handlerProblems(found: Map<string, Found[]>, declared: readonly string[], consumers: readonly ConsumerDeclaration[]): string[] {
  const problems: string[] = [];
  const names = new Set(declared);
  for (const name of names) {
    const list = found.get(name) ?? [];
    if (list.length === 0) problems.push(`job "${name}" is declared but has no @JobHandler`);
    if (list.length > 1) problems.push(`job "${name}" has ${list.length} handlers: ${list.map((h) => h.owner).join(', ')}`);
  }
  for (const [name, list] of found) {
    if (!names.has(name)) problems.push(`@JobHandler "${name}" (${list.map((h) => h.owner).join(', ')}) is not in this service's job list`);
  }
  for (const name of names) {
    const uncovered = PRIORITIES.filter((p) => !consumers.some((c) => subjectMatches(c.filterSubject, `jobs.${p}.${name}`)));
    if (uncovered.length) problems.push(`job "${name}" has no consumer for priority ${uncovered.join(', ')}`);
  }
  return problems;
}

export function specOf(name: string, h: Found, defaults: { maxAttempts?: number } = {}): JobSpec {
  const o = h.meta.options;
  return {
    name,
    owner: h.owner,
    fn: h.fn,
    priority: toPriority(o.priority ?? 'normal'),
    maxAttempts: o.maxAttempts ?? defaults.maxAttempts ?? DEFAULT_JOB_MAX_ATTEMPTS,
    backoff: o.backoff ?? DEFAULT_JOB_BACKOFF,
    timeoutMs: o.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
    concurrency: o.concurrency ?? 0,
    tenantConcurrency: o.tenantConcurrency,
    options: o,
  };
}
