import { storableJson } from './storable-json.js';

/**
 * COPY's text format (tab-separated fields, `\N` for null, one row per line)
 * written straight into bytes. The history writer encodes every finished
 * attempt; made as strings (a field array joined per row, the rows
 * concatenated, the whole turned into a Buffer), that was a quarter of the
 * worker's allocation in a burn-down (2026-12-06 sampling heap profile), most
 * of it copied by the next scavenge, since a batch's rows live until it is
 * sent. Here a batch is one growing buffer and a row leaves no garbage.
 */
export class CopyText {
  private buf: Buffer;
  private at = 0;
  private fields = 0;

  constructor(expectedBytes = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(256, expectedBytes));
  }

  /** The rows written so far (a view of the buffer; write nothing more once it is sent). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  /** Ends the row. */
  end(): void {
    this.room(1);
    this.buf[this.at++] = 0x0a;
    this.fields = 0;
  }

  null(): void {
    this.separate(2);
    this.buf[this.at++] = 0x5c;
    this.buf[this.at++] = 0x4e;
  }

  /** Text, escaped where it holds a backslash, tab, newline or carriage return; null as \N. */
  text(s: string | null | undefined): void {
    if (s === null || s === undefined) return this.null();
    // At most 3 bytes per UTF-16 unit (UTF-8), 2 per escaped character.
    this.separate(s.length * 3);
    // ASCII is copied and escaped byte by byte in one pass (a regular expression test first cost more than the
    // copy); from the first other character on, the rest goes through Buffer#write.
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.at = at;
        return this.utf8(s, i);
      }
      if (c === 0x5c || c === 0x09 || c === 0x0a || c === 0x0d) {
        buf[at++] = 0x5c;
        buf[at++] = c === 0x5c ? 0x5c : c === 0x09 ? 0x74 : c === 0x0a ? 0x6e : 0x72;
      } else buf[at++] = c;
    }
    this.at = at;
  }

  /** A whole number (an integer column); null as \N. */
  int(n: number | null | undefined): void {
    if (n === null || n === undefined) return this.null();
    this.separate(24);
    if (n >= 0 && n < 1e15 && Number.isInteger(n)) this.digits(n);
    else this.ascii(String(Math.trunc(n)));
  }

  bool(b: boolean): void {
    this.separate(1);
    this.buf[this.at++] = b ? 0x74 : 0x66;
  }

  /** A timestamptz as Date#toISOString writes it; null as \N. */
  time(d: Date | null | undefined): void {
    if (d === null || d === undefined) return this.null();
    const ms = d.getTime();
    if (!Number.isFinite(ms)) throw new RangeError('Invalid time value');
    this.separate(32);
    const s = Math.floor(ms / 1000);
    const prefix = secondPrefix(s);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < prefix.length; i++) buf[at++] = prefix[i];
    const milli = ms - s * 1000;
    buf[at++] = 0x30 + Math.floor(milli / 100);
    buf[at++] = 0x30 + (Math.floor(milli / 10) % 10);
    buf[at++] = 0x30 + (milli % 10);
    buf[at++] = 0x5a;
    this.at = at;
  }

  /**
   * A jsonb column: the value as JSON (a string too: a bare string is not JSON text); null and undefined as \N.
   * UnstorableValueError when it cannot be JSON or its JSON is longer than `maxChars`.
   */
  json(v: unknown, maxChars = Number.POSITIVE_INFINITY): void {
    if (v === null || v === undefined) return this.null();
    this.text(storableJson(v, maxChars));
  }

  /** Makes room for the separator and `n` bytes, and writes the separator unless this is the row's first field. */
  private separate(n: number): void {
    this.room(n + 1);
    if (this.fields++ > 0) this.buf[this.at++] = 0x09;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  /** `s` from `from` on as UTF-8, escaped. */
  private utf8(s: string, from: number): void {
    const rest = from ? s.slice(from) : s;
    this.at += this.buf.write(SPECIAL.test(rest) ? escape(rest) : rest, this.at, 'utf8');
  }

  private ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.buf[this.at++] = s.charCodeAt(i);
  }

  private digits(n: number): void {
    if (n === 0) {
      this.buf[this.at++] = 0x30;
      return;
    }
    let len = 0;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) len++;
    for (let i = len - 1; i >= 0; i--) {
      this.buf[this.at + i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.at += len;
  }
}

const SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escape(s: string): string {
  return s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]);
}

/**
 * Recent seconds as the bytes of their ISO text up to the milliseconds, shared by every writer: a burn-down's
 * attempts finish in the same few seconds. A row's times fall in different seconds (enqueued before a backlog,
 * finished now), so one cached second was rebuilt several times a row: 8 slots, one per second modulo 8.
 */
const CLOCK_SLOTS = 8;
const clockSeconds = new Float64Array(CLOCK_SLOTS).fill(Number.NaN);
const clockPrefixes: Buffer[] = Array.from({ length: CLOCK_SLOTS }, () => Buffer.alloc(0));

function secondPrefix(s: number): Buffer {
  const slot = s & (CLOCK_SLOTS - 1);
  if (clockSeconds[slot] !== s) {
    clockSeconds[slot] = s;
    clockPrefixes[slot] = Buffer.from(new Date(s * 1000).toISOString().slice(0, -4), 'latin1');
  }
  return clockPrefixes[slot];
}
