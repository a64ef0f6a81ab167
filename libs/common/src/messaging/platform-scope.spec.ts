import { createCloudEvent } from './cloud-event.js';
import { subjectTenantProblem } from './jetstream.server.js';
import { isReservedTenantId, PLATFORM_TENANT, platformScopeProblem } from './platform-scope.js';

describe('the platform scope', () => {
  const event = (type: string, companyId: string, source = 'metronome/scheduler') => createCloudEvent({ type, source, data: {}, companyId });

  it('accepts Metronome\'s job alerts on events._platform', () => {
    for (const type of ['job.dead', 'job.sla_breached', 'job.timed_out']) {
      expect(subjectTenantProblem(`events._platform.${type}`, event(type, PLATFORM_TENANT))).toBeNull();
    }
  });

  it('refuses any other type, or a publisher that is not a Metronome service', () => {
    expect(subjectTenantProblem('events._platform.member.upserted', event('member.upserted', PLATFORM_TENANT))).toMatch(/carries only/);
    expect(subjectTenantProblem('events._platform.document.expiring', event('document.expiring', PLATFORM_TENANT))).toMatch(/carries only/);
    expect(subjectTenantProblem('events._platform.job.dead', event('job.dead', PLATFORM_TENANT, 'crm-sync'))).toMatch(/Metronome's services/);
  });

  it('refuses other reserved tokens, and leaves tenant subjects to the tenant check', () => {
    expect(subjectTenantProblem('events._system.job.dead', event('job.dead', '_system'))).toMatch(/reserved scope/);
    expect(subjectTenantProblem('events.acme.member.upserted', event('member.upserted', 'acme', 'crm-sync'))).toBeNull();
    expect(subjectTenantProblem('events.acme.job.dead', event('job.dead', PLATFORM_TENANT))).toMatch(/differs/);
    expect(platformScopeProblem('acme', { type: 'anything', source: 'x' })).toBeNull();
  });

  it('reserves tenant ids that start with an underscore', () => {
    expect(isReservedTenantId('_platform')).toBe(true);
    expect(isReservedTenantId('acme_1')).toBe(false);
  });
});
