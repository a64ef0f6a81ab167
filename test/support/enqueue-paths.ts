/** The objects a tenant caller aims at for one job: its tenant schedule, a paused one, a dead letter of it, a schedule of an allowed job. */
export interface EnqueueTargets {
  running: string;
  paused: string;
  dlqId: string;
  allowedSchedule: string;
}

/**
 * Every admin API path that makes a job run, or arms a schedule that will:
 * schedule create, change (to the job, or of its schedule), resume, trigger;
 * job trigger; dead-letter retry (one, and by job). [what, method, path, body].
 */
export function enqueuePaths(job: string, companyId: string, t: EnqueueTargets, tag: string): [string, string, string, unknown][] {
  return [
    ['schedule create', 'POST', '/api/v1/schedules', { name: `try-${tag}-${job}`, kind: 'cron', cron: '0 4 * * *', job, scope: 'tenant', companyId }],
    ['schedule change to the job', 'PATCH', `/api/v1/schedules/${t.allowedSchedule}`, { job }],
    ['schedule change of its schedule', 'PATCH', `/api/v1/schedules/${t.running}`, { payload: { asOf: '2030-01-01T00:00:00Z' } }],
    ['schedule resume', 'POST', `/api/v1/schedules/${t.paused}/resume`, undefined],
    ['schedule trigger', 'POST', `/api/v1/schedules/${t.running}/trigger`, { payload: {} }],
    ['job trigger', 'POST', `/api/v1/jobs/${job}/trigger`, { payload: {}, companyId }],
    ['dead letter retry', 'POST', `/api/v1/dlq/${t.dlqId}/retry`, undefined],
    ['dead letters retry by job', 'POST', '/api/v1/dlq/retry', { job }],
  ];
}
