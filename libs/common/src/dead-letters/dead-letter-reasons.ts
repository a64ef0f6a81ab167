/** Why a message was dead-lettered (dead_letters.reason, the `reason` label of metronome_dlq_messages_total). */
export const DEAD_LETTER_REASONS = ['malformed', 'tenant_mismatch', 'invalid_payload', 'permanent_error', 'attempts_exhausted'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];
