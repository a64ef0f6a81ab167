import { CopyText } from './copy-text.js';
import { UnstorableValueError } from './storable-json.js';

/** The rows written, as text. */
function rows(write: (out: CopyText) => void, expectedBytes?: number): string {
  const out = new CopyText(expectedBytes);
  write(out);
  return out.bytes().toString('utf8');
}

describe('CopyText (COPY text format written as bytes)', () => {
  it('separates fields by tabs, ends rows with a newline and writes \\N for null and undefined', () => {
    const text = rows((out) => {
      out.text('a');
      out.null();
      out.text(null);
      out.int(undefined);
      out.time(null);
      out.json(undefined);
      out.end();
      out.bool(true);
      out.bool(false);
      out.end();
    });
    expect(text).toBe('a\t\\N\t\\N\t\\N\t\\N\t\\N\nt\tf\n');
  });

  it('escapes backslash, tab, newline and carriage return, in text and in JSON', () => {
    const text = rows((out) => {
      out.text('a\\b\tc\nd\re');
      out.json({ path: 'C:\\x', lines: 'one\ntwo' });
      out.end();
    });
    expect(text).toBe('a\\\\b\\tc\\nd\\re\t{"path":"C:\\\\\\\\x","lines":"one\\\\ntwo"}\n');
  });

  it('writes non-ASCII text as UTF-8, escaped too', () => {
    const s = 'Müller — 東京 \u{1F680}\tend';
    const text = rows((out) => {
      out.text(s);
      out.text('ascii after');
      out.end();
    });
    expect(text).toBe(`${s.replace('\t', '\\t')}\tascii after\n`);
  });

  it('escapes on both sides of the first non-ASCII character', () => {
    const text = rows((out) => {
      out.text('a\tb\\ é \nc\r');
      out.end();
    });
    expect(text).toBe('a\\tb\\\\ é \\nc\\r\n');
  });

  it('refuses a value that cannot be JSON, or whose JSON is too long, with a typed error, so the writer stores the row without it', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const v of [{ n: 1n }, cycle]) expect(() => new CopyText().json(v)).toThrow(UnstorableValueError);
    expect(() => new CopyText().json({ s: 'x'.repeat(20) }, 20)).toThrow(/28 characters of JSON, over the 20/);
    expect(rows((out) => out.json({ s: 'x' }, 20))).toBe('{"s":"x"}');
  });

  it('writes whole numbers as Postgres reads them, and a JSON string as JSON text', () => {
    const text = rows((out) => {
      for (const n of [0, 7, 10, 1234567890, 2 ** 53 - 1, -42]) out.int(n);
      out.json('plain');
      out.json(3);
      out.end();
    });
    expect(text).toBe(`0\t7\t10\t1234567890\t${2 ** 53 - 1}\t-42\t"plain"\t3\n`);
  });

  it('writes times exactly as Date#toISOString, across seconds and milliseconds', () => {
    const times = [0, 1, 999, 1000, 1_780_000_000_007, 1_780_000_000_090, 1_780_000_000_999, 1_780_000_001_000, Date.UTC(2026, 11, 31, 23, 59, 59, 999)];
    const text = rows((out) => {
      for (const t of times) out.time(new Date(t));
      out.end();
    });
    expect(text).toBe(`${times.map((t) => new Date(t).toISOString()).join('\t')}\n`);
    expect(() => rows((out) => out.time(new Date(Number.NaN)))).toThrow(RangeError);
  });

  it('keeps each second apart when a row mixes seconds, also seconds that share a cache place (8 apart, or before 1970)', () => {
    const base = 1_780_000_000_000;
    const times = [base + 5, base - 3_000, base + 8_000 + 17, base + 6, base - 3_000 + 999, base + 16_000, base + 7, -1, 7_000, -8_001, 999, -1];
    const text = rows((out) => {
      for (const t of times) out.time(new Date(t));
      out.end();
    });
    expect(text).toBe(`${times.map((t) => new Date(t).toISOString()).join('\t')}\n`);
  });

  it('grows past the size it started with and keeps what it wrote', () => {
    const long = 'x'.repeat(1000);
    const text = rows((out) => {
      for (let i = 0; i < 50; i++) {
        out.int(i);
        out.text(long);
        out.end();
      }
    }, 256);
    const lines = text.split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[49]).toBe(`49\t${long}`);
  });
});
