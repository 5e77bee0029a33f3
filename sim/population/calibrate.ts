/**
 * Calibration of the generated population onto published totals, deterministic and in
 * this order (each step uses only + - * / and comparisons):
 *
 *   1. Raking (iterative proportional fitting) of the weights onto two margins: households
 *      by ITL1 region and by household type. RAKE_ROUNDS rounds, ending on the region
 *      margin, which is therefore exact.
 *   2. An earnings scale, by bisection, so that employee + employer NICs hit their target
 *      (NICs depend on earnings only).
 *   3. An other-income scale, by bisection, so that income tax hits its target given the
 *      scaled earnings and the State Pension.
 *   4. The consumption basket from baseline disposable income, then one scale so that VAT
 *      hits its target (VAT is linear in the basket, so this step is exact).
 *   5. Income deciles by household-weighted equivalised baseline net income.
 */
import { num, record } from '../data/check.ts';
import { readDataFile } from '../data/read.ts';
import { REGION_COUNT } from '../regions.ts';
import { COHORT_SLOTS, computeCohort, NET_INCOME } from '../taxben/cohort.ts';
import { employeeNics, employerNics, incomeTax, type TaxBenefitRules } from '../taxben/rules.ts';
import { HOUSEHOLD_TYPES, type Population } from './population.ts';
import type { PopulationSpec } from './spec.ts';

export const RAKE_ROUNDS = 30;
const BISECTION_STEPS = 48;

export interface CalibrationTargets {
  incomeTax: number;
  nics: number;
  vat: number;
  households: number;
  /** Largest acceptable relative error of a calibrated total. */
  tolerance: number;
}

export interface CalibrationReport {
  targets: CalibrationTargets;
  /** The generated population's totals before any scaling (VAT: the basket before its scale). */
  uncalibrated: { incomeTax: number; nics: number; vat: number };
  /** The totals the calibrated population gives at baseline rules. */
  achieved: { incomeTax: number; nics: number; vat: number; households: number };
  earningsScale: number;
  otherIncomeScale: number;
  basketScale: number;
  /** Largest relative gap between a household-type margin and its target after raking. */
  rakingTypeError: number;
}

export function loadCalibrationTargets(): CalibrationTargets {
  const f = 'calibration-targets.json';
  const root = record(readDataFile(f), f);
  const t = record(root['targets'], `${f} targets`);
  return {
    incomeTax: num(t['income_tax_gbp'], `${f} targets.income_tax_gbp`, 0),
    nics: num(t['nics_gbp'], `${f} targets.nics_gbp`, 0),
    vat: num(t['vat_gbp'], `${f} targets.vat_gbp`, 0),
    households: num(t['households'], `${f} targets.households`, 1),
    tolerance: num(root['tolerance'], `${f} tolerance`, 0, 1),
  };
}

/** Calibrates `p` in place (weights, incomes, basket, deciles) and reports how close it came. */
export function calibratePopulation(
  p: Population,
  consumptionDraw: Float64Array,
  spec: PopulationSpec,
  rules: TaxBenefitRules,
  targets: CalibrationTargets,
): CalibrationReport {
  const rakingTypeError = rakeWeights(p, spec, targets.households);
  const rawIncomeTax = incomeTaxTotal(p, rules, 1);
  const rawNics = nicsTotal(p, rules, 1);

  const earningsScale = bisect((s) => nicsTotal(p, rules, s) - targets.nics, 0.01, 50);
  scale(p.earnings1, earningsScale);
  scale(p.earnings2, earningsScale);

  const otherIncomeScale = bisect((s) => incomeTaxTotal(p, rules, s) - targets.incomeTax, 0, 200);
  scale(p.other1, otherIncomeScale);
  scale(p.other2, otherIncomeScale);

  const net = new Float64Array(p.size);
  const s = new Float64Array(COHORT_SLOTS);
  for (let i = 0; i < p.size; i++) {
    computeCohort(p, i, rules, s);
    net[i] = s[NET_INCOME]!;
  }
  buildBasket(p, consumptionDraw, spec, net);
  let vatRaw = 0;
  for (let i = 0; i < p.size; i++) {
    vatRaw += p.weight[i]! * (p.spendReduced[i]! * rules.vatReducedRate + p.spendStandard[i]! * rules.vatStandardRate);
  }
  const basketScale = vatRaw > 0 ? targets.vat / vatRaw : 0;
  for (const a of [p.spendZero, p.spendReduced, p.spendExempt, p.spendStandard]) scale(a, basketScale);

  assignDeciles(p, net);

  let households = 0;
  let vat = 0;
  for (let i = 0; i < p.size; i++) {
    households += p.weight[i]!;
    vat += p.weight[i]! * (p.spendReduced[i]! * rules.vatReducedRate + p.spendStandard[i]! * rules.vatStandardRate);
  }
  return {
    targets,
    uncalibrated: { incomeTax: rawIncomeTax, nics: rawNics, vat: vatRaw },
    achieved: { incomeTax: incomeTaxTotal(p, rules, 1), nics: nicsTotal(p, rules, 1), vat, households },
    earningsScale,
    otherIncomeScale,
    basketScale,
    rakingTypeError,
  };
}

