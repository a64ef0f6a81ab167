import { PLATFORM_TENANT } from './contracts/job-sla.contract.js';
import { EVENT_TYPES } from './subjects.js';

export { PLATFORM_TENANT };

/**
 * What the platform scope (events._platform.<type>) carries: Metronome's own
 * alerts about runs without a tenant. Only Metronome's services may publish
 * these types (k8s/base/nats/accounts.conf grants outside producers their own
 * types only), so the type is what marks a platform publisher on the wire.
 */
export const PLATFORM_EVENT_TYPES: readonly string[] = [EVENT_TYPES.jobDead, EVENT_TYPES.jobSlaBreached, EVENT_TYPES.jobTimedOut];

/** Tenant ids starting with "_" are reserved for Metronome's own scopes (`_platform`): no tenant may be named so. */
export function isReservedTenantId(companyId: string): boolean {
  return companyId.startsWith('_');
}

/**
 * Null when an event whose subject names `subjectTenant` may be handled as far
 * as the platform scope goes: a tenant subject always may; the platform scope
 * only for a platform event type from a Metronome service (`source`
 * metronome/<service>); another reserved token never.
 */
export function platformScopeProblem(subjectTenant: string, event: { type: string; source: string }): string | null {
  if (!isReservedTenantId(subjectTenant)) return null;
  if (subjectTenant !== PLATFORM_TENANT) return `"${subjectTenant}" is a reserved scope, not a tenant`;
  if (!PLATFORM_EVENT_TYPES.includes(event.type)) return `the platform scope carries only ${PLATFORM_EVENT_TYPES.join(', ')}, not ${event.type}`;
  if (!event.source.startsWith('metronome/')) return `only Metronome's services publish in the platform scope, not "${event.source}"`;
  return null;
}

const TENANT_TOKEN = /^[A-Za-z0-9_-]{1,100}$/;

/** Where an alert about a run goes: its tenant, or the platform scope for a run without one (or with a tenant no subject can name). */
export function alertScope(companyId: string | null | undefined): string {
  return companyId && TENANT_TOKEN.test(companyId) && !isReservedTenantId(companyId) ? companyId : PLATFORM_TENANT;
}
