export * from './audit.types.js';
export * from './audit.repository.js';
export * from './audit-log.js';
export * from './audited.decorator.js';
export * from './audited-routes.js';
export { redactedErrorText, redactSecrets, redactSecretText } from './redact-secrets.js';
export { inAmbientTransaction, joinAmbientTransactions, afterCommit, inAmbient, outsideAmbient, savepoint } from './ambient-transaction.js';