/** IPF onto region and household-type margins; returns the largest relative type-margin gap. */
function rakeWeights(p: Population, spec: PopulationSpec, total: number): number {
  let regionHouseholds = 0;
  for (const r of spec.regions) regionHouseholds += r.households;
  const regionTarget = spec.regions.map((r) => (total * r.households) / regionHouseholds);
  const typeTarget = spec.types.map((t) => total * t.share);
  const sums = new Float64Array(Math.max(REGION_COUNT, HOUSEHOLD_TYPES.length));
  const fitMargin = (key: Uint8Array, target: number[]): void => {
    sums.fill(0);
    for (let i = 0; i < p.size; i++) sums[key[i]!]! += p.weight[i]!;
    for (let i = 0; i < p.size; i++) {
      const k = key[i]!;
      if (sums[k]! > 0) p.weight[i] = (p.weight[i]! * target[k]!) / sums[k]!;
    }
  };
  for (let round = 0; round < RAKE_ROUNDS; round++) {
    fitMargin(p.householdType, typeTarget);
    fitMargin(p.region, regionTarget);
  }
  sums.fill(0);
  for (let i = 0; i < p.size; i++) sums[p.householdType[i]!]! += p.weight[i]!;
  let worst = 0;
  typeTarget.forEach((t, k) => {
    if (t > 0) worst = Math.max(worst, Math.abs(sums[k]! - t) / t);
  });
  return worst;
}

/** Employee + employer NICs over the population with earnings scaled by `s`. */
function nicsTotal(p: Population, r: TaxBenefitRules, s: number): number {
  let total = 0;
  for (let i = 0; i < p.size; i++) {
    const e1 = p.earnings1[i]! * s;
    const e2 = p.adults[i] === 2 ? p.earnings2[i]! * s : 0;
    let x = employerNics(r, e1) + employerNics(r, e2);
    if (p.pensioner[i] === 0) x += employeeNics(r, e1) + employeeNics(r, e2);
    total += p.weight[i]! * x;
  }
  return total;
}

/** Income tax over the population with other income scaled by `s` (earnings as they stand). */
function incomeTaxTotal(p: Population, r: TaxBenefitRules, s: number): number {
  let total = 0;
  for (let i = 0; i < p.size; i++) {
    const sp = p.pensioner[i] === 1 ? r.statePensionAnnual : 0;
    let x = incomeTax(r, p.earnings1[i]! + p.other1[i]! * s + sp);
    if (p.adults[i] === 2) x += incomeTax(r, p.earnings2[i]! + p.other2[i]! * s + sp);
    total += p.weight[i]! * x;
  }
  return total;
}

/** The root of an increasing function in [lo, hi] by a fixed number of halvings (the bound if none). */
function bisect(f: (x: number) => number, lo: number, hi: number): number {
  if (f(lo) >= 0) return lo;
  if (f(hi) <= 0) return hi;
  for (let step = 0; step < BISECTION_STEPS; step++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function scale(a: Float64Array, s: number): void {
  for (let i = 0; i < a.length; i++) a[i]! *= s;
}

function buildBasket(p: Population, draw: Float64Array, spec: PopulationSpec, net: Float64Array): void {
  const c = spec.consumption;
  for (let i = 0; i < p.size; i++) {
    const disposable = net[i]! > 0 ? net[i]! : 0;
    const total = (c.basePerEquivalentAdult * p.equivalence[i]! + c.propensity * disposable) * (0.85 + 0.3 * draw[i]!);
    p.spendZero[i] = total * c.zeroRated;
    p.spendReduced[i] = total * c.reducedRated;
    p.spendExempt[i] = total * c.exempt;
    p.spendStandard[i] = total * c.standardRated;
  }
}

/**
 * Deciles by equivalised net income: cohorts sorted by (income, index), and a cohort's
 * decile is where the middle of its weight falls in the cumulative household count.
 */
function assignDeciles(p: Population, net: Float64Array): void {
  const key = new Float64Array(p.size);
  for (let i = 0; i < p.size; i++) key[i] = net[i]! / p.equivalence[i]!;
  const order = new Uint32Array(p.size);
  for (let i = 0; i < p.size; i++) order[i] = i;
  order.sort((a, b) => key[a]! - key[b]! || a - b);
  let total = 0;
  for (let i = 0; i < p.size; i++) total += p.weight[i]!;
  let before = 0;
  for (let k = 0; k < p.size; k++) {
    const i = order[k]!;
    const w = p.weight[i]!;
    const d = Math.floor((10 * (before + w / 2)) / total);
    p.decile[i] = d > 9 ? 9 : d;
    before += w;
  }
}
