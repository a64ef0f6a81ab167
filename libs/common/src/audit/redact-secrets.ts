import { REDACTED } from '../crypto/field-cipher.js';
import { errorText } from '../messaging/errors.js';
import { redactUrl } from '../util/redact-url.js';

export { REDACTED };

/**
 * Keys whose values are credentials or key material: webhook and signing secrets, passwords, tokens
 * (access, refresh, bearer, API), private and push-subscription keys (`keys`, `p256dh`, `auth`),
 * Authorization headers, credentials. Matched on the key name, case-insensitively, at any depth.
 */
const SECRET_KEY = /(secret|passw(or)?d|passphrase|token|api[-_]?key|private[-_]?key|^keys$|^p256dh$|^auth$|authorization|credential|cookie|signature|vapid)/i;

/** A field the field cipher encrypted ({ "$enc": ... }): never copied into the audit log, even encrypted. */
const isEncrypted = (v: object): boolean => Object.prototype.hasOwnProperty.call(v, '$enc');

/**
 * A JSON-safe copy of `value` for the audit log's before/after: values under secret-looking keys and
 * encrypted fields become "[redacted]" (so an audit reader learns a secret changed, never what it is);
 * Dates become ISO strings, bigints strings, functions and undefined are dropped, cycles are cut.
 */
export function redactSecrets(value: unknown): unknown {
  return redact(value, new WeakSet());
}

function redact(value: unknown, seen: WeakSet<object>): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return REDACTED;
  if (seen.has(value)) return '[cycle]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => redact(v, seen) ?? null);
    if (value instanceof Map) return redact(Object.fromEntries(value), seen);
    if (value instanceof Set) return redact([...value], seen);
    if (isEncrypted(value)) return REDACTED;
    const json = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') return redact(json.call(value), seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function') continue;
      out[k] = SECRET_KEY.test(k) && v !== null && v !== '' ? REDACTED : redact(v, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** `name=value`, `name: value`, `"name": "value"` where the name looks like a credential (the names SECRET_KEY knows). */
const SECRET_PAIR = /((?:[\w.-]*)(?:secret|passw(?:or)?d|passphrase|token|api[-_]?key|private[-_]?key|authorization|credential|cookie|signature)(?:[\w.-]*)["']?\s*[=:]\s*["']?(?:bearer\s+|basic\s+)?)(?!\*\*\*)[^\s"'&,;)\]}]+/gi;
const BEARER = /\b(bearer|basic)\s+(?!\[redacted\])[\w~+/.=-]{8,}/gi;

/**
 * Free text (an error's stack, a message) with credentials replaced by "[redacted]": values of
 * secret-looking `name=value` / `name: value` pairs, `Bearer …` / `Basic …` credentials, and the
 * user-info and secret query parameters of URLs (redactUrl). The text form of redactSecrets.
 */
export function redactSecretText(text: string): string {
  return redactUrl(text).replace(SECRET_PAIR, `$1${REDACTED}`).replace(BEARER, `$1 ${REDACTED}`);
}

/** An error as text fit to log and store: its message with credentials redacted (redactSecretText). */
export function redactedErrorText(error: unknown): string {
  return redactSecretText(errorText(error));
}
