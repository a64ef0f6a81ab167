/**
 * A value of a history row that cannot be written as JSON: a handler's result
 * holding a BigInt or a cycle, or one too large to keep. Postgres never sees the row, but it is the
 * same kind of failure as one Postgres refuses as data: HistoryWriter stores
 * the row again without its result and payload. Left an ordinary error, it
 * was retried as if Postgres were away, for ever, holding its whole batch.
 */
export class UnstorableValueError extends Error {
  override readonly name = 'UnstorableValueError';
}

/** `v` as JSON text, or UnstorableValueError when it cannot be JSON or its JSON is longer than `maxChars`. */
export function storableJson(v: unknown, maxChars = Number.POSITIVE_INFINITY): string {
  let text: string;
  try {
    text = JSON.stringify(v);
  } catch (e) {
    throw new UnstorableValueError(`a value of the run history row cannot be written as JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (text.length > maxChars) throw new UnstorableValueError(`a value of the run history row is ${text.length} characters of JSON, over the ${maxChars} it may hold`);
  return text;
}
