/**
 * Text Postgres can store: NUL, the one character a text or jsonb value cannot
 * hold, replaced by U+FFFD (as invalid UTF-8 already is when bytes become a
 * string). For text that comes from outside: a malformed message's body and
 * headers, a handler's error. Left in, the insert failed, and with it every
 * row written alongside.
 */
export function postgresText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}
