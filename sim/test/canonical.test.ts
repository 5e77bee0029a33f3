import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDigest, canonicalJson, roundTo, sortKeys } from '../canonical.ts';
import { mulberry32 } from '../prng.ts';

describe('canonical JSON', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (d) => {
        const reversed = Object.fromEntries(Object.entries(d).reverse());
        return canonicalJson(d) === canonicalJson(reversed);
      }),
    );
  });

  it('refuses values that have no single encoding', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/\$\.a is not a finite number/);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(/finite/);
    expect(() => canonicalJson({ a: undefined })).toThrow(/unsupported type undefined/);
    expect(() => canonicalJson({ a: new Date(0) })).toThrow(/not a plain object/);
    expect(canonicalJson({ a: -0 })).toBe('{"a":0}');
  });

  it('digests are domain-separated', () => {
    expect(canonicalDigest({ a: 1 }, 'one')).not.toBe(canonicalDigest({ a: 1 }, 'two'));
    expect(canonicalDigest({ a: 1 }, 'one')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sortKeys orders keys for printing without changing values', () => {
    expect(Object.keys(sortKeys({ b: 1, a: 2 }))).toEqual(['a', 'b']);
    expect(JSON.stringify(sortKeys({ b: [{ d: 1, c: 2 }], a: 2 }))).toBe('{"a":2,"b":[{"c":2,"d":1}]}');
  });
});

describe('roundTo', () => {
  it('rounds half away from zero at 0-6 decimals', () => {
    expect(roundTo(1394.3999999999999, 2)).toBe(1394.4);
    expect(roundTo(2.5, 0)).toBe(3);
    expect(roundTo(-2.5, 0)).toBe(-3);
    expect(roundTo(-0.0001, 2)).toBe(0);
    expect(Object.is(roundTo(-0.0001, 2), -0)).toBe(false);
    expect(() => roundTo(1, 7)).toThrow(RangeError);
  });
});

describe('mulberry32', () => {
  it('is a pure function of its seed, in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(mulberry32(43).next()).not.toBe(xs[0]);
  });

  it('matches its first outputs for seed 1, computed once and pinned (integer-only steps)', () => {
    const g = mulberry32(1);
    expect([g.nextUint32(), g.nextUint32(), g.nextUint32()]).toEqual(PINNED_SEED_1);
  });
});

// 2693262067 / 2^32 = 0.6270739405881613, the first value usually quoted for mulberry32(1).
const PINNED_SEED_1 = [2693262067, 11749833, 2265367787];
