/** A job's service-level objectives (docs/durability.md). */
export interface JobSla {
  /** A run still running this long after its attempt started breaches `duration`. */
  maxDurationMs?: number;
  /** A run starting this long after it was due (scheduledFor) breaches `lateness`. */
  maxLatenessMs?: number;
}

export type SlaBreachKind = 'duration' | 'lateness';
