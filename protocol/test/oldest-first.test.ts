/**
 * OldestFirst against the plain rule it replaces: the entry it deletes is always the one
 * a fresh iterator would name first, whatever the owner did to the map in between.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OldestFirst } from '../oldest-first.ts';

type Op =
  | { kind: 'set'; key: number }
  | { kind: 'touch'; key: number }
  | { kind: 'delete'; key: number }
  | { kind: 'evict' }
  | { kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }).map((key): Op => ({ kind: 'set', key })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 40 }).map((key): Op => ({ kind: 'touch', key })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 40 }).map((key): Op => ({ kind: 'delete', key })) },
  { weight: 4, arbitrary: fc.constant<Op>({ kind: 'evict' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'clear' }) },
);

describe('OldestFirst', () => {
  it('deletes exactly the entry a fresh iterator names first, through sets, re-inserts, deletes and clears', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const map = new Map<number, number>();
        const model = new Map<number, number>();
        const oldest = new OldestFirst(map);
        for (const [i, o] of ops.entries()) {
          switch (o.kind) {
            case 'set':
              map.set(o.key, i);
              model.set(o.key, i);
              break;
            case 'touch':
              // A re-insert (an LRU's hit): delete and set again, to the end of the order.
              if (map.has(o.key)) {
                map.delete(o.key);
                map.set(o.key, i);
                model.delete(o.key);
                model.set(o.key, i);
              }
              break;
            case 'delete':
              map.delete(o.key);
              model.delete(o.key);
              break;
            case 'evict': {
              const expected = model.keys().next();
              if (!expected.done) model.delete(expected.value);
              expect(oldest.deleteOldest()).toBe(expected.done ? undefined : expected.value);
              break;
            }
            case 'clear':
              map.clear();
              model.clear();
              break;
          }
          expect([...map]).toEqual([...model]);
        }
      }),
      { numRuns: 300, seed: 20261203 },
    );
  });

  it('answers undefined for an empty map and deletes nothing, then goes on once entries come', () => {
    const map = new Map<string, number>();
    const oldest = new OldestFirst(map);
    expect(oldest.deleteOldest()).toBeUndefined();
    map.set('a', 1);
    map.set('b', 2);
    expect(oldest.deleteOldest()).toBe('a');
    expect(oldest.deleteOldest()).toBe('b');
    expect(oldest.deleteOldest()).toBeUndefined();
    map.set('c', 3);
    expect(oldest.deleteOldest()).toBe('c');
    expect(map.size).toBe(0);
  });

  it('keeps a full bounded map in insertion order as it turns over many times', () => {
    const map = new Map<number, number>();
    const oldest = new OldestFirst(map);
    const max = 1000;
    for (let k = 0; k < 50 * max; k++) {
      if (map.size >= max) expect(oldest.deleteOldest()).toBe(k - max);
      map.set(k, k);
    }
    expect([...map.keys()]).toEqual(Array.from({ length: max }, (_, i) => 49 * max + i));
  });
});
