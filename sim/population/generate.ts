/**
 * The seeded synthetic-population generator. Cohorts are allocated to the 12 ITL1 regions
 * in proportion to households (largest remainder), then each cohort takes exactly
 * DRAWS_PER_COHORT uniform draws from one mulberry32 stream, so cohort i's attributes
 * depend only on the seed and i. Incomes come from quantile tables by interpolation
 * (+ - * / only). The result is uncalibrated: calibrate.ts sets weights, income scales,
 * the consumption basket and deciles.
 */
import { mulberry32 } from '../prng.ts';
import { REGION_COUNT } from '../regions.ts';
import { allocatePopulation, type Population } from './population.ts';
import { type PopulationSpec, sampleQuantile } from './spec.ts';

export const DEFAULT_SEED = 20250406;
export const DEFAULT_COHORTS = 100_000;
const DRAWS_PER_COHORT = 20;

export interface GeneratedPopulation {
  population: Population;
  /** A uniform draw per cohort for its consumption level, used once incomes are calibrated. */
  consumptionDraw: Float64Array;
}

/** Cohorts per region by the largest-remainder method (ties to the lower region index). */
export function allocateCohorts(spec: PopulationSpec, size: number): number[] {
  let total = 0;
  for (const r of spec.regions) total += r.households;
  const exact = spec.regions.map((r) => (size * r.households) / total);
  const counts = exact.map(Math.floor);
  let left = size - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left === 0) break;
    counts[i]! += 1;
    left -= 1;
  }
  return counts;
}

function cumulate(xs: readonly number[]): number[] {
  const out: number[] = [];
  let acc = 0;
  for (const x of xs) {
    acc += x;
    out.push(acc);
  }
  return out;
}

export function generatePopulation(spec: PopulationSpec, seed: number, size: number): GeneratedPopulation {
  if (!Number.isSafeInteger(size) || size < REGION_COUNT * 10) {
    throw new RangeError(`population size must be a whole number of at least ${REGION_COUNT * 10}, got ${size}`);
  }
  const p = allocatePopulation(size);
  const consumptionDraw = new Float64Array(size);
  const rng = mulberry32(seed);
  const u = new Float64Array(DRAWS_PER_COHORT);
  const counts = allocateCohorts(spec, size);
  let householdsTotal = 0;
  for (const r of spec.regions) householdsTotal += r.households;
  const typeCumulative = cumulate(spec.types.map((t) => t.share));
  const childCumulative = cumulate(spec.childCountDistribution);
  const pick = (cumulative: number[], x: number): number => {
    for (let k = 0; k < cumulative.length - 1; k++) if (x < cumulative[k]!) return k;
    return cumulative.length - 1;
  };
  const corr = spec.coupleEarningsCorrelation;

  let i = 0;
  for (let region = 0; region < REGION_COUNT; region++) {
    const rs = spec.regions[region]!;
    const weight = (spec.totalHouseholds * rs.households) / householdsTotal / counts[region]!;
    for (let k = 0; k < counts[region]!; k++, i++) {
      for (let d = 0; d < DRAWS_PER_COHORT; d++) u[d] = rng.next();
      const typeIndex = pick(typeCumulative, u[0]!);
      const t = spec.types[typeIndex]!;
      const pensioner = t.pensioners > 0;
      const disabled = u[1]! < t.pDisabled;
      p.weight[i] = weight;
      p.region[i] = region;
      p.householdType[i] = typeIndex;
      p.adults[i] = t.adults;
      p.pensioner[i] = pensioner ? 1 : 0;
      p.under25[i] = u[2]! < t.pUnder25 ? 1 : 0;
      p.disabled[i] = disabled ? 1 : 0;
      if (t.withChildren) {
        p.children[i] = pick(childCumulative, u[3]!) + 1;
        p.firstChildPre2017[i] = u[4]! < spec.pFirstChildPre2017 ? 1 : 0;
      }
      const employmentFactor = disabled ? spec.disabilityEmploymentFactor : 1;
      // Earnings rank of adult 1; adult 2's rank leans towards it (assortative couples).
      const rank1 = u[6]!;
      const rank2 = corr * rank1 + (1 - corr) * u[8]!;
      if (u[5]! < t.pEmployed[0] * employmentFactor) {
        p.earnings1[i] = sampleQuantile(spec.earningsQuantiles, rank1) * rs.earningsFactor;
      }
      if (t.adults === 2 && u[7]! < t.pEmployed[1] * employmentFactor) {
        p.earnings2[i] = sampleQuantile(spec.earningsQuantiles, rank2) * rs.earningsFactor;
      }
      // Other taxable income: private pensions for pensioners, and investment or
      // self-employment income for anyone, its rank tied to the earnings rank.
      const pOther = pensioner ? spec.otherIncome.pPensioner : spec.otherIncome.pWorkingAge;
      const otherRank = 0.5 * rank1 + 0.5 * u[10]!;
      let other1 = u[9]! < pOther ? sampleQuantile(spec.otherIncome.quantiles, otherRank) : 0;
      let other2 = 0;
      if (pensioner) {
        if (u[11]! < spec.privatePension.pPensioner) other1 += sampleQuantile(spec.privatePension.quantiles, u[12]!);
        if (t.adults === 2 && u[13]! < spec.privatePension.pPensioner) {
          other2 = sampleQuantile(spec.privatePension.quantiles, 0.5 * u[12]! + 0.5 * u[14]!);
        }
      }
      p.other1[i] = other1;
      p.other2[i] = other2;
      // Lower earners rent more often.
      const earningRank = p.earnings1[i]! > 0 ? rank1 : 0;
      const pRent = t.pRenter * (1 + spec.lowEarnerRentingBoost * (0.5 - earningRank));
      if (u[15]! < pRent) {
        const [lo, hi] = spec.rentFactorRange;
        p.rentMonthly[i] = rs.medianRentMonthly * (lo + (hi - lo) * u[16]!);
      }
      p.ucClaim[i] = !pensioner && u[17]! < spec.ucTakeUp ? 1 : 0;
      p.equivalence[i] =
        spec.equivalence.firstAdult +
        (t.adults - 1) * spec.equivalence.otherAdult +
        p.children[i]! * spec.equivalence.child;
      consumptionDraw[i] = u[18]!;
    }
  }
  return { population: p, consumptionDraw };
}
