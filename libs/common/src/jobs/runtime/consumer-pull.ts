import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';

/** While its lane is paused, a stopped pull looks again this often (a resume also wakes it at once). */
const PAUSED_RECHECK_MS = 1_000;

function stopQuietly(messages: ConsumerMessages): void {
  try {
    messages.stop();
  } catch {
    // already stopped
  }
}

/**
 * One job consumer's pull loop. While its priority lane is paused
 * (`JobControl.pauseQueue`: every job of the lane, so nothing on this
 * consumer may start) it stops pulling: the lane's backlog stays in the stream
 * instead of being taken in only to be handed back again and again, and a
 * resume pulls it at once. What the stopped pull had already received still
 * comes out (the runtime parks it). A paused *job* shares its consumer with
 * jobs that run, so its messages are still pulled and parked or deferred.
 */
export class ConsumerPull {
  private current?: ConsumerMessages;
  private wake?: () => void;
  private stopping = false;
  /** The current pull was stopped because the lane paused (not by shutdown or an error): pull again on resume. */
  private stoppedForPause = false;

  constructor(
    private readonly open: () => Promise<ConsumerMessages>,
    private readonly paused: () => boolean,
    /** Takes one message; a promise when it must wait (for room in the lane) before the next. */
    private readonly take: (msg: JsMsg) => Promise<void> | undefined,
    private readonly failed: (error: unknown, what: string) => void,
  ) {}

  /** Opens the first pull unless the lane is paused (its failure fails the caller), then runs; `loop` ends with the loop. */
  async start(): Promise<{ loop: Promise<void> }> {
    const first = this.paused() ? undefined : await this.open();
    return { loop: this.run(first) };
  }

  /** The lane was paused: stop pulling. */
  pause(): void {
    if (!this.current) return;
    this.stoppedForPause = true;
    stopQuietly(this.current);
  }

  /** The lane was resumed: pull again now. */
  resume(): void {
    this.wake?.();
  }

  stop(): void {
    this.stopping = true;
    if (this.current) stopQuietly(this.current);
    this.wake?.();
  }

  private async run(first: ConsumerMessages | undefined): Promise<void> {
    let messages = first;
    while (!this.stopping) {
      if (!messages) {
        if (this.paused()) {
          await this.idle();
          continue;
        }
        try {
          messages = await this.open();
        } catch (e) {
          this.failed(e, 'could not pull the job consumer again after a resume; retrying');
          await this.idle();
          continue;
        }
      }
      this.current = messages;
      this.stoppedForPause = false;
      if (this.paused()) this.pause();
      try {
        for await (const msg of messages) {
          const wait = this.take(msg);
          if (wait) await wait;
        }
      } catch (e) {
        if (!this.stopping) this.failed(e, 'job consumer loop ended');
        return;
      } finally {
        this.current = undefined;
      }
      if (!this.stoppedForPause) return;
      messages = undefined;
    }
  }

  private async idle(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, PAUSED_RECHECK_MS);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }
}
