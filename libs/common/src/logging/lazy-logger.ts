import type { Logger } from 'pino';

/**
 * A logger built on first use. Every job run gets its own child logger
 * (runId, job, companyId, attempt; a redacting one for sensitive jobs), but
 * most runs never log, and a pino child with redaction costs more CPU than a
 * short job's handler.
 */
export function lazyLogger(make: () => Logger): Logger {
  let logger: Logger | undefined;
  return new Proxy({} as Logger, {
    get(_, property) {
      logger ??= make();
      const value = (logger as unknown as Record<PropertyKey, unknown>)[property];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(logger) : value;
    },
    set(_, property, value) {
      logger ??= make();
      (logger as unknown as Record<PropertyKey, unknown>)[property] = value;
      return true;
    },
  });
}
