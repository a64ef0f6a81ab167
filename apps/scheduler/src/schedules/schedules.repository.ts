/** Moved to libs/common/src/schedule (services register schedules too); re-exported for the scheduler's imports. */
export * from '../../../../libs/common/src/schedule/schedules.repository.js';
