import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The Deployment whose NODE_OPTIONS the bench workers run with: a job-consuming service. */
export const SERVICE_MANIFEST = 'k8s/base/app/notifier.yaml';

/**
 * NODE_OPTIONS of the services as they ship (the heap cap and young
 * generation size set next to their memory limit), split into flags. Every
 * bench worker, BullMQ's and pg-boss's too, runs with them, so the RSS the
 * bench reports is the deployed one and the systems share one heap setting.
 */
export function serviceNodeOptions(root: string): string[] {
  for (const doc of parseAllDocuments(readFileSync(join(root, SERVICE_MANIFEST), 'utf8'))) {
    const obj = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } } };
    if (obj?.kind !== 'Deployment') continue;
    const value = obj.spec?.template?.spec?.containers?.[0]?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
    return value ? value.split(/\s+/).filter(Boolean) : [];
  }
  throw new Error(`${SERVICE_MANIFEST} holds no Deployment`);
}
