/**
 * The synthetic population as structure-of-arrays: one typed array per attribute, one
 * element per household cohort. The engine's hot loop reads these by index and allocates
 * nothing per cohort.
 */

/** Household types, in the order of data/population.json (the index is stored per cohort). */
export const HOUSEHOLD_TYPES = [
  'single',
  'couple',
  'lone_parent',
  'couple_children',
  'single_pensioner',
  'pensioner_couple',
] as const;
export type HouseholdType = (typeof HOUSEHOLD_TYPES)[number];

export interface Population {
  readonly size: number;
  /** Households each cohort stands for; they sum to the household total. */
  readonly weight: Float64Array;
  /** Index into REGIONS (ITL1). */
  readonly region: Uint8Array;
  /** Index into HOUSEHOLD_TYPES. */
  readonly householdType: Uint8Array;
  /** 1 or 2. */
  readonly adults: Uint8Array;
  /** 1 when every adult is over State Pension age (gets the State Pension, pays no employee NICs). */
  readonly pensioner: Uint8Array;
  /** 1 when the UC under-25 standard allowance applies (a single person, or both of a couple). */
  readonly under25: Uint8Array;
  readonly children: Uint8Array;
  /** 1 when the first child was born before 6 April 2017 (higher UC child element). */
  readonly firstChildPre2017: Uint8Array;
  /** 1 when an adult is disabled: the LCWRA element if on UC, and the EqIA proxy group. */
  readonly disabled: Uint8Array;
  /** 1 for a working-age household that claims Universal Credit when entitled (take-up). */
  readonly ucClaim: Uint8Array;
  /** Gross employment earnings of the first and second adult, £ a year. */
  readonly earnings1: Float64Array;
  readonly earnings2: Float64Array;
  /** Other taxable income (private pension, self-employment, savings, dividends, property), £ a year. */
  readonly other1: Float64Array;
  readonly other2: Float64Array;
  /** Rent of renters, £ a month (0 for owners): UC housing costs, and exempt spending. */
  readonly rentMonthly: Float64Array;
  /** The consumption basket, £ a year net of VAT, by VAT treatment (rent excluded). */
  readonly spendZero: Float64Array;
  readonly spendReduced: Float64Array;
  readonly spendExempt: Float64Array;
  readonly spendStandard: Float64Array;
  /** Modified-OECD equivalence scale. */
  readonly equivalence: Float64Array;
  /** Income decile 0-9 (0 = poorest tenth of households), by baseline equivalised net income. */
  readonly decile: Uint8Array;
}

export function allocatePopulation(size: number): Population {
  return {
    size,
    weight: new Float64Array(size),
    region: new Uint8Array(size),
    householdType: new Uint8Array(size),
    adults: new Uint8Array(size),
    pensioner: new Uint8Array(size),
    under25: new Uint8Array(size),
    children: new Uint8Array(size),
    firstChildPre2017: new Uint8Array(size),
    disabled: new Uint8Array(size),
    ucClaim: new Uint8Array(size),
    earnings1: new Float64Array(size),
    earnings2: new Float64Array(size),
    other1: new Float64Array(size),
    other2: new Float64Array(size),
    rentMonthly: new Float64Array(size),
    spendZero: new Float64Array(size),
    spendReduced: new Float64Array(size),
    spendExempt: new Float64Array(size),
    spendStandard: new Float64Array(size),
    equivalence: new Float64Array(size),
    decile: new Uint8Array(size),
  };
}

/** Bytes held by the population's typed arrays. */
export function populationBytes(p: Population): number {
  let total = 0;
  for (const v of Object.values(p)) if (ArrayBuffer.isView(v)) total += v.byteLength;
  return total;
}
