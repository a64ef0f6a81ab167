import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * DEMO=true without JWT_SECRET: a random HS256 secret generated once per machine and kept (mode 0600)
 * beside the demo token file, so every service started in DEMO mode from this checkout accepts the same
 * demo token, and nobody else can mint one (no fixed, published secret).
 */
export function demoSecret(tokenFile: string): string {
  const path = join(dirname(tokenFile), 'demo-jwt-secret');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Written aside and linked into place: a service starting at the same moment reads a whole secret or none.
  const draft = `${path}.${process.pid}.tmp`;
  writeFileSync(draft, randomBytes(48).toString('base64url'), { mode: 0o600 });
  try {
    linkSync(draft, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(draft, { force: true });
  }
  const secret = readFileSync(path, 'utf8').trim();
  if (secret.length < 32) throw new Error(`${path} holds no usable demo secret; delete it to have a new one generated`);
  return secret;
}
