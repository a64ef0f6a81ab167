import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { listKvKeys, WORKERS_BUCKET, type RunningAttempt, type WorkerBeat } from '../../libs/common/src/index.js';
import type { TestDatabase } from './database.js';

/**
 * A run's state as its history tells it: its latest attempt (state = outcome,
 * attempts = attempt number), else its planned job_runs row; undefined when
 * neither exists yet (a job waiting in JetStream or running leaves no row).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function runState(db: TestDatabase, id: string): Promise<Record<string, any>> {
  const [a] = await db.query<Record<string, unknown>>(
    `SELECT run_id AS id, job, queue, company_id, outcome AS state, attempt AS attempts, error, result, started_at, finished_at, scheduled_for,
            enqueued_at AS published_at, worker, final
       FROM job_attempts WHERE run_id = $1 ORDER BY attempt DESC, final DESC, finished_at DESC LIMIT 1`,
    [id],
  );
  if (a) return a;
  const [r] = await db.query<Record<string, unknown>>('SELECT * FROM job_runs WHERE id = $1', [id]);
  return r as Record<string, unknown>;
}

/** What the workers run now, from their heartbeats in the `workers` KV bucket. */
export async function runningRuns(nc: NatsConnection): Promise<(RunningAttempt & { worker: string })[]> {
  const kv = await new Kvm(jetstream(nc)).open(WORKERS_BUCKET);
  const out: (RunningAttempt & { worker: string })[] = [];
  for (const key of await listKvKeys(await jetstreamManager(nc), WORKERS_BUCKET)) {
    const e = await kv.get(key);
    if (!e || e.operation !== 'PUT' || !e.value.length) continue;
    const beat = e.json<WorkerBeat>();
    for (const r of beat.running) out.push({ ...r, worker: beat.instance });
  }
  return out;
}
