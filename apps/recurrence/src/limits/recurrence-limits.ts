import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../../libs/common/src/index.js';
import { InvalidRecurrenceRuleError, localDateTimeToInstant, type ExpansionTurn } from '../../../../libs/common/src/time/index.js';
import { Semaphore } from '../../../../libs/common/src/util/semaphore.js';

const YEAR = 365.25 * 86_400_000;

/** A tenant reached one of its caps (templates, calendar events, planned reminders): 409 problem+json. */
export class TenantLimitError extends Error {
  constructor(readonly what: string, readonly limit: number, readonly key: string) {
    super(`the tenant already has the most ${what} allowed (${limit}, ${key}); remove some first`);
    this.name = 'TenantLimitError';
  }
}

/**
 * What one request may make the recurrence service do (RECURRENCE_* keys):
 * a rule's start within a window around now, every expansion in slices under
 * a wall-clock budget, one slice at a time in the process with a turn of the
 * event loop before each (so /healthz and other requests are served between
 * slices whatever arrives at once), and per-tenant caps on templates,
 * calendar events and planned reminders.
 */
@Injectable()
export class RecurrenceLimits {
  private readonly gate = new Semaphore(1);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * Runs one synchronous expansion slice: alone in the process, after a short
   * pause in which the event loop polls I/O (a bare setImmediate lets one
   * poll through, and answering a request takes several).
   */
  readonly turn: ExpansionTurn = async (work) => {
    await this.gate.acquire();
    try {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return work();
    } finally {
      this.gate.release();
    }
  };

  /** Most milliseconds one synchronous slice of an expansion may take (RECURRENCE_EXPANSION_BUDGET_MS; the whole expansion 8 times that). */
  get budgetMs(): number {
    return this.config.recurrence.expansionBudgetMs;
  }

  /** The options every expansion of this service runs with. */
  get expansion(): { budgetMs: number; turn: ExpansionTurn } {
    return { budgetMs: this.budgetMs, turn: this.turn };
  }

  get maxTemplates(): number {
    return this.config.recurrence.maxTemplatesPerTenant;
  }

  get maxEvents(): number {
    return this.config.recurrence.maxEventsPerTenant;
  }

  get maxReminders(): number {
    return this.config.recurrence.maxRemindersPerTenant;
  }

  /**
   * Refuses (InvalidRecurrenceRuleError on `start`, a 422) a start outside
   * [now - RECURRENCE_START_MAX_PAST_YEARS, now + RECURRENCE_START_MAX_FUTURE_YEARS].
   * An unreadable start or zone is left to the rule parser, which says what is wrong.
   */
  checkStart(rule: string, startLocal: string, timezone: string, now: Date): void {
    let at: number;
    try {
      at = localDateTimeToInstant(startLocal, timezone).getTime();
    } catch {
      return;
    }
    const { startMaxPastYears: past, startMaxFutureYears: future } = this.config.recurrence;
    const earliest = now.getTime() - past * YEAR;
    const latest = now.getTime() + future * YEAR;
    if (at < earliest || at > latest) {
      throw new InvalidRecurrenceRuleError(
        rule,
        `startLocal ${startLocal} must lie between ${past} years before and ${future} years after now ` +
          `(${new Date(earliest).toISOString().slice(0, 10)} .. ${new Date(latest).toISOString().slice(0, 10)}; RECURRENCE_START_MAX_PAST_YEARS, RECURRENCE_START_MAX_FUTURE_YEARS)`,
        'start',
      );
    }
  }
}
