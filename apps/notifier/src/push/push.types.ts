/** A browser's push subscription (the PushSubscription JSON, RFC 8030 endpoint + RFC 8291 keys) owned by one user. */
export interface PushSubscription {
  id: string;
  companyId: string;
  userId: string;
  endpoint: string;
  /** The browser's P-256 public key, base64url (65 bytes). */
  p256dh: string;
  /** The browser's authentication secret, base64url (16 bytes). */
  auth: string;
  expiresAt: Date | null;
  userAgent: string | null;
  createdAt: Date;
  lastSuccessAt: Date | null;
}

export interface NewPushSubscription {
  endpoint: string;
  p256dh: string;
  auth: string;
  expiresAt: Date | null;
  userAgent: string | null;
}
