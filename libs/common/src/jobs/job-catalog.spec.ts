import { JobCatalog, JobDeclarationError, jobDeclaration } from './job-catalog.js';
import type { AppConfig } from '../config/config.schema.js';
import type { Logger } from '../logging/logger.js';
import type { KvBuckets } from '../messaging/kv-buckets.js';

const config = { instanceId: 'worker-1', nats: { streamReplicas: 1 } } as AppConfig;
const log = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
const catalog = () => new JobCatalog({} as KvBuckets, 'documents', config, log);

describe('job declarations', () => {
  it('say what the handler declares, platform and tenantSchedulable false unless set', () => {
    const d = jobDeclaration('documents', 'worker-1', { name: 'documents.expiry-scan', priority: 'normal', maxAttempts: 5, timeoutMs: 600_000 }, { tenantSchedulable: true, tenantConcurrency: 1 }, new Date('2026-01-01T00:00:00Z'));
    expect(d).toEqual({
      job: 'documents.expiry-scan', service: 'documents', platform: false, tenantSchedulable: true, priority: 'normal', maxAttempts: 5, timeoutMs: 600_000,
      tenantConcurrency: 1, announcedAt: '2026-01-01T00:00:00.000Z', instance: 'worker-1',
    });
    expect(jobDeclaration('s', 'i', { name: 'x', priority: 'low', maxAttempts: 1, timeoutMs: 1 }, {})).toMatchObject({ platform: false, tenantSchedulable: false });
  });

  it('refuse a job declared both platform and tenant-schedulable (start-up fails)', () => {
    const c = catalog();
    expect(() => c.announce([{ name: 'bad.job', priority: 'normal', maxAttempts: 5, timeoutMs: 1_000 }], () => ({ platform: true, tenantSchedulable: true }))).toThrow(JobDeclarationError);
  });

  it('are known to the process that announced them before the bucket answers', () => {
    const c = catalog();
    c.announce([{ name: 'documents.expiry-scan-all', priority: 'normal', maxAttempts: 5, timeoutMs: 1_000 }], () => ({ platform: true }));
    expect(c.get('documents.expiry-scan-all')).toMatchObject({ service: 'documents', platform: true });
    expect(c.get('unknown.job')).toBeUndefined();
  });
});
