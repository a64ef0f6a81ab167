/**
 * Recognises secret values that were never replaced: the example values of
 * manifests and docs ("change-me", "secret", "password123", "xxx", "your-key-here"),
 * low-variety strings and keys that are text rather than random bytes. The
 * reasons never quote the value: they end up in the start-up error, in logs.
 */

/** What `npm start` signs its token with when JWT_SECRET is unset (DEMO=true only). Published, so never a real secret. */
export const DEMO_JWT_SECRET = 'metronome-demo-secret-do-not-use-in-production';

/** Words that placeholder values are made of; a value built only from these (and a few digits) is a placeholder. */
const PLACEHOLDER_WORDS = [
  'change', 'changeme', 'replace', 'replaceme', 'me', 'secret', 'secrets', 'password', 'passwd', 'pass', 'pwd',
  'example', 'sample', 'default', 'dummy', 'test', 'testing', 'placeholder', 'your', 'my', 'our', 'here', 'insert',
  'put', 'fill', 'in', 'enter', 'the', 'a', 'key', 'keys', 'token', 'jwt', 'api', 'admin', 'root', 'user', 'letmein',
  'qwerty', 'abc', 'foo', 'bar', 'baz', 'todo', 'fixme', 'tbd', 'demo', 'super', 'top', 'value', 'some', 'random',
  'string', 'long', 'very', 'new', 'please', 'goes', 'private', 'smtp', 'db', 'database', 'nats', 'vapid', 'encryption', 'hmac', 'signing',
];
const WORDS = new Set(PLACEHOLDER_WORDS);
const LONGEST_WORD = Math.max(...PLACEHOLDER_WORDS.map((w) => w.length));

/** Fragments no real secret contains (compared without case and without punctuation). */
const MARKERS = ['changeme', 'replaceme', 'placeholder', 'example', 'notforproduction', 'donotuse', 'notasecret', 'insecure', 'yoursecret', 'yourpassword'];

/** Digits a placeholder may carry ("password123", "changeme2024") before the value counts as random enough. */
const PLACEHOLDER_DIGITS = 8;

/** True when `letters` splits entirely into PLACEHOLDER_WORDS. */
function onlyPlaceholderWords(letters: string): boolean {
  const ok = new Array<boolean>(letters.length + 1).fill(false);
  ok[0] = true;
  for (let end = 1; end <= letters.length; end++) {
    for (let start = Math.max(0, end - LONGEST_WORD); start < end && !ok[end]; start++) {
      if (ok[start] && WORDS.has(letters.slice(start, end))) ok[end] = true;
    }
  }
  return ok[letters.length];
}

/** True when the value is a short pattern repeated (at least three times). */
function repeated(value: string): boolean {
  for (let n = 1; n <= value.length / 3; n++) {
    let same = true;
    for (let i = n; i < value.length && same; i++) same = value[i] === value[i % n];
    if (same) return true;
  }
  return false;
}

export interface SecretRules {
  /** Shortest acceptable value (HMAC keys: 32). */
  minLength?: number;
  /** DEMO=true: the demo secret is what `npm start` uses; allowed there. */
  demo?: boolean;
}

/** Why `value` is no usable secret, or undefined when it is acceptable. Never includes the value. */
export function placeholderReason(value: string, rules: SecretRules = {}): string | undefined {
  if (value === DEMO_JWT_SECRET) return rules.demo ? undefined : 'is the published DEMO secret (allowed only with DEMO=true)';
  if (rules.minLength !== undefined && value.length < rules.minLength) return `must be at least ${rules.minLength} characters`;
  const lower = value.toLowerCase();
  const alnum = lower.replace(/[^a-z0-9]/g, '');
  const marker = MARKERS.find((m) => alnum.includes(m));
  if (marker) return `looks like a placeholder (contains "${marker}")`;
  // A run of one case (xxx, XXX) standing alone. Generated base64 holds mixed-case runs like "Xxx" between digits
  // (refused before: one in about 10,000 secrets); a lone one-case run about once in four million values.
  if (/(^|[^A-Za-z0-9])(x{3,}|X{3,})([^A-Za-z0-9]|$)/.test(value)) return 'looks like a placeholder (contains "xxx")';
  const letters = alnum.replace(/[0-9]/g, '');
  const digits = alnum.length - letters.length;
  if (letters.length > 0 && digits <= PLACEHOLDER_DIGITS && onlyPlaceholderWords(letters)) return 'looks like a placeholder (made of words such as "secret", "password", "change me")';
  if (new Set(value).size < 5) return 'has too little variety to be a secret (fewer than 5 different characters)';
  if (repeated(lower)) return 'looks like a placeholder (one short pattern repeated)';
  return undefined;
}

/**
 * Why a binary key (e.g. an AES key decoded from base64) is not random, or
 * undefined. 32 random bytes have ~30 different values and are almost never
 * all printable; a key that is text or mostly one byte was typed, not generated.
 */
export function weakKeyReason(key: Buffer): string | undefined {
  if (new Set(key).size < 16) return 'is not random (too few different bytes); generate one with `openssl rand -base64 32`';
  if (key.every((b) => b >= 0x20 && b < 0x7f)) return 'is text, not random bytes; generate one with `openssl rand -base64 32`';
  return undefined;
}
