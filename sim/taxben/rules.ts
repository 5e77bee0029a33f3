/**
 * The 2025-26 tax-benefit rules as pure scalar functions of a TaxBenefitRules record.
 * The household calculator and the population engine call the same functions, so the
 * CLI's figures and the aggregates cannot disagree. Only + - * / and comparisons.
 *
 * Documented simplifications (sim/README.md has the full list): income tax treats all
 * income as non-savings income at rest-of-UK rates; NICs are computed on annual earnings;
 * Universal Credit is assessed on a month that is one twelfth of the year.
 */
import { SimDataError } from '../errors.ts';
import type { ParameterValues } from '../params/parameters.ts';

export interface TaxBenefitRules {
  personalAllowance: number;
  taperThreshold: number;
  basicRate: number;
  higherRate: number;
  additionalRate: number;
  basicRateLimit: number;
  additionalRateThreshold: number;
  eePrimaryThreshold: number;
  eeUpperEarningsLimit: number;
  eeMainRate: number;
  eeAdditionalRate: number;
  erSecondaryThreshold: number;
  erRate: number;
  vatStandardRate: number;
  vatReducedRate: number;
  /** £ a year per pensioner: the weekly amount x 52. */
  statePensionAnnual: number;
  ucSingleUnder25: number;
  ucSingle25Plus: number;
  ucCoupleUnder25: number;
  ucCouple25Plus: number;
  ucTaperRate: number;
  ucWorkAllowanceWithHousing: number;
  ucWorkAllowanceWithoutHousing: number;
  ucChildFirstPre2017: number;
  ucChildOther: number;
  ucChildLimit: number;
  ucLcwra: number;
}

/** Weeks in the State Pension year: the weekly rate x 52 (not 52.18), as DWP annualises it. */
export const WEEKS_PER_YEAR = 52;
/** Universal Credit is monthly; a year is 12 assessment periods. */
export const MONTHS_PER_YEAR = 12;

export function taxBenefitRules(v: ParameterValues): TaxBenefitRules {
  const get = (path: string): number => {
    const x = v[path];
    if (x === undefined) throw new SimDataError(`parameter ${path} is missing from the parameter set`);
    return x;
  };
  return {
    personalAllowance: get('income_tax.personal_allowance'),
    taperThreshold: get('income_tax.taper_threshold'),
    basicRate: get('income_tax.basic_rate'),
    higherRate: get('income_tax.higher_rate'),
    additionalRate: get('income_tax.additional_rate'),
    basicRateLimit: get('income_tax.basic_rate_limit'),
    additionalRateThreshold: get('income_tax.additional_rate_threshold'),
    eePrimaryThreshold: get('nics.employee.primary_threshold'),
    eeUpperEarningsLimit: get('nics.employee.upper_earnings_limit'),
    eeMainRate: get('nics.employee.main_rate'),
    eeAdditionalRate: get('nics.employee.additional_rate'),
    erSecondaryThreshold: get('nics.employer.secondary_threshold'),
    erRate: get('nics.employer.rate'),
    vatStandardRate: get('vat.standard_rate'),
    vatReducedRate: get('vat.reduced_rate'),
    statePensionAnnual: get('state_pension.weekly_amount') * WEEKS_PER_YEAR,
    ucSingleUnder25: get('uc.standard_allowance.single_under_25'),
    ucSingle25Plus: get('uc.standard_allowance.single_25_plus'),
    ucCoupleUnder25: get('uc.standard_allowance.couple_under_25'),
    ucCouple25Plus: get('uc.standard_allowance.couple_25_plus'),
    ucTaperRate: get('uc.taper_rate'),
    ucWorkAllowanceWithHousing: get('uc.work_allowance.with_housing'),
    ucWorkAllowanceWithoutHousing: get('uc.work_allowance.without_housing'),
    ucChildFirstPre2017: get('uc.child_element.first_pre_2017'),
    ucChildOther: get('uc.child_element.other'),
    ucChildLimit: get('uc.child_limit'),
    ucLcwra: get('uc.lcwra_element'),
  };
}

