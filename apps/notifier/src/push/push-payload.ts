import type { Notification } from '../notifications/notifications.types.js';

/**
 * The most plaintext one push message carries: RFC 8291 allows a 4096-byte
 * record, less the 86-byte header, the 16-byte tag and the padding delimiter;
 * some push services take less, so stay well below.
 */
export const MAX_PUSH_PAYLOAD_BYTES = 3_000;

/**
 * What the service worker receives for a notification (JSON): enough to show
 * it (title, body) and to open it in the app (id, type); the body is shortened
 * to fit, the data is not sent (the app fetches it from the API).
 */
export function pushPayload(n: Notification): string {
  const base = { id: n.id, type: n.type, title: truncate(n.title, 300), critical: n.critical, createdAt: n.createdAt.toISOString() };
  const room = MAX_PUSH_PAYLOAD_BYTES - Buffer.byteLength(JSON.stringify({ ...base, body: '' }));
  return JSON.stringify({ ...base, body: truncateBytes(n.body, room) });
}

function truncate(s: string, chars: number): string {
  return s.length <= chars ? s : `${s.slice(0, chars - 1)}…`;
}

/** The longest prefix of `s` whose JSON string form fits in `bytes` (with an ellipsis when cut). */
function truncateBytes(s: string, bytes: number): string {
  const size = (x: string) => Buffer.byteLength(JSON.stringify(x)) - 2;
  if (size(s) <= bytes) return s;
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(`${s.slice(0, mid)}…`) <= bytes) lo = mid;
    else hi = mid - 1;
  }
  // Never cut a surrogate pair in half.
  const code = s.charCodeAt(lo - 1);
  if (code >= 0xd800 && code <= 0xdbff) lo--;
  return `${s.slice(0, lo)}…`;
}
