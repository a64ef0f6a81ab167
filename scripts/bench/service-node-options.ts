import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The Deployment whose process settings the bench workers run with: a job-consuming service. */
export const SERVICE_MANIFEST = 'k8s/base/app/notifier.yaml';

/** Environment variables of the Deployment that tune the process rather than configure the service. */
const PROCESS_ENV = ['MALLOC_ARENA_MAX'];

export interface ServiceProcessSettings {
  /** NODE_OPTIONS split into flags: the heap cap and young generation size set next to the memory limit. */
  nodeOptions: string[];
  /** The allocator's settings (MALLOC_ARENA_MAX). */
  env: Record<string, string>;
}

/**
 * How the services' processes run as they ship. Every bench worker, BullMQ's and
 * pg-boss's too, runs with these, so the RSS the bench reports is the deployed
 * one and the systems share one heap and allocator setting.
 */
export function serviceProcessSettings(root: string): ServiceProcessSettings {
  for (const doc of parseAllDocuments(readFileSync(join(root, SERVICE_MANIFEST), 'utf8'))) {
    const obj = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } } };
    if (obj?.kind !== 'Deployment') continue;
    const vars = obj.spec?.template?.spec?.containers?.[0]?.env ?? [];
    const value = vars.find((e) => e.name === 'NODE_OPTIONS')?.value;
    const env: Record<string, string> = {};
    for (const e of vars) if (PROCESS_ENV.includes(e.name) && e.value !== undefined) env[e.name] = e.value;
    return { nodeOptions: value ? value.split(/\s+/).filter(Boolean) : [], env };
  }
  throw new Error(`${SERVICE_MANIFEST} holds no Deployment`);
}

/** `K=V K=V`, as the bench's log and README print the environment. */
export function envText(env: Record<string, string>): string {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
}
