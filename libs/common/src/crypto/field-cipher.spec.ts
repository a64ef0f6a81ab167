import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/load-config.js';
import { FieldCipher, redactEncrypted, REDACTED } from './field-cipher.js';

const k = () => randomBytes(32);

describe('FieldCipher', () => {
  it('encrypts declared paths only, keeps the key id, and decrypts them back', () => {
    const cipher = new FieldCipher({ k1: k() }, 'k1');
    const payload = { ssn: '123', cards: [{ number: '4111', brand: 'visa' }], name: 'Ann' };
    const enc = cipher.encryptPaths(payload, ['payload.ssn', 'cards.*.number']);
    expect(JSON.stringify(enc)).not.toContain('123');
    expect(JSON.stringify(enc)).not.toContain('4111');
    expect(enc.name).toBe('Ann');
    expect((enc.ssn as unknown as { kid: string }).kid).toBe('k1');
    expect(cipher.decryptDeep(enc)).toEqual(payload);
    expect(redactEncrypted(enc)).toEqual({ ssn: REDACTED, cards: [{ number: REDACTED, brand: 'visa' }], name: 'Ann' });
  });

  it('rejects a tampered ciphertext and an unknown key', () => {
    const cipher = new FieldCipher({ k1: k() }, 'k1');
    const e = cipher.encrypt('secret');
    expect(() => cipher.decrypt({ ...e, ct: Buffer.from('xxxxxx').toString('base64') })).toThrow();
    expect(() => new FieldCipher({ k2: k() }, 'k2').decrypt(e)).toThrow(/not in ENCRYPTION_KEYS/);
  });
});

describe('encryption config', () => {
  it('lists bad keys and a missing active key', () => {
    expect(() => loadConfig({ ENCRYPTION_KEYS: `k1:${randomBytes(16).toString('base64')}`, ENCRYPTION_ACTIVE_KEY: 'k2' })).toThrow(
      /key "k1" must be 32 bytes[\s\S]*ENCRYPTION_ACTIVE_KEY: "k2" is not one of/,
    );
    expect(() => loadConfig({ ENCRYPTION_KEYS: `k1:${k().toString('base64')}` })).toThrow(/ENCRYPTION_ACTIVE_KEY: required/);
    const c = loadConfig({ ENCRYPTION_KEYS: `k1:${k().toString('base64')},k2:${k().toString('base64')}`, ENCRYPTION_ACTIVE_KEY: 'k2' });
    expect(Object.keys(c.encryption!.keys)).toEqual(['k1', 'k2']);
  });
});
