/**
 * Just enough RFC 5322/2045/2047 to show a caught mail: unfolded headers,
 * encoded-word subjects, quoted-printable or base64 bodies in their charset,
 * and the first text/plain part of a multipart message. What it cannot read
 * it shows raw rather than dropping.
 */
export interface ParsedMail {
  subject: string;
  from: string;
  /** The Date header, when it parses. */
  date: Date | null;
  messageId: string | null;
  text: string;
}

type Headers = Map<string, string>;

function decoder(charset: string | undefined): { decode(bytes: Uint8Array): string } {
  try {
    return new TextDecoder((charset ?? 'utf-8').trim().replace(/^"|"$/g, '') || 'utf-8');
  } catch {
    return new TextDecoder('utf-8');
  }
}

function unQuotedPrintable(text: string): Buffer {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (`=?utf-8?Q?...?=`, `=?utf-8?B?...?=`); whitespace between adjacent ones goes. */
export function decodeHeaderValue(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : unQuotedPrintable(text.replace(/_/g, ' '));
      return decoder(charset).decode(bytes);
    });
}

/** Splits a message into unfolded headers (lower-case names, first wins) and its body. */
function split(raw: string): { headers: Headers; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers: Headers = new Map();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** A parameter of a structured header: `boundary` of `multipart/alternative; boundary="x"`. */
function param(header: string | undefined, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*("([^"]*)"|[^;\\s]+)`, 'i').exec(header ?? '');
  return m ? (m[2] ?? m[1]) : undefined;
}

function bodyText(headers: Headers, body: string, depth = 0): string | null {
  const type = (headers.get('content-type') ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/') && depth < 5) {
    const boundary = param(headers.get('content-type'), 'boundary');
    if (!boundary) return null;
    const parts = body.split(`--${boundary}`).slice(1);
    let fallback: string | null = null;
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const p = split(part.replace(/^\r?\n/, ''));
      const text = bodyText(p.headers, p.body, depth + 1);
      if (text === null) continue;
      if ((p.headers.get('content-type') ?? 'text/plain').toLowerCase().startsWith('text/plain')) return text;
      fallback ??= text;
    }
    return fallback;
  }
  if (!type.startsWith('text/')) return null;
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const bytes = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64') : encoding === 'quoted-printable' ? unQuotedPrintable(body) : Buffer.from(body, 'latin1');
  const text = decoder(param(headers.get('content-type'), 'charset')).decode(bytes);
  return type.startsWith('text/html') ? text.replace(/<[^>]*>/g, ' ').replace(/[ \t]+/g, ' ') : text;
}

/** Reads a raw message (as received over SMTP, CRLF line ends). */
export function parseMail(raw: Buffer): ParsedMail {
  const { headers, body } = split(raw.toString('latin1'));
  // Headers are read as latin1 bytes; 8-bit (unencoded UTF-8) headers are re-decoded as UTF-8.
  const header = (name: string) => decodeHeaderValue(Buffer.from(headers.get(name) ?? '', 'latin1').toString('utf8'));
  const date = headers.has('date') ? new Date(header('date')) : null;
  const text = bodyText(headers, body);
  return {
    subject: header('subject'),
    from: header('from'),
    date: date && Number.isFinite(date.getTime()) ? date : null,
    messageId: headers.get('message-id') ?? null,
    text: (text ?? Buffer.from(body, 'latin1').toString('utf8')).replace(/\r\n/g, '\n').trimEnd(),
  };
}
