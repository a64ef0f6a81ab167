import { execFileSync } from 'node:child_process';
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
  /** Where they were read: the service manifest, or the overlay that built it. */
  source: string;
}

/**
 * How the services' processes run as they ship. Every bench worker, BullMQ's and
 * pg-boss's too, runs with these, so the RSS the bench reports is the deployed
 * one and the systems share one heap and allocator setting.
 */
export function serviceProcessSettings(root: string): ServiceProcessSettings {
  return settingsOf(serviceDeployment(root), SERVICE_MANIFEST);
}

/** The same Deployment's settings as an overlay builds it (`kubectl kustomize k8s/overlays/<overlay>`). */
export function overlayProcessSettings(root: string, overlay: string): ServiceProcessSettings {
  if (!/^[a-z0-9-]+$/.test(overlay)) throw new Error(`an overlay is a directory name under k8s/overlays, not ${JSON.stringify(overlay)}`);
  let built: string;
  try {
    built = execFileSync('kubectl', ['kustomize', join(root, 'k8s', 'overlays', overlay)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? '--overlay needs kubectl on the PATH (REQUIRE_TEST_TOOLS=1 bash scripts/ensure-infra.sh installs it)' : `kubectl kustomize k8s/overlays/${overlay} failed: ${(e as Error).message}`);
  }
  const source = `k8s/overlays/${overlay}`;
  return settingsOf(deploymentIn(built, source, serviceDeployment(root).metadata?.name), source);
}

interface ManifestDoc {
  kind?: string;
  metadata?: { name?: string };
  spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
}

function serviceDeployment(root: string): ManifestDoc {
  return deploymentIn(readFileSync(join(root, SERVICE_MANIFEST), 'utf8'), SERVICE_MANIFEST);
}

/** The first Deployment in `yaml`, or the one named `name`. */
function deploymentIn(yaml: string, source: string, name?: string): ManifestDoc {
  for (const doc of parseAllDocuments(yaml)) {
    const obj = doc.toJS() as ManifestDoc;
    if (obj?.kind === 'Deployment' && (name === undefined || obj.metadata?.name === name)) return obj;
  }
  throw new Error(`${source} holds no Deployment${name ? ` named ${name}` : ''}`);
}

/** A Deployment's NODE_OPTIONS and allocator settings. */
function settingsOf(deployment: ManifestDoc, source: string): ServiceProcessSettings {
  const vars = deployment.spec?.template?.spec?.containers?.[0]?.env ?? [];
  const value = vars.find((e) => e.name === 'NODE_OPTIONS')?.value;
  const env: Record<string, string> = {};
  for (const e of vars) if (PROCESS_ENV.includes(e.name) && e.value !== undefined) env[e.name] = e.value;
  return { nodeOptions: value ? value.split(/\s+/).filter(Boolean) : [], env, source };
}

/** `K=V K=V`, as the bench's log and README print the environment. */
export function envText(env: Record<string, string>): string {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
}
