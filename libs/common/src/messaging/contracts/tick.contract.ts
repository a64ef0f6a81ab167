import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * Payload of the walking-skeleton job `documents.tick` (the `payload` of the
 * scheduler's JobMessage { runId, companyId?, payload, scheduledFor }): the run
 * id and due time travel in the JobMessage and reach the handler as
 * `ctx.runId` / `ctx.scheduledFor`.
 */
export class TickJob {
  @IsOptional()
  @IsInt()
  @Min(0)
  sequence?: number;

  /** Simulated work in the handler, for demos and shutdown tests. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600_000)
  workMs?: number;
}
