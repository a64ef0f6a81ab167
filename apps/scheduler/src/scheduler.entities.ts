import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A schedule (migrations/1763820000000-schedules.ts); queries live in SchedulesRepository. */
@Entity({ name: 'schedules' })
export class ScheduleEntity {
  @PrimaryColumn({ type: 'text' }) id: string;
  @Column({ type: 'text', unique: true }) name: string;
  @Column({ type: 'text' }) kind: string;
  @Column({ type: 'text' }) job: string;
  @Column({ type: 'text', nullable: true }) cron: string | null;
  @Column({ type: 'bigint', name: 'interval_ms', nullable: true }) intervalMs: string | null;
  @Column({ type: 'timestamptz', name: 'run_at', nullable: true }) runAt: Date | null;
  @Column({ type: 'text', name: 'event_type', nullable: true }) eventType: string | null;
  @Column({ type: 'text', default: 'UTC' }) timezone: string;
  @Column({ type: 'text', default: 'global' }) scope: string;
  @Column({ type: 'text', name: 'company_id', nullable: true }) companyId: string | null;
  @Column({ type: 'jsonb', default: {} }) payload: Record<string, unknown>;
  @Column({ type: 'text', default: 'normal' }) priority: string;
  @Column({ type: 'int', name: 'max_attempts', default: 5 }) maxAttempts: number;
  @Column({ type: 'jsonb', nullable: true }) backoff: unknown;
  @Column({ type: 'int', name: 'timeout_ms', nullable: true }) timeoutMs: number | null;
  @Column({ type: 'int', nullable: true }) concurrency: number | null;
  @Column({ type: 'text', name: 'missed_policy', default: 'fire_once' }) missedPolicy: string;
  @Column({ type: 'int', name: 'max_catch_up', default: 100 }) maxCatchUp: number;
  @Column({ type: 'timestamptz', name: 'starts_at', nullable: true }) startsAt: Date | null;
  @Column({ type: 'timestamptz', name: 'ends_at', nullable: true }) endsAt: Date | null;
  @Column({ type: 'int', name: 'max_runs', nullable: true }) maxRuns: number | null;
  @Column({ type: 'int', name: 'run_count', default: 0 }) runCount: number;
  @Column({ type: 'boolean', default: true }) enabled: boolean;
  @Column({ type: 'boolean', default: false }) paused: boolean;
  @Column({ type: 'timestamptz', name: 'next_fire_at', nullable: true }) nextFireAt: Date | null;
  @Column({ type: 'jsonb', name: 'zone_cursors', nullable: true }) zoneCursors: Record<string, string> | null;
  @Column({ type: 'timestamptz', name: 'last_fire_at', nullable: true }) lastFireAt: Date | null;
  @Column({ type: 'text', default: 'api' }) source: string;
  /** The service that declares it with @Cron/@Interval/@Timeout (MetronomeScheduleModule), which retires it once undeclared. */
  @Column({ type: 'text', name: 'declared_by', nullable: true }) declaredBy: string | null;
  @Column({ type: 'text', nullable: true }) description: string | null;
  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' }) createdAt: Date;
  @Column({ type: 'timestamptz', name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}

/** The tenant registry (apps/scheduler/src/tenants): the one source of a tenant's timezone and locale. */
@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn({ type: 'text', name: 'company_id' }) companyId: string;
  @Column({ type: 'text', nullable: true }) name: string | null;
  @Column({ type: 'text', default: 'UTC' }) timezone: string;
  @Column({ type: 'text', default: 'en' }) locale: string;
  @Column({ type: 'boolean', default: true }) active: boolean;
  @Column({ type: 'boolean', default: false }) paused: boolean;
  @Column({ type: 'bigint', default: 1 }) version: string;
  @Column({ type: 'bigint', name: 'published_version', default: 0 }) publishedVersion: string;
  @Column({ type: 'int', name: 'scan_hour', default: 8 }) scanHour: number;
  @Column({ type: 'bigint', name: 'scan_hour_version', default: 0 }) scanHourVersion: string;
  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' }) createdAt: Date;
  @Column({ type: 'timestamptz', name: 'updated_at', default: () => 'now()' }) updatedAt: Date;
}

export const SCHEDULER_ENTITIES = [ScheduleEntity, TenantEntity];
