/** How long a job's data is kept after its run finished (docs/durability.md); unset: the platform defaults apply. */
export interface JobRetention {
  /** Finished runs (job_runs rows, with their payloads and outbox rows). */
  runsMs?: number;
  /** Step results of finished runs (job_steps). */
  stepsMs?: number;
  /** Dead letters of the job (dead_letters rows, by creation). */
  deadLettersMs?: number;
}
