import type { JsMsg } from '@nats-io/jetstream';
import type { BackoffPolicy } from '../../messaging/backoff.js';
import type { CloudEvent } from '../../messaging/cloud-event.js';
import { HEADERS, PRIORITIES, type Priority } from '../../messaging/subjects.js';
import type { ConsumerDeclaration } from '../../messaging/topology.js';
import type { JobSpec } from './job-spec.js';
import type { LedgerEntry } from './attempt-ledger.js';

/** What a job message says about its run, read from the envelope once. */
export interface JobMessageParts {
  payload: unknown;
  scheduledFor?: Date;
  companyId?: string;
  /** The run has a planned job_runs row (published through the outbox). */
  planned: boolean;
  scheduleId?: string;
  parentRunId?: string;
  /** A flow's parent: its handler sees its children's results. */
  flow: boolean;
  /** Per-run overrides of the handler's options. */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  timeoutMs?: number;
  /**
   * A job handed off alone from a pack (pack-hand-off.ts): attempts it used before, when it may run, whether a
   * redelivered pack handed it off, and whether the last of those attempts was cut short in the pack.
   */
  attemptOffset?: number;
  notBefore?: Date;
  rehanded?: boolean;
  lostInPack?: boolean;
}

/** One delivery of a job message, as the runtime carries it from intake to settlement. */
export interface Delivery {
  msg: JsMsg;
  /** What the runtime tracks it by while it runs: its stream sequence (and place, for a job of a pack). */
  key: string;
  event: CloudEvent;
  spec: JobSpec;
  parts: JobMessageParts;
  priority: Priority;
  declaration: ConsumerDeclaration;
  /** This delivery's attempt number (deliveries minus deferrals, plus the offset). */
  attempt: number;
  /** Attempts that started and never reported before this delivery (recorded as lost). */
  lost: number[];
  ledger: LedgerEntry;
  maxAttempts: number;
  backoff: BackoffPolicy;
  timeoutMs: number;
}

/** jobs.<priority>.<job>: the priority (normal when the token is not one). */
export function priorityOf(subject: string): Priority {
  const start = subject.indexOf('.') + 1;
  const end = subject.indexOf('.', start);
  const token = subject.slice(start, end < 0 ? undefined : end);
  return (PRIORITIES as readonly string[]).includes(token) ? (token as Priority) : 'normal';
}

/** jobs.<priority>.<job>: the job name, for a message not yet parsed. */
export function jobOfSubject(subject: string): string {
  return subject.split('.').slice(2).join('.') || 'unknown';
}

/** What a hand-off from a pack adds to a job message (read only when it has them). */
function handedOff(data: Record<string, unknown>): Pick<JobMessageParts, 'attemptOffset' | 'notBefore' | 'rehanded' | 'lostInPack'> {
  const at = str(data.notBefore);
  const notBefore = at ? new Date(at) : undefined;
  return {
    attemptOffset: posInt(data.attemptOffset),
    notBefore: notBefore && !Number.isNaN(notBefore.getTime()) ? notBefore : undefined,
    rehanded: data.rehanded === true,
    lostInPack: data.lostInPack === true,
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const posInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);

/** The parts of a job message, whether it is a JobMessage (runId, payload, …) or a bare payload. */
export function jobMessageOf(event: CloudEvent, msg?: JsMsg): JobMessageParts {
  const data = event.data as Record<string, unknown> | null;
  // Headers are decoded on first access: read them only when the body does not say.
  const header = (name: string) => msg?.headers?.get(name) || undefined;
  const companyId = event.companyid ?? str(data?.companyId);
  if (data && typeof data === 'object' && typeof data.runId === 'string' && 'payload' in data) {
    const at = str(data.scheduledFor) ?? header(HEADERS.scheduledFor);
    const options = (data.options && typeof data.options === 'object' ? data.options : {}) as Record<string, unknown>;
    return {
      payload: data.payload,
      scheduledFor: at ? new Date(at) : undefined,
      companyId,
      planned: data.planned === true,
      scheduleId: str(data.scheduleId),
      parentRunId: str(data.parentRunId),
      flow: data.flow === true,
      maxAttempts: posInt(data.maxAttempts),
      backoff: options.backoff as BackoffPolicy | undefined,
      timeoutMs: posInt(options.timeoutMs),
      ...(data.attemptOffset !== undefined || data.notBefore !== undefined || data.rehanded !== undefined || data.lostInPack !== undefined ? handedOff(data) : {}),
    };
  }
  const at = header(HEADERS.scheduledFor);
  return { payload: data, scheduledFor: at ? new Date(at) : undefined, companyId, planned: false, flow: false };
}
