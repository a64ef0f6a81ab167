import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

/** How an encrypted value is stored wherever the plain value would be (JSON). */
export interface EncryptedValue {
  $enc: 'v1';
  /** The id of the key it is encrypted under (ENCRYPTION_KEYS). */
  kid: string;
  iv: string;
  ct: string;
  tag: string;
}

export const REDACTED = '[redacted]';
const AAD = Buffer.from('metronome:field:v1');

export function isEncrypted(value: unknown): value is EncryptedValue {
  return !!value && typeof value === 'object' && (value as { $enc?: unknown }).$enc === 'v1' && typeof (value as { kid?: unknown }).kid === 'string';
}

export class EncryptionNotConfiguredError extends Error {
  constructor(what: string) {
    super(`${what}: no encryption key is configured (set ENCRYPTION_KEYS and ENCRYPTION_ACTIVE_KEY)`);
    this.name = 'EncryptionNotConfiguredError';
  }
}

export class UnknownKeyError extends Error {
  constructor(readonly kid: string) {
    super(`value is encrypted under key "${kid}", which is not in ENCRYPTION_KEYS`);
    this.name = 'UnknownKeyError';
  }
}

/** Splits 'payload.a.b' (or 'a.b') into path segments relative to the payload; '*' matches every key or element. */
export function sensitivePath(path: string): string[] {
  const parts = path.split('.').filter(Boolean);
  return parts[0] === 'payload' ? parts.slice(1) : parts;
}

/**
 * AES-256-GCM encryption of single JSON values, keyed by id so keys can
 * rotate: every ciphertext carries the id of its key, new values use the
 * active key, old ones stay readable while their key is configured.
 */
export class FieldCipher {
  constructor(private readonly keys: Record<string, Buffer>, readonly activeKeyId?: string) {
    for (const [kid, key] of Object.entries(keys)) if (key.length !== 32) throw new Error(`encryption key "${kid}" is ${key.length} bytes, expected 32`);
    if (activeKeyId && !keys[activeKeyId]) throw new Error(`active encryption key "${activeKeyId}" is not configured`);
  }

  static fromConfig(config: Pick<AppConfig, 'encryption'>): FieldCipher {
    return new FieldCipher(config.encryption?.keys ?? {}, config.encryption?.activeKeyId);
  }

  get enabled(): boolean {
    return this.activeKeyId !== undefined;
  }

  hasKey(kid: string): boolean {
    return this.keys[kid] !== undefined;
  }

  encrypt(value: unknown, kid = this.activeKeyId): EncryptedValue {
    if (!kid) throw new EncryptionNotConfiguredError('encrypting a sensitive field');
    const key = this.keys[kid];
    if (!key) throw new UnknownKeyError(kid);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(AAD);
    const ct = Buffer.concat([cipher.update(JSON.stringify(value === undefined ? null : value), 'utf8'), cipher.final()]);
    return { $enc: 'v1', kid, iv: iv.toString('base64'), ct: ct.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
  }

  decrypt(value: EncryptedValue): unknown {
    const key = this.keys[value.kid];
    if (!key) throw new UnknownKeyError(value.kid);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(value.iv, 'base64'));
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(value.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(value.ct, 'base64')), decipher.final()]).toString('utf8');
    return JSON.parse(plain) as unknown;
  }

  /** A copy of `payload` with the values at `paths` encrypted (already encrypted values are left as they are). */
  encryptPaths<T>(payload: T, paths: readonly string[]): T {
    if (paths.length === 0 || payload === null || typeof payload !== 'object') return payload;
    const copy = structuredClone(payload) as unknown;
    for (const path of paths) {
      const segments = sensitivePath(path);
      if (segments.length === 0) return this.encrypt(payload) as T;
      this.apply(copy, segments, (v) => (isEncrypted(v) ? v : this.encrypt(v)));
    }
    return copy as T;
  }

  /** A copy with every encrypted value decrypted, wherever it is. */
  decryptDeep<T>(value: T): T {
    return mapEncrypted(value, (e) => this.decrypt(e)) as T;
  }

  /** Re-encrypts under the active key every value encrypted under another key; returns the copy and how many changed. */
  reencryptDeep<T>(value: T): { value: T; changed: number } {
    let changed = 0;
    const out = mapEncrypted(value, (e) => {
      if (e.kid === this.activeKeyId) return e;
      changed++;
      return this.encrypt(this.decrypt(e));
    }) as T;
    return { value: out, changed };
  }

  private apply(node: unknown, segments: string[], fn: (v: unknown) => unknown): void {
    if (node === null || typeof node !== 'object' || isEncrypted(node)) return;
    const [head, ...rest] = segments;
    const obj = node as Record<string, unknown>;
    const keys = head === '*' ? Object.keys(obj) : Object.prototype.hasOwnProperty.call(obj, head) ? [head] : [];
    for (const k of keys) {
      if (rest.length === 0) {
        if (obj[k] !== undefined) obj[k] = fn(obj[k]);
      } else this.apply(obj[k], rest, fn);
    }
  }
}

/** Maps every EncryptedValue inside `value` (a JSON tree), returning a copy where something changed. */
export function mapEncrypted(value: unknown, fn: (e: EncryptedValue) => unknown): unknown {
  if (isEncrypted(value)) return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapEncrypted(v, fn));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = mapEncrypted(v, fn);
    return out;
  }
  return value;
}

/** What API responses show: every encrypted value replaced by "[redacted]". */
export function redactEncrypted<T>(value: T): T {
  return mapEncrypted(value, () => REDACTED) as T;
}

/** True when an encrypted value sits anywhere inside `value` (walks without copying). */
export function containsEncrypted(value: unknown): boolean {
  if (isEncrypted(value)) return true;
  if (Array.isArray(value)) return value.some(containsEncrypted);
  if (value && typeof value === 'object') {
    for (const k in value as Record<string, unknown>) if (containsEncrypted((value as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/** The process's cipher, from ENCRYPTION_KEYS / ENCRYPTION_ACTIVE_KEY. */
@Injectable()
export class FieldEncryption extends FieldCipher {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super(config.encryption?.keys ?? {}, config.encryption?.activeKeyId);
  }
}

/**
 * Sensitive fields per job, known to every process that enqueues or runs it:
 * `@JobHandler(name, { sensitive: [...] })` registers here when its module is
 * loaded; a producer that does not load the handler calls
 * `registerSensitiveFields(job, paths)` (or passes `sensitive` when enqueueing).
 */
const SENSITIVE = new Map<string, string[]>();

export function registerSensitiveFields(job: string, paths: readonly string[]): void {
  if (paths.length === 0) return;
  SENSITIVE.set(job, [...new Set([...(SENSITIVE.get(job) ?? []), ...paths])]);
}

export function sensitiveFieldsOf(job: string): readonly string[] {
  return SENSITIVE.get(job) ?? [];
}

/** A raw message text (a dead letter's payload) with its encrypted values shown as "[redacted]"; other text is returned as it is. */
export function redactEncryptedText(text: string): string {
  if (!text.includes('"$enc"')) return text;
  try {
    return JSON.stringify(redactEncrypted(JSON.parse(text) as unknown));
  } catch {
    return text;
  }
}
