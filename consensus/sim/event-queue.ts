/**
 * The simulator's agenda: events ordered by time, ties by insertion order, so a run is
 * a deterministic function of its seed. A binary heap.
 */
interface Entry {
  readonly at: number;
  readonly order: number;
  readonly run: () => void;
}

export class EventQueue {
  readonly #heap: Entry[] = [];
  #order = 0;
  #now = 0;

  get now(): number {
    return this.#now;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Runs `run` at `at` (not earlier than now). */
  at(at: number, run: () => void): void {
    const e: Entry = { at: Math.max(at, this.#now), order: this.#order++, run };
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Runs the next event; false when there is none or it lies beyond `until`. */
  step(until = Number.POSITIVE_INFINITY): boolean {
    const h = this.#heap;
    const top = h[0];
    if (top === undefined || top.at > until) return false;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    this.#now = top.at;
    top.run();
    return true;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
