/**
 * A Map for short-lived values (running jobs) kept by a long-lived process:
 * each value sits in a box that is emptied when its entry is deleted.
 *
 * V8 replaces a Map's hash table as it grows, shrinks or fills with deleted
 * slots, links the replaced table to its successor and leaves the replaced
 * table's entries in place. Once the Map is in old space those dead tables are
 * roots for every young-generation GC until the next full one, so each value
 * they ever held survives and is promoted (`npm run bench:v8-probe`). In the job
 * runtime's maps of running and settling attempts that promoted whole attempts
 * (message, event, payload). Emptied boxes leave the dead tables nothing but a
 * key and an empty box: bench worker at 1,000 jobs/s, quick plan, 2026-12-04,
 * promoted per young GC 340 → 109 KB, full GCs in 18 s 4 → 2.
 */
export class ClearingMap<K, V> {
  private readonly boxes = new Map<K, { value: V | undefined }>();

  get size(): number {
    return this.boxes.size;
  }

  get(key: K): V | undefined {
    return this.boxes.get(key)?.value;
  }

  set(key: K, value: V): this {
    const box = this.boxes.get(key);
    if (box) box.value = value;
    else this.boxes.set(key, { value });
    return this;
  }

  /** With `only`: deletes the entry only while it still holds that value (one lookup, not a get before the delete). */
  delete(key: K, only?: V): boolean {
    const box = this.boxes.get(key);
    if (!box || (only !== undefined && box.value !== only)) return false;
    box.value = undefined;
    return this.boxes.delete(key);
  }

  *values(): IterableIterator<V> {
    for (const box of this.boxes.values()) yield box.value as V;
  }
}
