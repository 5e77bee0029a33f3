/** The generator's inputs, read and checked from data/population.json. */
import { num, numbers, quantiles, record, shares, str } from '../data/check.ts';
import { readDataFile } from '../data/read.ts';
import { SimDataError } from '../errors.ts';
import { REGION_CODES } from '../regions.ts';
import { HOUSEHOLD_TYPES } from './population.ts';

export interface HouseholdTypeSpec {
  share: number;
  adults: 1 | 2;
  pensioners: 0 | 1 | 2;
  withChildren: boolean;
  pUnder25: number;
  pEmployed: readonly [number, number];
  pRenter: number;
  pDisabled: number;
}

export interface RegionSpec {
  households: number;
  earningsFactor: number;
  medianRentMonthly: number;
}

export interface PopulationSpec {
  version: string;
  totalHouseholds: number;
  /** In REGIONS order. */
  regions: readonly RegionSpec[];
  /** In HOUSEHOLD_TYPES order. */
  types: readonly HouseholdTypeSpec[];
  childCountDistribution: readonly number[];
  pFirstChildPre2017: number;
  disabilityEmploymentFactor: number;
  ucTakeUp: number;
  coupleEarningsCorrelation: number;
  earningsQuantiles: Float64Array;
  otherIncome: { pWorkingAge: number; pPensioner: number; quantiles: Float64Array };
  privatePension: { pPensioner: number; quantiles: Float64Array };
  rentFactorRange: readonly [number, number];
  lowEarnerRentingBoost: number;
  consumption: {
    basePerEquivalentAdult: number;
    propensity: number;
    zeroRated: number;
    reducedRated: number;
    exempt: number;
    standardRated: number;
  };
  equivalence: { firstAdult: number; otherAdult: number; child: number };
}

