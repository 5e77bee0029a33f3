/**
 * One household under some rules: the calculator behind `bizra sim household`. It builds
 * a one-cohort population and runs the engine's own cohort function on it, so a household
 * here and a cohort in the aggregates are computed by the same code.
 */
import { ReformError } from '../errors.ts';
import { allocatePopulation } from '../population/population.ts';
import {
  COHORT_SLOTS,
  computeCohort,
  EMPLOYEE_NICS,
  EMPLOYER_NICS,
  GROSS_INCOME,
  INCOME_TAX,
  NET_INCOME,
  STATE_PENSION,
  UNIVERSAL_CREDIT,
} from './cohort.ts';
import type { TaxBenefitRules } from './rules.ts';

/** State Pension age in 2025-26. */
export const STATE_PENSION_AGE = 66;

export interface HouseholdInput {
  /** Gross annual salary of the (first) adult, £. */
  salary: number;
  /** Age of the adult (and of the partner, if any). Default 30. */
  age?: number;
  /** A partner's gross annual salary, £: makes the household a couple. */
  partnerSalary?: number;
  children?: number;
  firstChildPre2017?: boolean;
  /** Monthly rent, £: UC housing costs. */
  rentMonthly?: number;
  /** Disabled (limited capability for work): the LCWRA element and a work allowance. */
  disabled?: boolean;
}

/** £ a year, rounded to pence. */
export interface HouseholdResult {
  gross_income: number;
  income_tax: number;
  employee_nics: number;
  employer_nics: number;
  universal_credit: number;
  state_pension: number;
  net_income: number;
}

export function calculateHousehold(r: TaxBenefitRules, input: HouseholdInput): HouseholdResult {
  const age = input.age ?? 30;
  const children = input.children ?? 0;
  const rent = input.rentMonthly ?? 0;
  check('salary', input.salary, 0, 1e9);
  check('age', age, 16, 120, true);
  if (input.partnerSalary !== undefined) check('partner_salary', input.partnerSalary, 0, 1e9);
  check('children', children, 0, 20, true);
  check('rent_monthly', rent, 0, 1e6);
  const p = allocatePopulation(1);
  const couple = input.partnerSalary !== undefined;
  const pensioner = age >= STATE_PENSION_AGE;
  p.weight[0] = 1;
  p.adults[0] = couple ? 2 : 1;
  p.pensioner[0] = pensioner ? 1 : 0;
  p.under25[0] = age < 25 ? 1 : 0;
  p.children[0] = children;
  p.firstChildPre2017[0] = input.firstChildPre2017 && children > 0 ? 1 : 0;
  p.disabled[0] = input.disabled ? 1 : 0;
  // A working-age household is assumed to claim the Universal Credit it is entitled to.
  p.ucClaim[0] = pensioner ? 0 : 1;
  p.earnings1[0] = input.salary;
  p.earnings2[0] = input.partnerSalary ?? 0;
  p.rentMonthly[0] = rent;
  const s = new Float64Array(COHORT_SLOTS);
  computeCohort(p, 0, r, s);
  const pence = (x: number): number => Math.round(x * 100) / 100;
  return {
    gross_income: pence(s[GROSS_INCOME]!),
    income_tax: pence(s[INCOME_TAX]!),
    employee_nics: pence(s[EMPLOYEE_NICS]!),
    employer_nics: pence(s[EMPLOYER_NICS]!),
    universal_credit: pence(s[UNIVERSAL_CREDIT]!),
    state_pension: pence(s[STATE_PENSION]!),
    net_income: pence(s[NET_INCOME]!),
  };
}

function check(name: string, v: number, min: number, max: number, whole = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v))) {
    throw new ReformError(
      name,
      `household ${name} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`,
    );
  }
}
