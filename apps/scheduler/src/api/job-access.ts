import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { errorText, JobCatalog, ROOT_LOGGER, type JobDeclaration, type Logger } from '../../../../libs/common/src/index.js';
import { can, tenantScope, type Principal } from '../../../../libs/common/src/auth/index.js';
import { problems } from '../http/problems.js';

/** How a caller would make a job run: every admin API path that enqueues, or arms a schedule that will. */
export type EnqueuePath = 'schedule' | 'trigger' | 'retry';

const VERB: Record<EnqueuePath, string> = { schedule: 'schedule', trigger: 'trigger', retry: 'retry' };

/**
 * Who may make which job run, from the job catalog (what each handler
 * declares, published by the services' job runtimes):
 *
 * - platform administrators (the `platform` permission): every job;
 * - a job declared `platform: true` (fan-outs over every tenant, retention,
 *   digests): nobody else, service keys included;
 * - tenant roles: schedule and trigger only jobs declared
 *   `tenantSchedulable: true`, retry their tenant's dead runs of any declared
 *   job that is not a platform job; a job no running service declared is
 *   unknown and refused (secure default);
 * - service keys: any job that is not a platform job.
 */
@Injectable()
export class JobAccess implements OnApplicationBootstrap {
  constructor(
    private readonly catalog: JobCatalog,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.catalog.watch();
    } catch (e) {
      // Until the catalog is readable every job is unknown: tenant roles are refused, nothing is let through.
      this.log.error({ error: errorText(e) }, 'could not watch the job catalog; tenant roles may not enqueue any job until it is readable');
    }
  }

  /** True when a running service declared the job. */
  declared(job: string): boolean {
    return this.catalog.get(job) !== undefined;
  }

  /** Why `principal` may not make `job` run through `path`, or null when it may. */
  refusal(principal: Principal, job: string, path: EnqueuePath): string | null {
    if (can(principal, 'platform')) return null;
    const declared: JobDeclaration | undefined = this.catalog.get(job);
    if (declared?.platform) return `"${job}" is a platform job: only platform administrators may ${VERB[path]} it`;
    if (tenantScope(principal) === null) return null;
    if (!declared) return `"${job}" is not declared by any running service, so tenant roles may not ${VERB[path]} it`;
    // A retry runs the tenant's own dead run again with the payload the platform gave it; choosing the job and payload needs more.
    if (path !== 'retry' && !declared.tenantSchedulable) return `"${job}" is not declared tenant-schedulable: tenant roles may not ${VERB[path]} it`;
    return null;
  }

  /** Throws 403 problem+json unless `principal` may make `job` run through `path`. */
  assert(principal: Principal, job: string, path: EnqueuePath): void {
    const reason = this.refusal(principal, job, path);
    if (reason) throw problems.forbidden(reason);
  }
}
