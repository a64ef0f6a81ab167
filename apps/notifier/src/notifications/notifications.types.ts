export interface NewNotification {
  id: string;
  companyId: string;
  userId: string;
  sourceEventId: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  critical: boolean;
  /** False when the recipient opted out of in-app notifications of this type. */
  inApp: boolean;
}

export interface Notification extends NewNotification {
  createdAt: Date;
  readAt: Date | null;
}

export interface NotificationCursor {
  createdAt: Date;
  id: string;
}
