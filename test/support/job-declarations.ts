import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { ExpiryJobs } from '../../apps/documents/src/expiry/expiry.jobs.js';
import { TickJobs } from '../../apps/documents/src/tick/tick.jobs.js';
import { DeliveryJobs } from '../../apps/notifier/src/delivery/delivery.jobs.js';
import { RecurrenceJobs } from '../../apps/recurrence/src/recurrence.jobs.js';
import {
  DEFAULT_JOB_MAX_ATTEMPTS,
  DEFAULT_JOB_TIMEOUT_MS,
  JOB_CATALOG_BUCKET,
  jobDeclaration,
  jobHandlerMetadata,
  toPriority,
  type JobDeclaration,
  type JobHandlerOptions,
} from '../../libs/common/src/index.js';

const HANDLERS: [string, { prototype: object }][] = [
  ['documents', ExpiryJobs],
  ['documents', TickJobs],
  ['recurrence', RecurrenceJobs],
  ['notifier', DeliveryJobs],
];

/**
 * The declarations the services' job runtimes publish, read from the
 * production @JobHandler decorators (for tests that run the scheduler without
 * the other services): what each handler says about itself, nothing invented.
 */
export function productionDeclarations(extra: { job: string; service: string; options: JobHandlerOptions }[] = []): JobDeclaration[] {
  const out: JobDeclaration[] = [];
  const add = (service: string, job: string, o: JobHandlerOptions) =>
    out.push(jobDeclaration(service, 'test', { name: job, priority: toPriority(o.priority ?? 'normal'), maxAttempts: o.maxAttempts ?? DEFAULT_JOB_MAX_ATTEMPTS, timeoutMs: o.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS }, o));
  for (const [service, cls] of HANDLERS) {
    for (const name of Object.getOwnPropertyNames(cls.prototype)) {
      const fn = (cls.prototype as Record<string, unknown>)[name];
      const meta = typeof fn === 'function' ? jobHandlerMetadata(fn) : undefined;
      if (meta) add(service, meta.job, meta.options);
    }
  }
  for (const e of extra) add(e.service, e.job, e.options);
  return out;
}

/** Publishes declarations into the job-catalog bucket as a service's job runtime does at start. */
export async function announce(natsUrl: string, declarations: JobDeclaration[]): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const kvm = new Kvm(nc);
    const kv = await kvm
      .open(JOB_CATALOG_BUCKET)
      .then(async (b) => (await b.status(), b))
      .catch(() => kvm.create(JOB_CATALOG_BUCKET, { history: 1 }));
    for (const d of declarations) await kv.put(d.job, JSON.stringify(d));
  } finally {
    await nc.close();
  }
}