/**
 * Personal allowance after the taper: reduced by half of income above the taper
 * threshold (£1 for every £2), never below 0. At 2025-26 rules it is gone at £125,140.
 */
export function personalAllowance(r: TaxBenefitRules, income: number): number {
  if (income <= r.taperThreshold) return r.personalAllowance;
  const pa = r.personalAllowance - (income - r.taperThreshold) / 2;
  return pa > 0 ? pa : 0;
}

/**
 * Income tax of one person on a year's income. Bands apply to taxable income (income
 * less the tapered allowance): basic up to basic_rate_limit, higher up to
 * additional_rate_threshold (£125,140 of taxable income), additional above.
 */
export function incomeTax(r: TaxBenefitRules, income: number): number {
  const taxable = income - personalAllowance(r, income);
  if (taxable <= 0) return 0;
  const basic = taxable < r.basicRateLimit ? taxable : r.basicRateLimit;
  const upToAdditional = taxable < r.additionalRateThreshold ? taxable : r.additionalRateThreshold;
  const higher = upToAdditional > r.basicRateLimit ? upToAdditional - r.basicRateLimit : 0;
  const additional = taxable > r.additionalRateThreshold ? taxable - r.additionalRateThreshold : 0;
  return basic * r.basicRate + higher * r.higherRate + additional * r.additionalRate;
}

/** Employee Class 1 NICs on a year's earnings: main rate between PT and UEL, additional rate above. */
export function employeeNics(r: TaxBenefitRules, earnings: number): number {
  if (earnings <= r.eePrimaryThreshold) return 0;
  const main = (earnings < r.eeUpperEarningsLimit ? earnings : r.eeUpperEarningsLimit) - r.eePrimaryThreshold;
  const above = earnings > r.eeUpperEarningsLimit ? earnings - r.eeUpperEarningsLimit : 0;
  return main * r.eeMainRate + above * r.eeAdditionalRate;
}

/** Employer Class 1 secondary NICs on one employee's year of earnings (no employment allowance). */
export function employerNics(r: TaxBenefitRules, earnings: number): number {
  return earnings > r.erSecondaryThreshold ? (earnings - r.erSecondaryThreshold) * r.erRate : 0;
}

/**
 * Universal Credit for one month.
 *   maximum = standard allowance + child elements + LCWRA element + housing costs
 *   work allowance (only with a child or LCWRA): the lower one if housing costs are paid
 *   award = maximum - taper x (net earnings - work allowance, if positive) - unearned income
 * Child elements go to at most `ucChildLimit` children (the two-child limit), except that
 * a first child born before 6 April 2017 is always covered, at the higher first-child rate.
 */
export function universalCreditMonthly(
  r: TaxBenefitRules,
  couple: boolean,
  under25: boolean,
  children: number,
  firstChildPre2017: boolean,
  lcwra: boolean,
  housingCostsMonthly: number,
  netEarningsMonthly: number,
  unearnedMonthly: number,
): number {
  const standard = couple
    ? under25
      ? r.ucCoupleUnder25
      : r.ucCouple25Plus
    : under25
      ? r.ucSingleUnder25
      : r.ucSingle25Plus;
  let covered = children < r.ucChildLimit ? children : r.ucChildLimit;
  if (covered === 0 && children > 0 && firstChildPre2017) covered = 1;
  let childElements = 0;
  if (covered > 0) {
    childElements = (firstChildPre2017 ? r.ucChildFirstPre2017 : r.ucChildOther) + (covered - 1) * r.ucChildOther;
  }
  const maximum = standard + childElements + (lcwra ? r.ucLcwra : 0) + housingCostsMonthly;
  let workAllowance = 0;
  if (children > 0 || lcwra) {
    workAllowance = housingCostsMonthly > 0 ? r.ucWorkAllowanceWithHousing : r.ucWorkAllowanceWithoutHousing;
  }
  const excess = netEarningsMonthly > workAllowance ? netEarningsMonthly - workAllowance : 0;
  const award = maximum - r.ucTaperRate * excess - unearnedMonthly;
  return award > 0 ? award : 0;
}
