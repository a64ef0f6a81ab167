import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify, type ECDH } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a browser keeps for one push subscription: its P-256 key pair and the 16-byte auth secret (RFC 8291). */
export class TestBrowser {
  readonly ecdh: ECDH = createECDH('prime256v1');
  readonly auth = randomBytes(16);
  constructor(readonly endpoint: string) {
    this.ecdh.generateKeys();
  }

  /** `JSON.parse(JSON.stringify(pushSubscription))` in a browser. */
  subscription() {
    return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh: this.ecdh.getPublicKey().toString('base64url'), auth: this.auth.toString('base64url') } };
  }

  /** RFC 8291 aes128gcm decryption, as the browser does it before the service worker sees the message. */
  decrypt(body: Buffer): string {
    const salt = body.subarray(0, 16);
    const rs = body.readUInt32BE(16);
    const idlen = body[20];
    const asPublic = body.subarray(21, 21 + idlen);
    const records = body.subarray(21 + idlen);
    const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
    const uaPublic = this.ecdh.getPublicKey();
    const ecdhSecret = this.ecdh.computeSecret(asPublic);
    // IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32)
    const prkKey = hmac(this.auth, ecdhSecret);
    const ikm = hmac(prkKey, Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]));
    // CEK and NONCE = HKDF(salt, IKM, "Content-Encoding: aes128gcm|nonce" || 0x00, 16|12)
    const prk = hmac(salt, ikm);
    const cek = hmac(prk, Buffer.concat([Buffer.from('Content-Encoding: aes128gcm\0'), Buffer.from([1])])).subarray(0, 16);
    const nonce = hmac(prk, Buffer.concat([Buffer.from('Content-Encoding: nonce\0'), Buffer.from([1])])).subarray(0, 12);
    const parts: Buffer[] = [];
    for (let seq = 0, at = 0; at < records.length; seq++, at += rs) {
      const record = records.subarray(at, Math.min(at + rs, records.length));
      const iv = Buffer.from(nonce);
      // The record's nonce: NONCE XOR the record sequence number (big-endian; here always below 2^32).
      iv.writeUInt32BE((iv.readUInt32BE(8) ^ seq) >>> 0, 8);
      const decipher = createDecipheriv('aes-128-gcm', cek, iv);
      decipher.setAuthTag(record.subarray(record.length - 16));
      const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
      // Padding: the content, then a delimiter (0x02 on the last record, 0x01 before), then zeros.
      let end = plain.length - 1;
      while (end >= 0 && plain[end] === 0) end--;
      const last = at + rs >= records.length;
      if (plain[end] !== (last ? 2 : 1)) throw new Error(`record ${seq}: bad padding delimiter ${plain[end]}`);
      parts.push(plain.subarray(0, end));
    }
    return Buffer.concat(parts).toString('utf8');
  }
}

export interface ReceivedPush {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
}

/**
 * A push service on loopback (RFC 8030): accepts POSTs on /push/<id>, checks
 * the VAPID authorization (RFC 8292: an ES256 JWT for this origin, signed by
 * the application server's key), answers 201, or what `script[id]` says first.
 */
export class TestPushService {
  readonly received: ReceivedPush[] = [];
  readonly script = new Map<string, number[]>();
  private server!: Server;
  origin = '';

  constructor(private readonly vapidPublicKey: string, private readonly vapidSubject: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        const id = path.replace(/^\/push\//, '');
        const problem = this.vapidProblem(req.headers.authorization);
        const status = problem ? 401 : this.script.get(id)?.shift() ?? 201;
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks), status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(problem ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  endpoint(id: string): string {
    return `${this.origin}/push/${id}`;
  }

  to(id: string): ReceivedPush[] {
    return this.received.filter((r) => r.path === `/push/${id}` && r.status === 201);
  }

  /** `vapid t=<jwt>, k=<public key>`: null when valid. */
  private vapidProblem(authorization: string | undefined): string | null {
    const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
    if (!m) return 'no vapid authorization';
    if (m[2] !== this.vapidPublicKey) return 'unknown application server key';
    const [h, p, s] = m[1].split('.');
    const raw = Buffer.from(this.vapidPublicKey, 'base64url');
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
    if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) return 'bad signature';
    const jose = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string };
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud: string; exp: number; sub: string };
    if (jose.alg !== 'ES256') return 'not ES256';
    if (claims.aud !== this.origin) return `audience ${claims.aud} is not ${this.origin}`;
    if (claims.sub !== this.vapidSubject) return 'wrong subject';
    const now = Date.now() / 1000;
    if (!(claims.exp > now && claims.exp <= now + 24 * 3600)) return 'expiry not within 24 h';
    return null;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A VAPID key pair for the test installation (what `npx web-push generate-vapid-keys` prints). */
export function vapidKeys(): { publicKey: string; privateKey: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const priv = ecdh.getPrivateKey();
  // A key with leading zero bytes comes back shorter: VAPID private keys are 32 bytes.
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: Buffer.concat([Buffer.alloc(32 - priv.length), priv]).toString('base64url') };
}
