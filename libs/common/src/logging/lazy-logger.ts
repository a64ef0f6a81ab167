import type { Logger } from 'pino';

interface LazyTarget {
  make: () => Logger;
  logger?: Logger;
}

/** One handler for every lazy logger: the logger and how to make it live on the proxy's target, not in closures per run. */
const LAZY: ProxyHandler<LazyTarget> = {
  get(target, property) {
    const logger = (target.logger ??= target.make());
    const value = (logger as unknown as Record<PropertyKey, unknown>)[property];
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(logger) : value;
  },
  set(target, property, value) {
    const logger = (target.logger ??= target.make());
    (logger as unknown as Record<PropertyKey, unknown>)[property] = value;
    return true;
  },
};

/**
 * A logger built on first use. Every job run gets its own child logger
 * (runId, job, companyId, attempt; a redacting one for sensitive jobs), but
 * most runs never log, and a pino child with redaction costs more CPU than a
 * short job's handler.
 */
export function lazyLogger(make: () => Logger): Logger {
  return new Proxy<LazyTarget>({ make }, LAZY) as unknown as Logger;
}
