/**
 * The tax-benefit engine over the whole population. The baseline is evaluated once and
 * kept per cohort (BaselineTable); a reform is then one fused pass that recomputes each
 * cohort into a reused scratch array and accumulates the weighted deltas, with no
 * allocation per cohort. Sums run in cohort order, so they are the same on every machine.
 */

import type { Population } from '../population/population.ts';
import { REGION_COUNT } from '../regions.ts';
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
  VAT,
} from './cohort.ts';
import type { TaxBenefitRules } from './rules.ts';

/** Per-cohort baseline results, £ a year per household. */
export interface BaselineTable {
  incomeTax: Float64Array;
  employeeNics: Float64Array;
  employerNics: Float64Array;
  vat: Float64Array;
  universalCredit: Float64Array;
  statePension: Float64Array;
  netIncome: Float64Array;
  grossIncome: Float64Array;
}

/** Weighted population totals, £ a year. */
export interface Totals {
  incomeTax: number;
  employeeNics: number;
  employerNics: number;
  vat: number;
  universalCredit: number;
  statePension: number;
}

/** Household gains are grouped for the EqIA: these are the protected-characteristic proxies. */
export const PROTECTED_GROUPS = ['disabled', 'pensioners', 'families_with_children'] as const;
export type ProtectedGroup = (typeof PROTECTED_GROUPS)[number];

/**
 * A reform against the baseline. A household's gain is the change in its net income less
 * the change in the VAT it pays (positive: better off). A winner gains at least £1 a year,
 * a loser loses at least £1 a year.
 */
export interface Comparison {
  /** Change in each total (reform - baseline), £ a year. */
  delta: Totals;
  households: number;
  /** Sum over households of weight x gain, £ a year. */
  gainTotal: number;
  decileGain: Float64Array;
  decileHouseholds: Float64Array;
  /** Baseline net income summed over each decile's households, for gains in per cent. */
  decileBaseNet: Float64Array;
  regionGain: Float64Array;
  regionHouseholds: Float64Array;
  /** In PROTECTED_GROUPS order. */
  groupGain: Float64Array;
  groupHouseholds: Float64Array;
  winners: number;
  losers: number;
}

export const WINNER_THRESHOLD_GBP = 1;

export function evaluateBaseline(p: Population, r: TaxBenefitRules): BaselineTable {
  const n = p.size;
  const t: BaselineTable = {
    incomeTax: new Float64Array(n),
    employeeNics: new Float64Array(n),
    employerNics: new Float64Array(n),
    vat: new Float64Array(n),
    universalCredit: new Float64Array(n),
    statePension: new Float64Array(n),
    netIncome: new Float64Array(n),
    grossIncome: new Float64Array(n),
  };
  const s = new Float64Array(COHORT_SLOTS);
  for (let i = 0; i < n; i++) {
    computeCohort(p, i, r, s);
    t.incomeTax[i] = s[INCOME_TAX]!;
    t.employeeNics[i] = s[EMPLOYEE_NICS]!;
    t.employerNics[i] = s[EMPLOYER_NICS]!;
    t.vat[i] = s[VAT]!;
    t.universalCredit[i] = s[UNIVERSAL_CREDIT]!;
    t.statePension[i] = s[STATE_PENSION]!;
    t.netIncome[i] = s[NET_INCOME]!;
    t.grossIncome[i] = s[GROSS_INCOME]!;
  }
  return t;
}

export function baselineTotals(p: Population, t: BaselineTable): Totals {
  const out: Totals = { incomeTax: 0, employeeNics: 0, employerNics: 0, vat: 0, universalCredit: 0, statePension: 0 };
  for (let i = 0; i < p.size; i++) {
    const w = p.weight[i]!;
    out.incomeTax += w * t.incomeTax[i]!;
    out.employeeNics += w * t.employeeNics[i]!;
    out.employerNics += w * t.employerNics[i]!;
    out.vat += w * t.vat[i]!;
    out.universalCredit += w * t.universalCredit[i]!;
    out.statePension += w * t.statePension[i]!;
  }
  return out;
}

/** Evaluates rules `r` over the population against the baseline: one pass, no per-cohort allocation. */
export function compareWithBaseline(p: Population, base: BaselineTable, r: TaxBenefitRules): Comparison {
  const s = new Float64Array(COHORT_SLOTS);
  const decileGain = new Float64Array(10);
  const decileHouseholds = new Float64Array(10);
  const decileBaseNet = new Float64Array(10);
  const regionGain = new Float64Array(REGION_COUNT);
  const regionHouseholds = new Float64Array(REGION_COUNT);
  const groupGain = new Float64Array(PROTECTED_GROUPS.length);
  const groupHouseholds = new Float64Array(PROTECTED_GROUPS.length);
  let dIt = 0;
  let dEe = 0;
  let dEr = 0;
  let dVat = 0;
  let dUc = 0;
  let dSp = 0;
  let households = 0;
  let gainTotal = 0;
  let winners = 0;
  let losers = 0;
  for (let i = 0; i < p.size; i++) {
    computeCohort(p, i, r, s);
    const w = p.weight[i]!;
    const it = s[INCOME_TAX]! - base.incomeTax[i]!;
    const ee = s[EMPLOYEE_NICS]! - base.employeeNics[i]!;
    const vat = s[VAT]! - base.vat[i]!;
    const uc = s[UNIVERSAL_CREDIT]! - base.universalCredit[i]!;
    const sp = s[STATE_PENSION]! - base.statePension[i]!;
    dIt += w * it;
    dEe += w * ee;
    dEr += w * (s[EMPLOYER_NICS]! - base.employerNics[i]!);
    dVat += w * vat;
    dUc += w * uc;
    dSp += w * sp;
    const gain = uc + sp - it - ee - vat;
    const wg = w * gain;
    households += w;
    gainTotal += wg;
    const d = p.decile[i]!;
    decileGain[d]! += wg;
    decileHouseholds[d]! += w;
    decileBaseNet[d]! += w * base.netIncome[i]!;
    const reg = p.region[i]!;
    regionGain[reg]! += wg;
    regionHouseholds[reg]! += w;
    if (p.disabled[i] === 1) {
      groupGain[0]! += wg;
      groupHouseholds[0]! += w;
    }
    if (p.pensioner[i] === 1) {
      groupGain[1]! += wg;
      groupHouseholds[1]! += w;
    }
    if (p.children[i]! > 0) {
      groupGain[2]! += wg;
      groupHouseholds[2]! += w;
    }
    if (gain >= WINNER_THRESHOLD_GBP) winners += w;
    else if (gain <= -WINNER_THRESHOLD_GBP) losers += w;
  }
  return {
    delta: { incomeTax: dIt, employeeNics: dEe, employerNics: dEr, vat: dVat, universalCredit: dUc, statePension: dSp },
    households,
    gainTotal,
    decileGain,
    decileHouseholds,
    decileBaseNet,
    regionGain,
    regionHouseholds,
    groupGain,
    groupHouseholds,
    winners,
    losers,
  };
}
