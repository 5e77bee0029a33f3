import { describe, expect, it } from 'vitest';
import { abatementAt, checkCarbonBudget } from '../climate/climate.ts';

describe('carbon budget check (Sixth Carbon Budget, 965 MtCO2e over 2033-37)', () => {
  it('COMPLIANT with headroom when the trajectory sums under the limit', () => {
    const c = checkCarbonBudget('Sixth Carbon Budget', 965, [200, 195, 190, 185, 180]);
    expect(c).toMatchObject({ status: 'COMPLIANT', projectedMt: 950, headroomMt: 15, overshootMt: 0 });
  });

  it('BREACH with overshoot when it sums over', () => {
    const c = checkCarbonBudget('Sixth Carbon Budget', 965, [205, 200, 195, 190, 185]);
    expect(c).toMatchObject({ status: 'BREACH', projectedMt: 975, headroomMt: 0, overshootMt: 10 });
  });

  it('exactly at the limit is compliant with no headroom', () => {
    expect(checkCarbonBudget('x', 965, [193, 193, 193, 193, 193])).toMatchObject({
      status: 'COMPLIANT',
      headroomMt: 0,
    });
  });
});

describe('marginal abatement cost measures', () => {
  const measures = [
    { name: 'cheap', sector: 'E38', costLow: -20, costHigh: 10, potentialMt: 4 },
    { name: 'dear', sector: 'L68A', costLow: 80, costHigh: 250, potentialMt: 12 },
  ];

  it('abate nothing below their cost, all above it, linearly between', () => {
    expect(abatementAt(measures, -50)).toBe(0);
    // cheap: (0 + 20) / 30 of 4
    expect(abatementAt(measures, 0)).toBeCloseTo((4 * 20) / 30, 12);
    expect(abatementAt(measures, 50)).toBe(4);
    // dear: (165 - 80) / 170 = half of 12
    expect(abatementAt(measures, 165)).toBeCloseTo(4 + 6, 12);
    expect(abatementAt(measures, 1000)).toBe(16);
  });

  it('never abate less at a higher price', () => {
    let last = -1;
    for (let p = -50; p <= 400; p += 5) {
      const a = abatementAt(measures, p);
      expect(a).toBeGreaterThanOrEqual(last);
      last = a;
    }
  });
});
