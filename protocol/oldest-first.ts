/**
 * Deletes a Map's oldest entries (in insertion order) in amortised constant time, for the
 * bounded caches that use a Map as their queue: drop the oldest entry when full, and (an
 * LRU) delete and set again an entry that is used, which moves it to the end.
 *
 * Not `map.delete(map.keys().next().value)`: V8 leaves each deleted entry in the Map's
 * table as a hole until the table is next rebuilt, and a fresh iterator starts at the
 * table's first slot, so every such call walks over all the entries deleted since then. A
 * full cache of 65,536 entries that drops one per insert walked tens of thousands of holes
 * each time: 11.5 µs an insert against 0.4 µs (`npm run bench:oldest-first`), and about a
 * tenth of a saturated validator's CPU once its cache of valid signatures had filled up
 * (docs/pbft.md, "A full cache that walked its holes").
 *
 * This keeps one iterator and goes on from where it stopped. Every key before its position
 * was deleted through it, so the next key it yields is the oldest still in the map: an
 * entry deleted and set again by its owner moves behind the iterator, as it moves to the
 * end of the insertion order, and a live Map iterator follows the table through deletions,
 * additions and rebuilds (ECMAScript's Map iteration rules). So the owner may delete, set
 * and clear the map freely, but must delete its oldest entries only through this.
 */
export class OldestFirst<K> {
  readonly #map: Map<K, unknown>;
  #keys: Iterator<K> | null = null;

  constructor(map: Map<K, unknown>) {
    this.#map = map;
  }

  /** Deletes the map's oldest entry and returns its key; undefined (and nothing deleted) if the map is empty. */
  deleteOldest(): K | undefined {
    let next = this.#keys?.next();
    // An iterator that has returned done is done for good (ECMAScript): start another.
    if (next === undefined || next.done === true) {
      this.#keys = this.#map.keys();
      next = this.#keys.next();
    }
    if (next.done === true) return undefined;
    this.#map.delete(next.value);
    return next.value;
  }
}
