/** A position in a list sorted by (timestamp, id): the last item of the previous page. */
export interface TimeKeyset {
  at: Date;
  id: string;
}

/** Which page of a (timestamp, id)-sorted list to read. */
export interface PageRequest {
  limit: number;
  after: TimeKeyset | null;
}

/** One page and where the next one starts (null: this was the last). */
export interface KeysetPage<T> {
  items: T[];
  next: TimeKeyset | null;
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says that another page exists. */
export function keysetPage<R, T>(rows: R[], limit: number, map: (row: R) => T, keyOf: (row: R) => TimeKeyset): KeysetPage<T> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return { items: kept.map(map), next: rows.length > limit && last !== undefined ? keyOf(last) : null };
}
