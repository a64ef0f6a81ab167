import { createCloudEvent, encodeCloudEvent, MalformedEnvelopeError } from './cloud-event.js';
import { isPack, MAX_PACK_BYTES, PACK_HEADER, packMessage, packRanges, parsePack } from './job-pack.js';

const event = (i: number, size = 10) => createCloudEvent({ type: 'rt.work', source: 'test', id: `run-${i}`, data: { runId: `run-${i}`, payload: { pad: 'x'.repeat(size) } } });

describe('job packs', () => {
  it('split one subject\'s jobs into packs of at most the maximum and under the size limit', () => {
    const small = Array.from({ length: 23 }, (_, i) => encodeCloudEvent(event(i)));
    expect(packRanges(small, 10)).toEqual([[0, 10], [10, 20], [20, 23]]);
    const big = Array.from({ length: 5 }, (_, i) => encodeCloudEvent(event(i, 100_000)));
    const ranges = packRanges(big, 50);
    expect(ranges.flatMap(([a, b]) => Array.from({ length: b - a }, (_, k) => a + k))).toEqual([0, 1, 2, 3, 4]);
    for (const [a, b] of ranges) expect(big.slice(a, b).reduce((n, e) => n + e.length + 1, 1)).toBeLessThanOrEqual(MAX_PACK_BYTES);
    // A job larger than a pack's limit still goes, alone.
    expect(packRanges([encodeCloudEvent(event(0, MAX_PACK_BYTES))], 50)).toEqual([[0, 1]]);
  });

  it('round-trip: the body is each job\'s own envelope, the header counts them, the id is stable', () => {
    const events = [event(1), event(2), event(3)];
    const m = packMessage('jobs.normal.rt.work', events.map(encodeCloudEvent), events);
    expect(isPack(m.data)).toBe(true);
    expect(isPack(encodeCloudEvent(events[0]))).toBe(false);
    expect(m.headers!.get(PACK_HEADER)).toBe('3');
    expect(m.headers!.get('Nats-Msg-Id')).toBe('pack:run-1:3');
    expect(parsePack(m.data, 1 << 20)).toEqual(events);
  });

  it('refuses what is not a pack of valid envelopes, naming the bad job', () => {
    const bad = (s: string) => () => parsePack(Buffer.from(s), 1 << 20);
    expect(bad('[')).toThrow(MalformedEnvelopeError);
    expect(bad('[]')).toThrow(/non-empty JSON array/);
    expect(bad(`[${JSON.stringify(event(1))},{"id":"x"}]`)).toThrow(/pack job 1: CloudEvent attribute/);
    expect(() => parsePack(Buffer.alloc(100, 0x5b), 50)).toThrow(/exceeds/);
  });
});
