import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** The member directory projected from member.upserted / member.removed. */
@Entity('notifier_members')
export class NotifierMemberEntity {
  @PrimaryColumn({ name: 'company_id', type: 'text' }) companyId: string;
  @PrimaryColumn({ name: 'user_id', type: 'text' }) userId: string;
  @Column({ type: 'text', array: true }) roles: string[];
  @Column({ type: 'text', nullable: true }) email: string | null;
  @Column({ type: 'text', nullable: true }) locale: string | null;
  @Column({ type: 'text', nullable: true }) timezone: string | null;
  @Column({ name: 'opt_out', type: 'jsonb' }) optOut: { type: string; channel: string }[];
  @Column({ name: 'quiet_start', type: 'text', nullable: true }) quietStart: string | null;
  @Column({ name: 'quiet_end', type: 'text', nullable: true }) quietEnd: string | null;
  @Column({ type: 'boolean' }) removed: boolean;
  @Column({ name: 'event_order', type: 'bigint' }) eventOrder: string;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** One in-app notification per (source event, recipient). */
@Entity('notifications')
export class NotificationEntity {
  @PrimaryColumn({ type: 'uuid' }) id: string;
  @Column({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ name: 'user_id', type: 'text' }) userId: string;
  @Column({ name: 'source_event_id', type: 'text' }) sourceEventId: string;
  @Column({ type: 'text' }) type: string;
  @Column({ type: 'text' }) title: string;
  @Column({ type: 'text' }) body: string;
  @Column({ type: 'jsonb' }) data: Record<string, unknown>;
  @Column({ type: 'boolean' }) critical: boolean;
  @Column({ name: 'in_app', type: 'boolean' }) inApp: boolean;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'read_at', type: 'timestamptz', nullable: true }) readAt: Date | null;
}

/** A tenant's webhook endpoint. */
@Entity('notifier_webhooks')
export class NotifierWebhookEntity {
  @PrimaryColumn({ type: 'uuid' }) id: string;
  @Column({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ type: 'text' }) url: string;
  @Column({ type: 'text' }) secret: string;
  @Column({ type: 'text', array: true }) types: string[];
  @Column({ type: 'boolean' }) enabled: boolean;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** Every delivery attempt (email, webhook or push) and its outcome. */
@Entity('notification_deliveries')
export class NotificationDeliveryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ name: 'notification_id', type: 'uuid', nullable: true }) notificationId: string | null;
  @Column({ name: 'run_id', type: 'text', nullable: true }) runId: string | null;
  @Column({ type: 'text' }) channel: string;
  @Column({ type: 'text', nullable: true }) target: string | null;
  @Column({ type: 'int' }) attempt: number;
  @Column({ type: 'text' }) outcome: string;
  @Column({ type: 'text', nullable: true }) error: string | null;
  @Column({ name: 'status_code', type: 'int', nullable: true }) statusCode: number | null;
  @Column({ name: 'attempted_at', type: 'timestamptz' }) attemptedAt: Date;
}

/** The rate limit of job alerts: one alert per (tenant, alert key) until window_ends_at. */
@Entity('notifier_alert_windows')
export class NotifierAlertWindowEntity {
  @PrimaryColumn({ name: 'company_id', type: 'text' }) companyId: string;
  @PrimaryColumn({ name: 'alert_key', type: 'text' }) alertKey: string;
  @Column({ name: 'window_ends_at', type: 'timestamptz' }) windowEndsAt: Date;
}

/** Every job alert event seen, and what was decided: alerted (with the count it sums up) or folded. */
@Entity('notifier_alert_events')
export class NotifierAlertEventEntity {
  @PrimaryColumn({ name: 'company_id', type: 'text' }) companyId: string;
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId: string;
  @Column({ name: 'alert_key', type: 'text' }) alertKey: string;
  @Column({ type: 'text' }) decision: 'alert' | 'folded';
  @Column({ type: 'int' }) folded: number;
  @Column({ name: 'summarized_by', type: 'text', nullable: true }) summarizedBy: string | null;
  @Column({ type: 'jsonb' }) data: Record<string, unknown>;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt: Date;
}

/** A user's Web Push subscription (one browser). */
@Entity('notifier_push_subscriptions')
export class NotifierPushSubscriptionEntity {
  @PrimaryColumn({ type: 'uuid' }) id: string;
  @Column({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ name: 'user_id', type: 'text' }) userId: string;
  @Column({ type: 'text' }) endpoint: string;
  @Column({ type: 'text' }) p256dh: string;
  @Column({ type: 'text' }) auth: string;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt: Date | null;
  @Column({ name: 'user_agent', type: 'text', nullable: true }) userAgent: string | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true }) lastSuccessAt: Date | null;
}

export const NOTIFIER_ENTITIES = [
  NotifierMemberEntity,
  NotificationEntity,
  NotifierWebhookEntity,
  NotificationDeliveryEntity,
  NotifierAlertWindowEntity,
  NotifierAlertEventEntity,
  NotifierPushSubscriptionEntity,
];
