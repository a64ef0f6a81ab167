import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { MissedRunPolicy } from '../time/index.js';
import type { ScheduleDraft } from './schedule-timing.js';
import type { Schedule, ScheduleKind, ScheduleScope } from './schedule.types.js';

type Runner = Pick<EntityManager, 'query'>;

interface ScheduleRow {
  id: string;
  name: string;
  kind: string;
  job: string;
  cron: string | null;
  interval_ms: string | null;
  run_at: Date | null;
  event_type: string | null;
  timezone: string;
  scope: string;
  company_id: string | null;
  payload: Record<string, unknown>;
  priority: string;
  max_attempts: number;
  backoff: Schedule['options']['backoff'];
  timeout_ms: number | null;
  concurrency: number | null;
  missed_policy: string;
  max_catch_up: number;
  starts_at: Date | null;
  ends_at: Date | null;
  max_runs: number | null;
  run_count: number;
  enabled: boolean;
  paused: boolean;
  next_fire_at: Date | null;
  zone_cursors: Record<string, string> | null;
  last_fire_at: Date | null;
  source: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

function toSchedule(r: ScheduleRow): Schedule {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as ScheduleKind,
    job: r.job,
    cron: r.cron,
    intervalMs: r.interval_ms === null ? null : Number(r.interval_ms),
    runAt: r.run_at,
    eventType: r.event_type,
    timezone: r.timezone,
    scope: r.scope as ScheduleScope,
    companyId: r.company_id,
    payload: r.payload ?? {},
    options: {
      priority: r.priority as Schedule['options']['priority'],
      maxAttempts: r.max_attempts,
      backoff: r.backoff,
      timeoutMs: r.timeout_ms,
      concurrency: r.concurrency,
    },
    missedPolicy: r.missed_policy as MissedRunPolicy,
    maxCatchUp: r.max_catch_up,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    maxRuns: r.max_runs,
    runCount: r.run_count,
    enabled: r.enabled,
    paused: r.paused,
    nextFireAt: r.next_fire_at,
    zoneCursors: r.zone_cursors,
    lastFireAt: r.last_fire_at,
    source: r.source as Schedule['source'],
    description: r.description,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The stored columns of a draft, in COLUMNS order. */
const COLUMNS = [
  'name', 'kind', 'job', 'cron', 'interval_ms', 'run_at', 'event_type', 'timezone', 'scope', 'company_id', 'payload', 'priority',
  'max_attempts', 'backoff', 'timeout_ms', 'concurrency', 'missed_policy', 'max_catch_up', 'starts_at', 'ends_at', 'max_runs',
  'enabled', 'description',
] as const;

function draftValues(d: ScheduleDraft): unknown[] {
  return [
    d.name, d.kind, d.job, d.cron, d.intervalMs, d.runAt, d.eventType, d.timezone, d.scope, d.companyId, JSON.stringify(d.payload),
    d.options.priority, d.options.maxAttempts, d.options.backoff ? JSON.stringify(d.options.backoff) : null, d.options.timeoutMs,
    d.options.concurrency, d.missedPolicy, d.maxCatchUp, d.startsAt, d.endsAt, d.maxRuns, d.enabled, d.description,
  ];
}

/** Where a claim moves a schedule. */
export interface ScheduleAdvance {
  id: string;
  nextFireAt: Date | null;
  zoneCursors: Record<string, string> | null;
  fired: number;
  lastFireAt: Date | null;
}

/** The only file that reads and writes the schedules table. */
@Injectable()
export class SchedulesRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  private get db(): Runner {
    return this.dataSource.manager;
  }

  async insert(id: string, d: ScheduleDraft, source: 'code' | 'api', createdAt: Date, nextFireAt: Date | null, db: Runner = this.db): Promise<Schedule> {
    const cols = [...COLUMNS, 'id', 'source', 'created_at', 'updated_at', 'next_fire_at'];
    const values = [...draftValues(d), id, source, createdAt, createdAt, nextFireAt];
    const rows: ScheduleRow[] = await db.query(
      `INSERT INTO schedules (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      values,
    );
    return toSchedule(rows[0]);
  }

  /**
   * Inserts a tenant's schedule unless it already has `max` (then null). A
   * per-tenant advisory lock makes concurrent creates of one tenant count one
   * after the other, so the cap holds under any concurrency.
   */
  async insertCapped(id: string, d: ScheduleDraft & { companyId: string }, source: 'code' | 'api', createdAt: Date, nextFireAt: Date | null, max: number): Promise<Schedule | null> {
    return this.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`schedules:${d.companyId}`]);
      const [{ n }]: { n: number }[] = await tx.query('SELECT count(*)::int AS n FROM schedules WHERE company_id = $1', [d.companyId]);
      if (n >= max) return null;
      return this.insert(id, d, source, createdAt, nextFireAt, tx);
    });
  }

  /** Replaces the definition; timing fields and cursors are given by the caller. */
  async replace(id: string, d: ScheduleDraft, changes: { nextFireAt: Date | null; resetCursors: boolean; updatedAt: Date; source?: 'code' | 'api' }): Promise<Schedule> {
    const sets = COLUMNS.map((c, i) => `${c} = $${i + 2}`);
    const params: unknown[] = [id, ...draftValues(d), changes.nextFireAt, changes.updatedAt];
    sets.push(`next_fire_at = $${COLUMNS.length + 2}`, `updated_at = $${COLUMNS.length + 3}`);
    if (changes.resetCursors) sets.push('zone_cursors = NULL');
    if (changes.source) {
      params.push(changes.source);
      sets.push(`source = $${params.length}`);
    }
    const rows: [ScheduleRow[], number] = await this.db.query(`UPDATE schedules SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, params);
    return toSchedule(rows[0][0]);
  }

  async setState(id: string, state: { enabled?: boolean; paused?: boolean; nextFireAt?: Date | null; resetCursors?: boolean }, updatedAt: Date): Promise<Schedule | null> {
    const sets: string[] = ['updated_at = $2'];
    const params: unknown[] = [id, updatedAt];
    if (state.enabled !== undefined) sets.push(`enabled = $${params.push(state.enabled)}`);
    if (state.paused !== undefined) sets.push(`paused = $${params.push(state.paused)}`);
    if (state.nextFireAt !== undefined) sets.push(`next_fire_at = $${params.push(state.nextFireAt)}`);
    if (state.resetCursors) sets.push('zone_cursors = NULL');
    const rows: [ScheduleRow[], number] = await this.db.query(`UPDATE schedules SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, params);
    return rows[0][0] ? toSchedule(rows[0][0]) : null;
  }

  async findById(id: string): Promise<Schedule | null> {
    const rows: ScheduleRow[] = await this.db.query('SELECT * FROM schedules WHERE id = $1', [id]);
    return rows[0] ? toSchedule(rows[0]) : null;
  }

  async findByName(name: string): Promise<Schedule | null> {
    const rows: ScheduleRow[] = await this.db.query('SELECT * FROM schedules WHERE name = $1', [name]);
    return rows[0] ? toSchedule(rows[0]) : null;
  }

  async list(filter: { companyId?: string; kind?: ScheduleKind; limit?: number; offset?: number } = {}): Promise<Schedule[]> {
    const rows: ScheduleRow[] = await this.db.query(
      `SELECT * FROM schedules
        WHERE ($1::text IS NULL OR company_id = $1) AND ($2::text IS NULL OR kind = $2)
        ORDER BY name LIMIT $3 OFFSET $4`,
      [filter.companyId ?? null, filter.kind ?? null, filter.limit ?? 100, filter.offset ?? 0],
    );
    return rows.map(toSchedule);
  }

  /**
   * Schedules by name after `after` (keyset), at most `limit`: of one company, or those a tenant sees
   * (`visibleTo`: its own tenant schedules and every per-tenant one).
   */
  async pageByName(filter: { companyId?: string; visibleTo?: string; after?: string; limit: number }): Promise<Schedule[]> {
    const rows: ScheduleRow[] = await this.db.query(
      `SELECT * FROM schedules
        WHERE ($1::text IS NULL OR company_id = $1)
          AND ($2::text IS NULL OR scope = 'per_tenant' OR (scope = 'tenant' AND company_id = $2))
          AND ($3::text IS NULL OR name > $3)
        ORDER BY name LIMIT $4`,
      [filter.companyId ?? null, filter.visibleTo ?? null, filter.after ?? null, filter.limit],
    );
    return rows.map(toSchedule);
  }

  async delete(id: string): Promise<boolean> {
    const rows: [unknown[], number] = await this.db.query('DELETE FROM schedules WHERE id = $1 RETURNING id', [id]);
    return rows[1] > 0;
  }

  /**
   * Marks schedules as declared in code by `service` (MetronomeScheduleModule):
   * the service owns them, and retires those it no longer declares.
   */
  async markDeclared(names: string[], service: string): Promise<void> {
    if (names.length === 0) return;
    await this.db.query(`UPDATE schedules SET declared_by = $2 WHERE name = ANY($1::text[]) AND declared_by IS DISTINCT FROM $2`, [names, service]);
  }

  /** Deletes the schedules `service` declared earlier and declares no more (a method renamed or removed); returns their names. */
  async retireUndeclared(service: string, declared: string[]): Promise<string[]> {
    const rows: [{ name: string }[], number] = await this.db.query(
      `DELETE FROM schedules WHERE declared_by = $1 AND NOT (name = ANY($2::text[])) RETURNING name`,
      [service, declared],
    );
    return rows[0].map((r) => r.name).sort();
  }

  /** Schedules whose name starts with `prefix` (a service's own: `<service>.`), by name. */
  async listByPrefix(prefix: string, limit = 1_000): Promise<Schedule[]> {
    const rows: ScheduleRow[] = await this.db.query(
      `SELECT * FROM schedules WHERE starts_with(name, $1) ORDER BY name LIMIT $2`,
      [prefix, limit],
    );
    return rows.map(toSchedule);
  }

  /** Names of the schedules `service` declared. */
  async declaredBy(service: string): Promise<string[]> {
    const rows: { name: string }[] = await this.db.query(`SELECT name FROM schedules WHERE declared_by = $1 ORDER BY name`, [service]);
    return rows.map((r) => r.name);
  }

  /** Due, enabled, unpaused schedules, locked for this transaction; other replicas skip them. */
  async lockDue(tx: Runner, now: Date, limit: number): Promise<Schedule[]> {
    const rows: ScheduleRow[] = await tx.query(
      `SELECT * FROM schedules
        WHERE enabled AND NOT paused AND next_fire_at IS NOT NULL AND next_fire_at <= $1
        ORDER BY next_fire_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
    return rows.map(toSchedule);
  }

  /** Moves claimed schedules' cursors and counters in one UPDATE. */
  async advance(tx: Runner, updates: ScheduleAdvance[], now: Date): Promise<void> {
    if (updates.length === 0) return;
    await tx.query(
      `UPDATE schedules s
          SET next_fire_at = u.next_fire_at,
              zone_cursors = u.zone_cursors,
              run_count = s.run_count + u.fired,
              last_fire_at = coalesce(u.last_fire_at, s.last_fire_at),
              updated_at = $6
         FROM unnest($1::text[], $2::timestamptz[], $3::jsonb[], $4::int[], $5::timestamptz[]) AS u(id, next_fire_at, zone_cursors, fired, last_fire_at)
        WHERE s.id = u.id`,
      [
        updates.map((u) => u.id),
        updates.map((u) => u.nextFireAt?.toISOString() ?? null),
        updates.map((u) => (u.zoneCursors ? JSON.stringify(u.zoneCursors) : null)),
        updates.map((u) => u.fired),
        updates.map((u) => u.lastFireAt?.toISOString() ?? null),
        now,
      ],
    );
  }

  /** The earliest pending fire time, so the claim loop can sleep exactly until then. */
  async nextDueAt(): Promise<Date | null> {
    const rows: { at: Date | null }[] = await this.db.query(
      `SELECT min(next_fire_at) AS at FROM schedules WHERE enabled AND NOT paused AND next_fire_at IS NOT NULL`,
    );
    return rows[0]?.at ?? null;
  }

  /** Enabled, unpaused event schedules for a type, locked (their run counters change). */
  async lockEventSchedules(tx: Runner, eventType: string): Promise<Schedule[]> {
    const rows: ScheduleRow[] = await tx.query(
      `SELECT * FROM schedules WHERE kind = 'event' AND event_type = $1 AND enabled AND NOT paused ORDER BY id FOR UPDATE`,
      [eventType],
    );
    return rows.map(toSchedule);
  }

  async eventTypes(): Promise<string[]> {
    const rows: { event_type: string }[] = await this.db.query(`SELECT DISTINCT event_type FROM schedules WHERE kind = 'event'`);
    return rows.map((r) => r.event_type);
  }

  /** When any schedule last fired (null: never). */
  async lastFireAt(): Promise<Date | null> {
    const rows: { at: Date | null }[] = await this.db.query(`SELECT max(last_fire_at) AS at FROM schedules`);
    return rows[0].at;
  }

  async countActive(): Promise<number> {
    const rows: { n: string }[] = await this.db.query(`SELECT count(*) AS n FROM schedules WHERE enabled AND NOT paused`);
    return Number(rows[0].n);
  }

  /**
   * A tenant now uses `timezone`: schedules read in tenant time that have no
   * cursor there become due now, so the next claim adds one.
   *
   * Schedules already due are matched too (their next_fire_at is kept): one may
   * be in the middle of a claim that read the tenants before this one joined.
   * This UPDATE then waits for that claim's row lock, sees the row as the claim
   * left it (advanced, still no cursor for the zone) and makes it due again;
   * filtering out due rows instead let the claim push the schedule to its next
   * occurrence elsewhere and the new zone's first occurrence was lost.
   */
  async armTenantZone(timezone: string, now: Date, db: Runner = this.db): Promise<number> {
    const rows: [unknown[], number] = await db.query(
      `UPDATE schedules SET next_fire_at = LEAST(next_fire_at, $2)
        WHERE timezone = 'tenant' AND kind IN ('cron', 'interval') AND enabled
          AND NOT coalesce(zone_cursors ? $1, false)
          AND (max_runs IS NULL OR run_count < max_runs)
        RETURNING id`,
      [timezone, now],
    );
    return rows[1];
  }
}