export function loadPopulationSpec(): PopulationSpec {
  const f = 'population.json';
  const root = record(readDataFile(f), f);
  const regionsRaw = record(root['regions'], `${f} regions`);
  const regions = REGION_CODES.map((code) => {
    const r = record(regionsRaw[code], `${f} regions.${code}`);
    return {
      households: num(r['households'], `${f} regions.${code}.households`, 1),
      earningsFactor: num(r['earnings_factor'], `${f} regions.${code}.earnings_factor`, 0.1, 10),
      medianRentMonthly: num(r['median_rent_monthly'], `${f} regions.${code}.median_rent_monthly`, 0, 100000),
    };
  });
  const typesRaw = record(root['household_types'], `${f} household_types`);
  const types = HOUSEHOLD_TYPES.map((name): HouseholdTypeSpec => {
    const w = `${f} household_types.${name}`;
    const t = record(typesRaw[name], w);
    const adults = num(t['adults'], `${w}.adults`, 1, 2);
    const pensioners = num(t['pensioners'], `${w}.pensioners`, 0, 2);
    if (pensioners !== 0 && pensioners !== adults) throw new SimDataError(`${w}.pensioners: 0 or all adults`);
    const withChildren = t['with_children'];
    if (typeof withChildren !== 'boolean') throw new SimDataError(`${w}.with_children: expected a boolean`);
    const pEmployed = numbers(t['p_employed'], `${w}.p_employed`, 2, 0, 1);
    return {
      share: num(t['share'], `${w}.share`, 0, 1),
      adults: adults as 1 | 2,
      pensioners: pensioners as 0 | 1 | 2,
      withChildren,
      pUnder25: num(t['p_under_25'], `${w}.p_under_25`, 0, 1),
      pEmployed: [pEmployed[0]!, pEmployed[1]!],
      pRenter: num(t['p_renter'], `${w}.p_renter`, 0, 1),
      pDisabled: num(t['p_disabled'], `${w}.p_disabled`, 0, 1),
    };
  });
  shares(Object.fromEntries(HOUSEHOLD_TYPES.map((n, i) => [n, types[i]!.share])), `${f} household_types shares`);
  const children = record(root['children'], `${f} children`);
  const childDist = numbers(children['count_distribution'], `${f} children.count_distribution`, undefined, 0, 1);
  shares(Object.fromEntries(childDist.map((x, i) => [String(i + 1), x])), `${f} children.count_distribution`);
  const other = record(root['other_income'], `${f} other_income`);
  const pension = record(root['private_pension'], `${f} private_pension`);
  const rent = record(root['rent'], `${f} rent`);
  const rentRange = numbers(rent['factor_range'], `${f} rent.factor_range`, 2, 0, 10);
  const cons = record(root['consumption'], `${f} consumption`);
  const consShares = record(cons['shares'], `${f} consumption.shares`);
  shares(consShares, `${f} consumption.shares`);
  const eq = record(root['equivalence_scale'], `${f} equivalence_scale`);
  return {
    version: str(root['version'], `${f} version`),
    totalHouseholds: num(root['total_households'], `${f} total_households`, 1),
    regions,
    types,
    childCountDistribution: childDist,
    pFirstChildPre2017: num(children['p_first_child_born_before_april_2017'], `${f} children.p_first...`, 0, 1),
    disabilityEmploymentFactor: num(root['disability_employment_factor'], `${f} disability_employment_factor`, 0, 1),
    ucTakeUp: num(root['uc_take_up'], `${f} uc_take_up`, 0, 1),
    coupleEarningsCorrelation: num(root['couple_earnings_correlation'], `${f} couple_earnings_correlation`, 0, 1),
    earningsQuantiles: quantiles(root['earnings_quantiles'], `${f} earnings_quantiles`),
    otherIncome: {
      pWorkingAge: num(other['p_working_age'], `${f} other_income.p_working_age`, 0, 1),
      pPensioner: num(other['p_pensioner'], `${f} other_income.p_pensioner`, 0, 1),
      quantiles: quantiles(other['quantiles'], `${f} other_income.quantiles`),
    },
    privatePension: {
      pPensioner: num(pension['p_pensioner'], `${f} private_pension.p_pensioner`, 0, 1),
      quantiles: quantiles(pension['quantiles'], `${f} private_pension.quantiles`),
    },
    rentFactorRange: [rentRange[0]!, rentRange[1]!],
    lowEarnerRentingBoost: num(rent['low_earner_renting_boost'], `${f} rent.low_earner_renting_boost`, 0, 2),
    consumption: {
      basePerEquivalentAdult: num(cons['base_per_equivalent_adult'], `${f} consumption.base_per_equivalent_adult`, 0),
      propensity: num(cons['propensity'], `${f} consumption.propensity`, 0, 2),
      zeroRated: num(consShares['zero_rated'], `${f} consumption.shares.zero_rated`, 0, 1),
      reducedRated: num(consShares['reduced_rated'], `${f} consumption.shares.reduced_rated`, 0, 1),
      exempt: num(consShares['exempt'], `${f} consumption.shares.exempt`, 0, 1),
      standardRated: num(consShares['standard_rated'], `${f} consumption.shares.standard_rated`, 0, 1),
    },
    equivalence: {
      firstAdult: num(eq['first_adult'], `${f} equivalence_scale.first_adult`, 0, 2),
      otherAdult: num(eq['other_adult'], `${f} equivalence_scale.other_adult`, 0, 2),
      child: num(eq['child'], `${f} equivalence_scale.child`, 0, 2),
    },
  };
}

/** Inverse CDF by linear interpolation in a [p, value] table: + - * / only, so exact everywhere. */
export function sampleQuantile(table: Float64Array, u: number): number {
  const rows = table.length / 2;
  for (let k = 1; k < rows; k++) {
    const p1 = table[k * 2]!;
    if (u < p1 || k === rows - 1) {
      const p0 = table[(k - 1) * 2]!;
      const v0 = table[(k - 1) * 2 + 1]!;
      const v1 = table[k * 2 + 1]!;
      return v0 + ((u - p0) / (p1 - p0)) * (v1 - v0);
    }
  }
  return table[table.length - 1]!;
}
