/**
 * Deletes the oldest entries (in insertion order) of a Map used as a FIFO queue, in
 * amortised constant time: a bounded cache whose entries come in at the end and leave only
 * through this, oldest first, once it is full.
 *
 * Not `map.delete(map.keys().next().value)`: V8 leaves each deleted entry in the Map's
 * table as a hole until the table is next rebuilt, and a fresh iterator starts at the
 * table's first slot, so every such call walks over all the entries deleted since then. A
 * full cache of 65,536 entries that drops one per insert walked tens of thousands of holes
 * each time: 17-19 µs an insert against 0.4-0.6 µs (`npm run bench:oldest-first`), about a
 * seventh of a saturated validator's CPU once its cache of valid signatures had filled
 * (docs/pbft.md, "A full cache that walked its holes").
 *
 * This keeps one iterator and goes on from where it stopped. Every key before its position
 * was deleted through it, so the next key it yields is the oldest still in the map; a live
 * Map iterator follows the table through deletions, additions and rebuilds (ECMAScript's
 * Map iteration rules), and an entry deleted and set again moves behind it, as it moves to
 * the end of the insertion order. So it stays correct whatever the owner does to the map.
 *
 * Not for an LRU, which re-inserts an entry on every hit: a live iterator keeps each table
 * V8 replaces reachable until its next step, and hits with no eviction between them rebuild
 * the table again and again (an idle iterator held 112 MB after two million re-inserts into
 * a map of 4,096). In a FIFO every insert into the full map steps the iterator, so it holds
 * at most the table it last stepped in.
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
