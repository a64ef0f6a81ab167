import { MAX_PUSH_PAYLOAD_BYTES, pushPayload } from './push-payload.js';

const n = (body: string) => ({
  id: '00000000-0000-4000-8000-000000000001',
  companyId: 'acme',
  userId: 'u',
  sourceEventId: 'e',
  type: 'job.dead',
  title: 'Job failed: x',
  body,
  data: { secret: 'not sent' },
  critical: true,
  inApp: true,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  readAt: null,
});

describe('push payload', () => {
  it('carries what the service worker shows and opens, not the data', () => {
    expect(JSON.parse(pushPayload(n('It broke.')))).toEqual({
      id: '00000000-0000-4000-8000-000000000001', type: 'job.dead', title: 'Job failed: x', critical: true, createdAt: '2026-01-01T00:00:00.000Z', body: 'It broke.',
    });
  });

  it('shortens a long body to fit one push message, multi-byte characters included', () => {
    for (const ch of ['a', 'ü', '😀', '"']) {
      const p = pushPayload(n(ch.repeat(10_000)));
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_PUSH_PAYLOAD_BYTES);
      expect(Buffer.byteLength(p)).toBeGreaterThan(MAX_PUSH_PAYLOAD_BYTES - 10);
      expect(JSON.parse(p).body.endsWith('…')).toBe(true);
      expect(p).not.toMatch(/\\ud8/);
    }
  });
});
