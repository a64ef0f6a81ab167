import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { InvalidPayloadError } from '../messaging/errors.js';
import type { JobContext } from './job-handler.decorator.js';

/** A payload carried a time override (asOf, period...) while ALLOW_TIME_OVERRIDES is off: dead-lettered as invalid. */
export class TimeOverrideRefusedError extends InvalidPayloadError {
  constructor(job: string, fields: string[]) {
    super(
      `${job}: payload field${fields.length > 1 ? 's' : ''} ${fields.map((f) => `"${f}"`).join(', ')} would override the clock; ` +
        'time overrides are refused outside tests (ALLOW_TIME_OVERRIDES)',
      fields.map((f) => `${f}: time overrides are not allowed`),
    );
    this.name = 'TimeOverrideRefusedError';
  }
}

/**
 * Payload fields that replace the clock (`asOf` of the expiry scans, a
 * digest's `period`, ...) let whoever enqueues a job decide what time it is:
 * alerts for documents that have not expired, suppressed real ones. They are
 * honoured only when ALLOW_TIME_OVERRIDES is true (tests); otherwise a payload
 * carrying one is refused, not silently ignored.
 */
@Injectable()
export class TimeOverrides {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get allowed(): boolean {
    return this.config.allowTimeOverrides;
  }

  /** Throws TimeOverrideRefusedError when the payload has any of `fields` and overrides are off. */
  check(ctx: Pick<JobContext<unknown>, 'job' | 'payload'>, fields: readonly string[]): void {
    if (this.allowed) return;
    const payload = ctx.payload as Record<string, unknown> | null | undefined;
    if (!payload || typeof payload !== 'object') return;
    const present = fields.filter((f) => payload[f] !== undefined && payload[f] !== null);
    if (present.length) throw new TimeOverrideRefusedError(ctx.job, present);
  }
}
