import { randomBytes } from 'node:crypto';
import { DEMO_JWT_SECRET, placeholderReason, weakKeyReason } from './placeholder-secret.js';

describe('placeholderReason', () => {
  it.each([
    'changeme',
    'change-me',
    'CHANGE_ME_PLEASE_0123456789abcdef0123',
    'change-me-change-me-change-me-change-me',
    'secret',
    'password',
    'Password123',
    'example',
    'replace-me',
    'xxx',
    'sk_live_xxx',
    'k3JqP9vX2mL8wQ4zR7tY1uI6oP0aS5dF-xxx',
    'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    'your-api-key-here',
    'my-super-secret-jwt-signing-key-2024',
    'secretsecretsecretsecretsecretsecret',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    '12121212121212121212121212121212',
    'abcdabcdabcdabcdabcdabcdabcdabcd',
    'dev-only-jwt-secret-not-for-production-use',
    'placeholder',
  ])('refuses %s', (value) => {
    expect(placeholderReason(value)).toBeDefined();
  });

  it.each([
    'control-plane-test-secret-0123456789abcdef',
    'jwt-secret-never-logged-0123456789abcdef',
    'smtp-password-never-logged-9999',
    'svc-key-0123456789',
    'metronome-dev',
    'k3JqP9vX2mL8wQ4z',
  ])('accepts %s', (value) => {
    expect(placeholderReason(value)).toBeUndefined();
  });

  it('never refuses generated secrets (openssl rand -hex 32 / -base64 32 / base64url)', () => {
    // A fixed sequence of pseudo-random bytes, so the test checks the same 8,000 secrets every run.
    let state = 0x9e3779b9;
    const bytesOf = (n: number) => Buffer.from(Array.from({ length: n }, () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state & 0xff;
    }));
    const refused: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      const bytes = bytesOf(32);
      for (const v of [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'), bytesOf(12).toString('base64')]) {
        if (placeholderReason(v, { minLength: 16 })) refused.push(v);
      }
    }
    expect(refused).toEqual([]);
  });

  it('refuses the DEMO secret outside DEMO and allows it with DEMO=true', () => {
    expect(placeholderReason(DEMO_JWT_SECRET)).toMatch(/DEMO/);
    expect(placeholderReason(DEMO_JWT_SECRET, { demo: true, minLength: 32 })).toBeUndefined();
  });

  it('applies a minimum length (HMAC keys)', () => {
    expect(placeholderReason('k3JqP9vX2mL8wQ4z', { minLength: 32 })).toBe('must be at least 32 characters');
  });

  it('never quotes the value in its reason', () => {
    for (const v of ['hunter2-changeme-Zq81', 'Password123', 'aaaaaaaaaaaaaaaaaaaa', 'sk_live_xxx_9f8e7d']) {
      const reason = placeholderReason(v)!;
      expect(reason).toBeDefined();
      expect(reason).not.toContain(v);
      expect(reason.toLowerCase()).not.toContain('hunter2');
    }
  });
});

describe('weakKeyReason', () => {
  it('accepts random 32-byte keys', () => {
    for (let i = 0; i < 2_000; i++) expect(weakKeyReason(randomBytes(32))).toBeUndefined();
  });

  it('refuses keys of one repeated byte and keys that are typed text', () => {
    expect(weakKeyReason(Buffer.alloc(32))).toMatch(/not random/);
    expect(weakKeyReason(Buffer.from('Quick brown foxes jump over 2 do'))).toMatch(/is text/);
  });
});
