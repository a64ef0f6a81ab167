import { describe, expect, it } from '@jest/globals';
import type { Priority } from '../../messaging/subjects.js';
import { LaneRoom, ROOM_REFILL } from './lane-room.js';

/** A lane of `capacity` places with `used` taken, per priority. */
function lanes(capacity: number) {
  const used = new Map<Priority, number>();
  const state = { stopping: false };
  const room = new LaneRoom((p, count) => (used.get(p) ?? 0) + count <= capacity, () => state.stopping);
  return { room, used, state };
}

const settled = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('LaneRoom', () => {
  it('does not wait when the lane has a free place', () => {
    const { room, used } = lanes(512);
    used.set('normal', 511);
    expect(room.wait('normal', 10_000)).toBeUndefined();
  });

  it('keeps a reader of a full lane waiting until ROOM_REFILL places are free, not the first one', async () => {
    const { room, used } = lanes(512);
    used.set('normal', 512);
    const waiting = room.wait('normal', 10_000)!;
    expect(room.waiting).toBe(1);
    used.set('normal', 512 - ROOM_REFILL + 1);
    room.wake();
    expect(await settled(waiting)).toBe(false);
    used.set('normal', 512 - ROOM_REFILL);
    room.wake();
    expect(await settled(waiting)).toBe(true);
    expect(room.waiting).toBe(0);
  });

  it('wakes only the readers whose own lane refilled', async () => {
    const { room, used } = lanes(512);
    used.set('normal', 512);
    used.set('high', 512);
    const normal = room.wait('normal', 10_000)!;
    const high = room.wait('high', 10_000)!;
    used.set('high', 0);
    room.wake();
    expect(await settled(high)).toBe(true);
    expect(await settled(normal)).toBe(false);
    expect(room.waiting).toBe(1);
    used.set('normal', 0);
    room.wake();
    expect(await settled(normal)).toBe(true);
  });

  it('lets every reader go when the runtime stops, and does not make a new one wait', async () => {
    const { room, used, state } = lanes(512);
    used.set('normal', 512);
    const waiting = room.wait('normal', 10_000)!;
    state.stopping = true;
    room.wake();
    expect(await settled(waiting)).toBe(true);
    expect(room.wait('normal', 10_000)).toBeUndefined();
  });

  it('gives up waiting after maxWaitMs even if nobody wakes it', async () => {
    const { room, used } = lanes(512);
    used.set('normal', 512);
    const started = Date.now();
    await room.wait('normal', 120);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});
