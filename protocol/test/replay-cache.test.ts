import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayCache } from '../pci/replay-cache.ts';

describe('ReplayCache', () => {
  it('remembers an id until its expiry, inclusive', () => {
    const c = new ReplayCache({ maxEntries: 10 });
    c.add('a', 1000, 0);
    expect(c.has('a', 0)).toBe(true);
    expect(c.has('a', 1000)).toBe(true);
    expect(c.has('a', 1001)).toBe(false);
    expect(c.has('b', 0)).toBe(false);
  });

  it('sweeps expired ids when adding, without counting them as evictions', () => {
    const c = new ReplayCache({ maxEntries: 2 });
    c.add('a', 100, 0);
    c.add('b', 200, 0);
    c.add('c', 300, 150); // 'a' expired at 100
    expect(c.size).toBe(2);
    expect(c.has('b', 150)).toBe(true);
    expect(c.has('c', 150)).toBe(true);
    expect(c.evictedBeforeExpiry).toBe(0);
  });

  it('when full, drops the id closest to expiry', () => {
    const c = new ReplayCache({ maxEntries: 3 });
    c.add('late', 5000, 0);
    c.add('soon', 1000, 0);
    c.add('mid', 3000, 0);
    c.add('new', 4000, 0);
    expect(c.size).toBe(3);
    expect(c.has('soon', 0)).toBe(false);
    for (const id of ['late', 'mid', 'new']) expect(c.has(id, 0)).toBe(true);
    expect(c.evictedBeforeExpiry).toBe(1);
  });

  it('keeps the later expiry of an id added twice; ignores ids already expired', () => {
    const c = new ReplayCache({ maxEntries: 10 });
    c.add('a', 1000, 0);
    c.add('a', 500, 0);
    expect(c.has('a', 900)).toBe(true);
    c.add('a', 2000, 0);
    expect(c.has('a', 1500)).toBe(true);
    c.add('old', 10, 20);
    expect(c.has('old', 5)).toBe(false);
    expect(c.size).toBe(1);
  });

  it('stays bounded under many re-adds (stale heap entries are compacted)', () => {
    const c = new ReplayCache({ maxEntries: 5 });
    for (let i = 0; i < 10_000; i++) c.add(`id${i % 5}`, 1_000_000 + i, 0);
    expect(c.size).toBe(5);
    for (let i = 0; i < 5; i++) expect(c.has(`id${i}`, 1_000_000 + 9_995 + i)).toBe(true);
  });

  it('rejects a bad size', () => {
    expect(() => new ReplayCache({ maxEntries: 0 })).toThrow(/maxEntries/);
  });

  it('matches a simple model (evict expired, then the soonest to expire) on random operations', () => {
    type Op = { kind: 'add'; id: number; ttl: number; advance: number } | { kind: 'has'; id: number; advance: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        id: fc.integer({ min: 0, max: 30 }),
        ttl: fc.integer({ min: -5, max: 200 }),
        advance: fc.integer({ min: 0, max: 20 }),
      }),
      fc.record({
        kind: fc.constant('has' as const),
        id: fc.integer({ min: 0, max: 30 }),
        advance: fc.integer({ min: 0, max: 20 }),
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
        const c = new ReplayCache({ maxEntries: max });
        const model = new Map<string, number>();
        let now = 0;
        let seq = 0;
        for (const o of ops) {
          now += o.advance;
          const id = `i${o.id}`;
          if (o.kind === 'has') {
            const at = model.get(id);
            expect(c.has(id, now)).toBe(at !== undefined && now <= at);
            continue;
          }
          // Distinct expiries (a fraction per add) so "soonest to expire" has one answer.
          const expires = now + o.ttl + ++seq / 1e6;
          for (const [k, at] of model) if (at < now) model.delete(k);
          if (expires < now) continue;
          const held = model.get(id);
          if (held !== undefined) {
            model.set(id, Math.max(held, expires));
          } else {
            while (model.size >= max) {
              let soonest = '';
              let min = Number.POSITIVE_INFINITY;
              for (const [k, at] of model) if (at < min) [soonest, min] = [k, at];
              model.delete(soonest);
            }
            model.set(id, expires);
          }
          c.add(id, expires, now);
          expect(c.size).toBeLessThanOrEqual(max);
        }
      }),
      { numRuns: 500 },
    );
  });
});
