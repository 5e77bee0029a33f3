import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INDUSTRIES } from '../macro/industries.ts';
import { loadIoModel } from '../macro/io-model.ts';
import { leontiefInverse, multiply, outputMultipliers } from '../macro/leontief.ts';
import { generateSyntheticIoTable } from '../macro/synthetic-io.ts';
import { REGION_COUNT } from '../regions.ts';

describe('Leontief inverse', () => {
  it('matches a 3-sector example solved by hand', () => {
    // A = | 0.2 0.4 0.0 |     I - A = | 0.8 -0.4  0.0 |  = M / 5,  M = |  4 -2  0 |
    //     | 0.2 0.2 0.2 |             |-0.2  0.8 -0.2 |                 | -1  4 -1 |
    //     | 0.0 0.4 0.2 |             | 0.0 -0.4  0.8 |                 |  0 -2  4 |
    // det M = 4(16 - 2) - (-2)(-4 - 0) + 0 = 56 - 8 = 48
    // cofactors C11=14 C12=4 C13=2 C21=8 C22=16 C23=8 C31=2 C32=4 C33=14; adj M = C^T
    // (I - A)^-1 = 5 M^-1 = (5/48) | 14  8  2 |   = | 70 40 10 | / 48
    //                              |  4 16  4 |     | 20 80 20 |
    //                              |  2  8 14 |     | 10 40 70 |
    // Check row 1 of (I - A) times column 1: (0.8 x 70 - 0.4 x 20) / 48 = (56 - 8) / 48 = 1.
    const a = Float64Array.from([0.2, 0.4, 0.0, 0.2, 0.2, 0.2, 0.0, 0.4, 0.2]);
    const expected = [70, 40, 10, 20, 80, 20, 10, 40, 70].map((x) => x / 48);
    const l = leontiefInverse(a, 3);
    for (let k = 0; k < 9; k++) expect(l[k]).toBeCloseTo(expected[k]!, 12);
    // Output multipliers are the column sums: 100/48, 160/48, 100/48.
    const m = outputMultipliers(l, 3);
    expect([...m].map((x) => x * 48)).toEqual([100, 160, 100].map((x) => expect.closeTo(x, 9)));
    // £48 of final demand for sector 2 needs 40, 80, 40 of output from sectors 1, 2, 3.
    expect([...multiply(l, 3, Float64Array.from([0, 48, 0]))]).toEqual([40, 80, 40].map((x) => expect.closeTo(x, 9)));
  });

  it('needs pivoting for a zero on the diagonal of I - A, and refuses a singular system', () => {
    // I - A = [[0, 1], [1, 0]] (a swap) is its own inverse.
    expect([...leontiefInverse(Float64Array.from([1, -1, -1, 1]), 2)]).toEqual([0, 1, 1, 0]);
    expect(() => leontiefInverse(Float64Array.from([0.5, 0.5, 0.5, 0.5]), 2)).toThrow(/singular/);
  });
});

describe('the 105-industry coefficient table (synthetic)', () => {
  const households = Array.from({ length: REGION_COUNT }, () => 1);
  const io = loadIoModel(households);

  it('is the output of the documented seeded procedure, unchanged', () => {
    const shipped = JSON.parse(readFileSync(new URL('../data/io-table-105.json', import.meta.url), 'utf8'));
    expect(shipped).toEqual(generateSyntheticIoTable());
    expect(shipped.synthetic).toBe(true);
  });

  it('covers the 105 ONS industries', () => {
    expect(io.n).toBe(105);
    expect(INDUSTRIES).toHaveLength(105);
    expect(io.codes).toContain('F41, F42 & F43');
  });

  it('has Type I output multipliers between 1.3 and 2.5', () => {
    const m = [...io.multipliers];
    expect(Math.min(...m)).toBeGreaterThanOrEqual(1.3);
    expect(Math.max(...m)).toBeLessThanOrEqual(2.5);
  });

  it('(I - A) times the cached inverse is the identity', () => {
    const n = io.n;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += ((i === k ? 1 : 0) - io.a[i * n + k]!) * io.leontief[k * n + j]!;
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it('spreads each industry over the regions with shares summing to 1, and GVA shares are positive', () => {
    for (let j = 0; j < io.n; j++) {
      let s = 0;
      for (let r = 0; r < REGION_COUNT; r++) s += io.regionShare[j * REGION_COUNT + r]!;
      expect(s).toBeCloseTo(1, 12);
      expect(io.gvaShare[j]).toBeGreaterThan(0);
    }
  });

  it('a different seed gives a different table (the seed matters)', () => {
    expect(generateSyntheticIoTable(1).coefficients).not.toEqual(generateSyntheticIoTable().coefficients);
  });
});
