import { Allow } from 'class-validator';

/**
 * The contract of a domain event that triggers schedules but has no contract
 * of its own in MESSAGE_CONTRACTS: the scheduler only forwards its data into
 * the job payload, where the job's own contract validates it.
 */
export class AnyDomainEvent {
  /** Only here so class-validator knows the class (it rejects classes without metadata); any data passes. */
  @Allow()
  readonly anyData?: unknown;
}
