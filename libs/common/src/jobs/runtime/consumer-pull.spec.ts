import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { ConsumerPull } from './consumer-pull.js';

/** A pull whose messages the test pushes; stop() ends it after what it already holds, as nats.js does. */
class FakePull {
  private queue: string[] = [];
  private waiting?: () => void;
  stopped = false;

  push(...subjects: string[]): void {
    this.queue.push(...subjects);
    this.waiting?.();
  }

  stop(): void {
    this.stopped = true;
    this.waiting?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<JsMsg> {
    for (;;) {
      while (this.queue.length) yield { subject: this.queue.shift()! } as JsMsg;
      if (this.stopped) return;
      await new Promise<void>((r) => (this.waiting = r));
    }
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ConsumerPull', () => {
  function setup(paused = false) {
    const pulls: FakePull[] = [];
    const taken: string[] = [];
    const state = { paused };
    const pull = new ConsumerPull(
      async () => {
        const p = new FakePull();
        pulls.push(p);
        return p as unknown as ConsumerMessages;
      },
      () => state.paused,
      (msg) => void taken.push(msg.subject),
      () => undefined,
    );
    return { pull, pulls, taken, state };
  }

  it('stops pulling when its lane pauses, still takes what it had received, and pulls again on resume', async () => {
    const { pull, pulls, taken, state } = setup();
    const { loop } = await pull.start();
    pulls[0].push('a', 'b');
    await tick();
    state.paused = true;
    pulls[0].push('c');
    pull.pause();
    await tick();
    expect(pulls[0].stopped).toBe(true);
    expect(taken).toEqual(['a', 'b', 'c']);
    expect(pulls).toHaveLength(1);
    state.paused = false;
    pull.resume();
    await tick();
    expect(pulls).toHaveLength(2);
    pulls[1].push('d');
    await tick();
    expect(taken).toEqual(['a', 'b', 'c', 'd']);
    pull.stop();
    await loop;
  });

  it('does not open a pull while its lane is paused at start, and opens one when it resumes', async () => {
    const { pull, pulls, state } = setup(true);
    const { loop } = await pull.start();
    await tick();
    expect(pulls).toHaveLength(0);
    state.paused = false;
    pull.resume();
    await tick();
    expect(pulls).toHaveLength(1);
    pull.stop();
    await loop;
    expect(pulls[0].stopped).toBe(true);
  });

  it('ends for good on shutdown, even while waiting for a resume', async () => {
    const { pull, pulls, state } = setup(true);
    const { loop } = await pull.start();
    pull.stop();
    await loop;
    state.paused = false;
    pull.resume();
    await tick();
    expect(pulls).toHaveLength(0);
  });
});
