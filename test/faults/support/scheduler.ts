import { freePort } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { insertSchedule, SCHEDULER_ENTRY, type SchedulerTestEnv } from '../../integration/scheduler/scheduler-support.js';

export { insertSchedule, SchedulerTestEnv } from '../../integration/scheduler/scheduler-support.js';

/** A built scheduler as its own process against the env's NATS and database. */
export async function schedulerProcess(env: SchedulerTestEnv, name: string, extra: Record<string, string> = {}): Promise<ServiceProcess> {
  return new ServiceProcess(SCHEDULER_ENTRY, {
    ...env.env,
    SCHEDULER_PORT: String(await freePort()),
    SCHEDULER_POLL_MS: '50',
    NATS_PROVISION_ON_START: 'false',
    TICK_INTERVAL_MS: '3600000',
    INSTANCE_ID: name,
    LOG_LEVEL: 'info',
    ...extra,
  }).start();
}

/** `count` one-second interval schedules of `job`, first occurrence at `start` (fire_all: a stalled host cannot collapse occurrences). */
export async function secondSchedules(env: SchedulerTestEnv, job: string, count: number): Promise<string[]> {
  const later = new Date(Date.now() + 3_600_000);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await insertSchedule(env.database, { name: `${job}-${i}`, kind: 'interval', job, intervalMs: 1_000, startsAt: new Date(0), nextFireAt: later }));
  }
  return ids;
}

export async function beginAt(env: SchedulerTestEnv, ids: string[], start: Date): Promise<void> {
  await env.database.query(`UPDATE schedules SET next_fire_at = $1, missed_policy = 'fire_all' WHERE id = ANY($2)`, [start, ids]);
}

/**
 * Job messages stored in JOBS on a subject, oldest first, read by direct get:
 * JOBS is a work-queue stream, which refuses a probe consumer overlapping the
 * workers' own, and a direct read leaves the messages where they are.
 */
export async function jobMessages(env: SchedulerTestEnv, subject: string): Promise<{ id: string; data: { runId: string } }[]> {
  const { state } = await env.jsm.streams.info('JOBS');
  const out: { id: string; data: { runId: string } }[] = [];
  for (let seq = Math.max(1, state.first_seq); state.messages > 0 && seq <= state.last_seq;) {
    const m = await env.jsm.direct.getMessage('JOBS', { seq, next_by_subj: subject });
    if (!m || m.seq > state.last_seq) break;
    out.push(m.json());
    seq = m.seq + 1;
  }
  return out;
}

export interface OccurrenceCount {
  schedules: number;
  /** Occurrences from the first to the last one planned, per schedule, summed: what should exist. */
  expected: number;
  runs: number;
  /** Occurrences missing between a schedule's first and last run, plus runs never published. */
  lost: number;
  /** Occurrences planned twice, plus messages stored twice in JOBS. */
  duplicated: number;
  messages: number;
  detail: string[];
}

/**
 * Checks every occurrence of the schedules: consecutive seconds from `start`,
 * each planned once (a planned row in job_runs: schedule firings keep theirs),
 * published (state queued, outbox marked) and stored once in the JOBS stream
 * under its run id.
 */
export async function countOccurrences(env: SchedulerTestEnv, ids: string[], job: string, start: Date): Promise<OccurrenceCount> {
  const rows = await env.database.query<{ schedule_id: string; occurrence_at: Date; id: string; state: string }>(
    'SELECT schedule_id, occurrence_at, id, state FROM job_runs WHERE schedule_id = ANY($1) ORDER BY schedule_id, occurrence_at',
    [ids],
  );
  const detail: string[] = [];
  let expected = 0;
  let lost = 0;
  let duplicated = 0;
  for (const id of ids) {
    const times = rows.filter((r) => r.schedule_id === id).map((r) => r.occurrence_at.getTime());
    if (times.length === 0) {
      detail.push(`${id}: no runs`);
      continue;
    }
    if (times[0] !== start.getTime()) detail.push(`${id}: first occurrence ${new Date(times[0]).toISOString()} != ${start.toISOString()}`);
    const last = times[times.length - 1];
    const n = Math.round((last - start.getTime()) / 1000) + 1;
    expected += n;
    const distinct = new Set(times).size;
    duplicated += times.length - distinct;
    lost += n - distinct;
    if (n !== distinct) detail.push(`${id}: ${n - distinct} occurrences missing`);
  }
  const unpublished = rows.filter((r) => r.state !== 'queued');
  lost += unpublished.length;
  if (unpublished.length) detail.push(`${unpublished.length} runs not published: ${unpublished.slice(0, 5).map((r) => `${r.id}=${r.state}`).join(', ')}`);
  const messages = await jobMessages(env, `jobs.normal.${job}`);
  const runIds = new Set(rows.map((r) => r.id));
  const messageIds = new Set(messages.map((m) => m.id));
  duplicated += messages.length - messageIds.size;
  const missing = [...runIds].filter((id) => !messageIds.has(id));
  const stray = [...messageIds].filter((id) => !runIds.has(id));
  if (missing.length) detail.push(`${missing.length} runs have no message in JOBS`);
  if (stray.length) detail.push(`${stray.length} messages belong to no run`);
  lost += missing.length;
  return { schedules: ids.length, expected, runs: rows.length, lost, duplicated, messages: messages.length, detail };
}
