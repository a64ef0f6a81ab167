/** A promise or anything awaitable: what a handler or a step may return instead of a plain value. */
export function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
