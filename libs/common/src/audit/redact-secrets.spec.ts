import { REDACTED, redactSecrets, redactSecretText } from './redact-secrets.js';

describe('redactSecrets', () => {
  it('replaces secrets, tokens, passwords and keys at any depth and keeps everything else', () => {
    const input = {
      url: 'https://hooks.example.com/in',
      secret: 'whsec_0123456789abcdef',
      types: ['document.expiring'],
      nested: { apiKey: 'mk_live_1', accessToken: 'eyJ...', password: 'hunter2', privateKey: '-----BEGIN', note: 'kept' },
      list: [{ clientSecret: 's' }, { name: 'n' }],
      keys: { p256dh: 'BNc...', auth: 'tBH...' },
      headers: { Authorization: 'Bearer abc', 'content-type': 'application/json' },
    };
    expect(redactSecrets(input)).toEqual({
      url: 'https://hooks.example.com/in',
      secret: REDACTED,
      types: ['document.expiring'],
      nested: { apiKey: REDACTED, accessToken: REDACTED, password: REDACTED, privateKey: REDACTED, note: 'kept' },
      list: [{ clientSecret: REDACTED }, { name: 'n' }],
      keys: REDACTED,
      headers: { Authorization: REDACTED, 'content-type': 'application/json' },
    });
  });

  it('redacts encrypted fields whatever their key, and says when a secret was cleared', () => {
    expect(redactSecrets({ payload: { $enc: 'v1:abc' }, secret: null, token: '' })).toEqual({ payload: REDACTED, secret: null, token: '' });
  });

  it('never changes its input and returns JSON-safe values', () => {
    const at = new Date('2026-03-29T01:30:00Z');
    const input = { secret: 's', at, n: 10n, f: () => 1, u: undefined, arr: [undefined, at] };
    const out = redactSecrets(input);
    expect(input.secret).toBe('s');
    expect(out).toEqual({ secret: REDACTED, at: '2026-03-29T01:30:00.000Z', n: '10', arr: [null, '2026-03-29T01:30:00.000Z'] });
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('cuts cycles instead of overflowing', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redactSecrets(a)).toEqual({ name: 'a', self: '[cycle]' });
  });

  it('passes scalars and null through', () => {
    expect(redactSecrets(null)).toBeNull();
    expect(redactSecrets(undefined)).toBeNull();
    expect(redactSecrets('text')).toBe('text');
    expect(redactSecrets(3)).toBe(3);
  });
});

describe('redactSecretText', () => {
  it('redacts credential pairs, bearer credentials and URL user-info in free text, and keeps the rest', () => {
    expect(redactSecretText('login refused: password=hunter2, user=bob')).toBe('login refused: password=[redacted], user=bob');
    expect(redactSecretText('{"apiKey": "k-123", "id": 7} client_secret: abc Authorization: Bearer abcdefgh12345678'))
      .toBe('{"apiKey": "[redacted]", "id": 7} client_secret: [redacted] Authorization: Bearer [redacted]');
    expect(redactSecretText('GET https://svc:pw@api.example.com/x?access_token=t0k failed with 503'))
      .toBe('GET https://svc:***@api.example.com/x?access_token=*** failed with 503');
    expect(redactSecretText('Partner API answered 503 Service Unavailable for order SO-1042')).toBe('Partner API answered 503 Service Unavailable for order SO-1042');
    expect(redactSecretText(`token expired ${REDACTED}`)).toBe(`token expired ${REDACTED}`);
  });
});
