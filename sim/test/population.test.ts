import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, type SimModel } from '../model.ts';
import { allocateCohorts, generatePopulation } from '../population/generate.ts';
import { HOUSEHOLD_TYPES, populationBytes } from '../population/population.ts';
import { loadPopulationSpec, sampleQuantile } from '../population/spec.ts';
import { REGION_COUNT } from '../regions.ts';

let model: SimModel;
beforeAll(() => {
  model = createModel();
});

const sum = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
};

describe('synthetic population', () => {
  it('has 100,000 cohorts whose weights sum to 28.6 million households', () => {
    expect(model.population.size).toBe(100_000);
    expect(sum(model.population.weight)).toBeCloseTo(28_600_000, 0);
    expect(Math.min(...model.population.weight)).toBeGreaterThan(0);
  });

  it('is calibrated to income tax £329bn, NICs £200bn and VAT £180bn within the stated tolerance', () => {
    const c = model.calibration;
    const rel = (x: number, t: number) => Math.abs(x - t) / t;
    expect(c.targets.tolerance).toBe(0.005);
    expect(rel(c.achieved.incomeTax, 329e9)).toBeLessThan(c.targets.tolerance);
    expect(rel(c.achieved.nics, 200e9)).toBeLessThan(c.targets.tolerance);
    expect(rel(c.achieved.vat, 180e9)).toBeLessThan(c.targets.tolerance);
    // The engine's own baseline totals agree with the calibration's.
    const t = model.baselineTotals;
    expect(rel(t.incomeTax, 329e9)).toBeLessThan(c.targets.tolerance);
    expect(rel(t.employeeNics + t.employerNics, 200e9)).toBeLessThan(c.targets.tolerance);
    expect(rel(t.vat, 180e9)).toBeLessThan(c.targets.tolerance);
  });

  it('matches the regional household totals exactly and the household-type shares after raking', () => {
    const spec = loadPopulationSpec();
    const regions = new Float64Array(REGION_COUNT);
    const types = new Float64Array(HOUSEHOLD_TYPES.length);
    const p = model.population;
    for (let i = 0; i < p.size; i++) {
      regions[p.region[i]!]! += p.weight[i]!;
      types[p.householdType[i]!]! += p.weight[i]!;
    }
    const regionTotal = sum(spec.regions.map((r) => r.households));
    spec.regions.forEach((r, k) => {
      expect(regions[k]).toBeCloseTo((28_600_000 * r.households) / regionTotal, 0);
    });
    spec.types.forEach((t, k) => {
      expect(types[k]! / 28_600_000).toBeCloseTo(t.share, 6);
    });
  });

  it('puts a tenth of households in each income decile, and richer deciles have higher incomes', () => {
    const p = model.population;
    const hh = new Float64Array(10);
    const income = new Float64Array(10);
    for (let i = 0; i < p.size; i++) {
      hh[p.decile[i]!]! += p.weight[i]!;
      income[p.decile[i]!]! += (p.weight[i]! * model.baseline.netIncome[i]!) / p.equivalence[i]!;
    }
    for (let d = 0; d < 10; d++) {
      expect(hh[d]! / 28_600_000).toBeCloseTo(0.1, 2);
      if (d > 0) expect(income[d]! / hh[d]!).toBeGreaterThan(income[d - 1]! / hh[d - 1]!);
    }
  });

  it('has households claiming UC, pensioners, disabled adults, and first children born before 2017', () => {
    const p = model.population;
    expect(sum(p.ucClaim)).toBeGreaterThan(10_000);
    expect(sum(p.pensioner)).toBeGreaterThan(20_000);
    expect(sum(p.disabled)).toBeGreaterThan(10_000);
    expect(sum(p.firstChildPre2017)).toBeGreaterThan(5_000);
    expect(model.baselineTotals.universalCredit).toBeGreaterThan(30e9);
    expect(model.baselineTotals.statePension).toBeGreaterThan(100e9);
  });

  it('is structure-of-arrays: 11 float64 and 10 uint8 columns, 9.8 MB', () => {
    const bytes = populationBytes(model.population);
    expect(bytes).toBe(100_000 * (11 * 8 + 10 * 1));
  });

  it('is generated deterministically from its seed', () => {
    const spec = loadPopulationSpec();
    const a = generatePopulation(spec, 7, 5_000).population;
    const b = generatePopulation(spec, 7, 5_000).population;
    const c = generatePopulation(spec, 8, 5_000).population;
    expect(Buffer.from(a.earnings1.buffer).equals(Buffer.from(b.earnings1.buffer))).toBe(true);
    expect(Buffer.from(a.householdType.buffer).equals(Buffer.from(b.householdType.buffer))).toBe(true);
    expect(Buffer.from(a.earnings1.buffer).equals(Buffer.from(c.earnings1.buffer))).toBe(false);
  });

  it('allocates cohorts to regions by largest remainder, summing to the total', () => {
    const counts = allocateCohorts(loadPopulationSpec(), 1_000);
    expect(sum(counts)).toBe(1_000);
    expect(counts[6]).toBeGreaterThan(counts[0]!); // London has more households than the North East
  });

  it('samples quantile tables by linear interpolation', () => {
    const table = Float64Array.from([0, 0, 0.5, 100, 1, 300]);
    expect(sampleQuantile(table, 0)).toBe(0);
    expect(sampleQuantile(table, 0.25)).toBe(50);
    expect(sampleQuantile(table, 0.75)).toBe(200);
  });
});
