/**
 * Ids of accepted envelopes, each remembered until its envelope expires
 * (timestamp + ttl): after that R001 refuses a replay anyway, so the id can go.
 *
 * Bounded: at most `maxEntries` ids. When full, the id closest to expiry is dropped
 * first. That is the "oldest" in the sense that matters: the one whose protection
 * ends soonest, so the least replay protection is lost per eviction (dropping the
 * first-inserted instead would drop a long-lived id before a short-lived one). A
 * cache that has to evict can be replayed through: size it to at least the accepted
 * rate times the longest TTL allowed (PciPolicy.maxTtlSeconds).
 *
 * A Map for lookups plus a binary min-heap on expiry, so expiring and evicting cost
 * O(log n) per id. Pure: time is passed in.
 */

export interface ReplayCacheOptions {
  maxEntries: number;
}

export const defaultReplayCacheOptions: ReplayCacheOptions = { maxEntries: 100_000 };

export class ReplayCache {
  readonly maxEntries: number;
  /** id -> expiresAtMs */
  readonly #expiry = new Map<string, number>();
  /** Heap of [expiresAtMs, id]; may hold stale pairs for ids re-added with a later expiry. */
  readonly #heapAt: number[] = [];
  readonly #heapId: string[] = [];
  #evicted = 0;

  constructor(opts: Partial<ReplayCacheOptions> = {}) {
    const max = opts.maxEntries ?? defaultReplayCacheOptions.maxEntries;
    if (!Number.isSafeInteger(max) || max < 1)
      throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    this.maxEntries = max;
  }

  /** Ids held, including any that have expired but were not yet swept. */
  get size(): number {
    return this.#expiry.size;
  }

  /** Ids dropped before they expired because the cache was full (a metric worth watching). */
  get evictedBeforeExpiry(): number {
    return this.#evicted;
  }

  /** True if `idHex` was added and has not expired at `nowMs` (expiry is inclusive: at expiresAtMs it still counts). */
  has(idHex: string, nowMs: number): boolean {
    const at = this.#expiry.get(idHex);
    return at !== undefined && nowMs <= at;
  }

  /** Remembers `idHex` until `expiresAtMs`; an id already held keeps the later of its two expiries. */
  add(idHex: string, expiresAtMs: number, nowMs: number): void {
    this.#sweep(nowMs);
    if (expiresAtMs < nowMs) return; // already expired: nothing to protect
    const held = this.#expiry.get(idHex);
    if (held !== undefined) {
      if (expiresAtMs <= held) return;
      this.#expiry.set(idHex, expiresAtMs);
      this.#push(expiresAtMs, idHex);
      this.#compactIfStale();
      return;
    }
    while (this.#expiry.size >= this.maxEntries) {
      if (this.#popLive()) this.#evicted++;
    }
    this.#expiry.set(idHex, expiresAtMs);
    this.#push(expiresAtMs, idHex);
  }

  /** Drops every id that has expired at `nowMs`. */
  #sweep(nowMs: number): void {
    while (this.#heapAt.length > 0 && this.#heapAt[0]! < nowMs) this.#popLive();
  }

  /** Pops the heap top and forgets its id unless the pair is stale (the id was re-added later). */
  #popLive(): boolean {
    const [at, id] = this.#pop();
    if (this.#expiry.get(id) !== at) return false;
    this.#expiry.delete(id);
    return true;
  }

  /** Stale pairs only come from re-adds; rebuild once they outnumber live ids. */
  #compactIfStale(): void {
    if (this.#heapAt.length <= 2 * this.#expiry.size + 16) return;
    this.#heapAt.length = 0;
    this.#heapId.length = 0;
    for (const [id, at] of this.#expiry) this.#push(at, id);
  }

  #push(at: number, id: string): void {
    const a = this.#heapAt;
    const ids = this.#heapId;
    let i = a.length;
    a.push(at);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= at) break;
      a[i] = a[parent]!;
      ids[i] = ids[parent]!;
      i = parent;
    }
    a[i] = at;
    ids[i] = id;
  }

  #pop(): [number, string] {
    const a = this.#heapAt;
    const ids = this.#heapId;
    const top: [number, string] = [a[0]!, ids[0]!];
    const lastAt = a.pop()!;
    const lastId = ids.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && a[l + 1]! < a[l]! ? l + 1 : l;
        if (a[c]! >= lastAt) break;
        a[i] = a[c]!;
        ids[i] = ids[c]!;
        i = c;
      }
      a[i] = lastAt;
      ids[i] = lastId;
    }
    return top;
  }
}
