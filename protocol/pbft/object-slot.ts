/**
 * A value remembered for an object on the object itself, under a private symbol: a
 * WeakMap's job (the value lives exactly as long as the object) without its cost.
 *
 * Why not a WeakMap: at saturation a validator remembers several values (canonical
 * bytes, digests) for each of thousands of short-lived requests a second. V8 keeps a
 * WeakMap as an ephemeron table in the old generation, which every young-generation
 * collection must walk for entries whose keys died, and which grows and is rehashed as
 * entries come and go; perf showed the table's growth, ephemeron processing and the
 * identity hashes it needs in the profile of a saturated backup. A property on the object
 * is freed with it and costs the collector nothing extra.
 *
 * The property is non-enumerable (defineProperty), so it is invisible to Object.keys,
 * JSON, spreads and deep-equality checks in tests. Messages are read-only by type
 * (types.ts), not frozen; the few frozen objects (a null request's empty batch) are kept
 * in a WeakMap as before. The values kept are functions of the
 * object, which is never mutated, so a slot set twice holds the same value.
 */
export class ObjectSlot<K extends object, V> {
  readonly #symbol: symbol;
  /** Values of frozen objects (the empty batch of a null request is one), which take no new property. */
  readonly #frozen = new WeakMap<K, V>();

  constructor(description: string) {
    this.#symbol = Symbol(description);
  }

  get(o: K): V | undefined {
    return (o as unknown as Record<symbol, V | undefined>)[this.#symbol] ?? this.#frozen.get(o);
  }

  set(o: K, value: V): void {
    if (!Object.isExtensible(o)) this.#frozen.set(o, value);
    else Object.defineProperty(o, this.#symbol, { value, enumerable: false, writable: true, configurable: true });
  }
}
