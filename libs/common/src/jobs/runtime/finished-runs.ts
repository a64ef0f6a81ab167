import { Injectable } from '@nestjs/common';
import { HistoryRepository } from '../history/history.repository.js';
import { OverlappingBatcher } from '../../util/overlapping-batcher.js';

export type LastAttempt = { outcome: string; attempt: number; final: boolean } | null;

/**
 * Answers "is this run already finished?" from the run history, many
 * deliveries per query. Asked only for a delivery that may repeat a finished
 * attempt whose ack was lost: one that follows a lost delivery, or one whose
 * message is older than the consumer's ack wait. nats-server 2.9 hands such a
 * message out again with its delivery count set back to 1 when a dead worker's
 * pull outlives the redelivery; pulls now expire within a third of the ack
 * wait (pull-expiry.ts), which removes that cause for ack waits above 2 s, and
 * this check stays as the backstop for what the count cannot show. A fresh
 * first delivery never asks. The same answer tells a redelivered pack which of
 * its jobs finished and where the others stand, and a job handed off again from
 * such a pack whether its attempt is already recorded.
 */
@Injectable()
export class FinishedRuns {
  private readonly batcher: OverlappingBatcher<string, LastAttempt>;

  constructor(history: HistoryRepository) {
    this.batcher = new OverlappingBatcher(async (runIds) => {
      const found = await history.lastAttempts([...new Set(runIds)]);
      return runIds.map((id) => found.get(id) ?? null);
    }, { maxItems: 500, maxDelayMs: 5, inFlight: 2 });
  }

  /** The run's latest recorded attempt (its final one if it has one), or null when it has none. */
  last(runId: string): Promise<LastAttempt> {
    return this.batcher.add(runId);
  }
}
