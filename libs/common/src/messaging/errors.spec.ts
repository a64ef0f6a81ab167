import { errorText, RetryableError } from './errors.js';

describe('errorText', () => {
  it('redacts the password of a URL quoted by an error (fetch refuses URLs with credentials and quotes them)', async () => {
    const refused = await fetch('https://hook-user:hook-pass-4242@example.invalid/hook').catch((e: Error) => e);
    expect(String(refused)).toContain('hook-pass-4242');
    const wrapped = new RetryableError(`webhook: ${(refused as Error).message}`);
    expect(errorText(wrapped)).toBe('webhook: Request cannot be constructed from a URL that includes credentials: https://hook-user:***@example.invalid/hook');
  });

  it('redacts tokens in URLs and secret query parameters, and leaves other text alone', () => {
    expect(errorText(new Error('connect to nats://s3cr3t-token@nats:4222 failed'))).toBe('connect to nats://***@nats:4222 failed');
    expect(errorText('GET https://api.example.com/x?access_token=abc&page=2 answered 500')).toBe('GET https://api.example.com/x?access_token=***&page=2 answered 500');
    expect(errorText(new Error('webhook answered 503'))).toBe('webhook answered 503');
    expect(errorText({ code: 'E1' })).toBe('{"code":"E1"}');
  });
});
