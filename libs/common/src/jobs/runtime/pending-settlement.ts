import type { AttemptOutcome } from '../history/attempt-record.js';
import type { Completion } from '../../util/overlapping-batcher.js';
import type { Delivery } from './delivery.js';
import type { Outcome } from './outcome.js';
import type { Settlement } from './settlement.js';

/** Told once a delivery is settled, or left to come back. */
export interface SettleListener {
  settled(): void;
}

/** One job's settlement while its rows wait for their history batch: the rows' completion, then `committed`. */
export class PendingSettlement implements Completion<void> {
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly settlement: Settlement,
    private readonly d: Delivery,
    private readonly outcome: Exclude<Outcome, { kind: 'snooze' }>,
    private readonly state: AttemptOutcome,
    private readonly durationMs: number,
    private readonly finishedAt: Date,
    private readonly error: string | null,
    private readonly after: SettleListener,
    private rows: number,
  ) {}

  resolve(): void {
    if (--this.rows === 0) this.done();
  }

  reject(error: unknown): void {
    this.failure ??= { error };
    if (--this.rows === 0) this.done();
  }

  private done(): void {
    if (this.failure) return this.settlement.unsettled(this.d, this.failure.error, this.after);
    this.settlement.committed(this.d, this.outcome, this.state, this.durationMs, this.finishedAt, this.error, this.after);
  }
}
