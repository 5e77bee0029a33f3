/**
 * One cohort's taxes and benefits under some rules, written into a caller-owned scratch
 * array (no allocation): the unit both the household calculator and the engine use.
 */
import type { Population } from '../population/population.ts';
import {
  employeeNics,
  employerNics,
  incomeTax,
  MONTHS_PER_YEAR,
  type TaxBenefitRules,
  universalCreditMonthly,
} from './rules.ts';

/** Slots of the scratch array, all £ a year for the whole household. */
export const INCOME_TAX = 0;
export const EMPLOYEE_NICS = 1;
export const EMPLOYER_NICS = 2;
export const VAT = 3;
export const UNIVERSAL_CREDIT = 4;
export const STATE_PENSION = 5;
/** Gross income (earnings, other income, State Pension) + UC - income tax - employee NICs. VAT is not deducted. */
export const NET_INCOME = 6;
/** Earnings, other income and State Pension, before tax and benefits. */
export const GROSS_INCOME = 7;
export const COHORT_SLOTS = 8;

export function computeCohort(p: Population, i: number, r: TaxBenefitRules, out: Float64Array): void {
  const twoAdults = p.adults[i] === 2;
  const pensioner = p.pensioner[i] === 1;
  const e1 = p.earnings1[i]!;
  const e2 = twoAdults ? p.earnings2[i]! : 0;
  const o1 = p.other1[i]!;
  const o2 = twoAdults ? p.other2[i]! : 0;
  const sp1 = pensioner ? r.statePensionAnnual : 0;
  const sp2 = pensioner && twoAdults ? r.statePensionAnnual : 0;

  const it1 = incomeTax(r, e1 + o1 + sp1);
  const it2 = twoAdults ? incomeTax(r, e2 + o2 + sp2) : 0;
  // Over State Pension age, employees pay no NICs; employers still do.
  const ee1 = pensioner ? 0 : employeeNics(r, e1);
  const ee2 = pensioner || !twoAdults ? 0 : employeeNics(r, e2);
  const er = employerNics(r, e1) + (twoAdults ? employerNics(r, e2) : 0);
  const vat = p.spendReduced[i]! * r.vatReducedRate + p.spendStandard[i]! * r.vatStandardRate;

  let uc = 0;
  if (p.ucClaim[i] === 1) {
    // UC counts earnings net of income tax and NICs. Income tax is shared between a
    // person's earnings and other income in proportion; other (unearned) income is
    // deducted from the award in full.
    const net1 = e1 - ee1 - (e1 > 0 ? (it1 * e1) / (e1 + o1 + sp1) : 0);
    const net2 = e2 - ee2 - (e2 > 0 ? (it2 * e2) / (e2 + o2 + sp2) : 0);
    uc =
      universalCreditMonthly(
        r,
        twoAdults,
        p.under25[i] === 1,
        p.children[i]!,
        p.firstChildPre2017[i] === 1,
        p.disabled[i] === 1,
        p.rentMonthly[i]!,
        (net1 + net2) / MONTHS_PER_YEAR,
        (o1 + o2) / MONTHS_PER_YEAR,
      ) * MONTHS_PER_YEAR;
  }
  const gross = e1 + e2 + o1 + o2 + sp1 + sp2;
  out[INCOME_TAX] = it1 + it2;
  out[EMPLOYEE_NICS] = ee1 + ee2;
  out[EMPLOYER_NICS] = er;
  out[VAT] = vat;
  out[UNIVERSAL_CREDIT] = uc;
  out[STATE_PENSION] = sp1 + sp2;
  out[GROSS_INCOME] = gross;
  out[NET_INCOME] = gross + uc - it1 - it2 - ee1 - ee2;
}
