/**
 * simulate(reform, options) -> result: the whole chain for one reform, pure and
 * deterministic. Tax-benefit microsimulation against the baseline, the consumption and
 * departmental-spending shocks through the input-output model, emissions and the carbon
 * budget, the debt path, distribution and EqIA, then the policy gates on the rounded
 * result. Every number in the result is rounded at one of the points listed in
 * sim/README.md ("Rounding points"); encodeResult gives the canonical bytes and
 * resultDigest their SHA-256.
 */
import { canonicalDigest, canonicalJson, roundTo } from './canonical.ts';
import { checkCarbonBudget, emissionsEffect } from './climate/climate.ts';
import { debtRatioPath } from './fiscal/fiscal.ts';
import { evaluateGate, type GateResult } from './gates/engine.ts';
import { macroEffects } from './macro/effects.ts';
import { createModel, type ModelOptions, type SimModel } from './model.ts';
import { type Reform, reformValues } from './params/reform.ts';
import { REGION_CODES, type RegionCode } from './regions.ts';
import { compareWithBaseline, PROTECTED_GROUPS, type ProtectedGroup } from './taxben/engine.ts';
import { taxBenefitRules } from './taxben/rules.ts';

export const RESULT_SCHEMA = 'bizra.sim.result/v1';
/** Domain tag of the result digest: SHA-256(tag || 0x00 || canonical JSON). */
export const RESULT_DIGEST_DOMAIN = 'bizra/sim/result/v1';
/** A protected group's average gain beyond this multiple of the all-household average draws an EqIA warning. */
export const EQIA_RATIO = 1.5;
const LARGEST_CHANGES = 5;

export interface SimulateOptions extends ModelOptions {
  /** A model built by createModel; built on the spot (with seed and cohorts) when absent. */
  model?: SimModel;
}

export interface SimResult {
  schema: typeof RESULT_SCHEMA;
  reform: { name: string; year: number; description?: string; parameters: Record<string, number> };
  model: {
    parameters_version: string;
    population: { version: string; seed: number; cohorts: number; households: number };
    io_table_version: string;
    io_table_synthetic: boolean;
    climate_version: string;
    fiscal_version: string;
    departments_version: string;
  };
  /** Net exchequer gain, £ a year: the four taxes less the rise in benefit spending. */
  revenue_delta_gbp: number;
  /** The four taxes alone, £ a year. */
  tax_delta_gbp: number;
  revenue_delta_by_tax_gbp: { income_tax: number; employee_nics: number; employer_nics: number; vat: number };
  benefit_delta_gbp: { universal_credit: number; state_pension: number };
  spending_delta_gbp: number;
  /** Spending change less net exchequer gain, £ a year (positive: more borrowing). */
  borrowing_delta_gbp: number;
  /** Average gain per household by income decile (poorest first), £ a year. */
  decile_impacts_gbp: number[];
  /** The same as a per cent of the decile's average baseline net income. */
  decile_impacts_pct: number[];
  winners_losers: {
    winners_households: number;
    losers_households: number;
    unchanged_households: number;
    winners_pct: number;
    losers_pct: number;
  };
  distribution: {
    all_households_gbp: number;
    regional_impacts_gbp: Record<RegionCode, number>;
    protected_groups_gbp: Record<ProtectedGroup, number>;
    eqia_warnings: string[];
  };
  macro: {
    consumption_delta_gbp: number;
    output_delta_gbp: number;
    gva_delta_gbp: number;
    employment_delta_jobs: number;
    regional: Record<RegionCode, { output_gbp: number; jobs: number }>;
    largest_output_changes: Array<{ code: string; name: string; output_gbp: number }>;
  };
  /** Net change in annual emissions, MtCO2e a year (assumed to hold through the budget period). */
  emissions_delta_mtco2e: number;
  emissions: {
    activity_mtco2e: number;
    abatement_change_mtco2e: number;
    carbon_price_gbp_per_tco2e: number;
    baseline_carbon_price_gbp_per_tco2e: number;
  };
  carbon_budget: {
    name: string;
    status: 'COMPLIANT' | 'BREACH';
    limit_mtco2e: number;
    projected_mtco2e: number;
    headroom_mtco2e: number;
    overshoot_mtco2e: number;
  };
  fiscal: { years: string[]; debt_ratio_pct: number[]; baseline_debt_ratio_pct: number[] };
  gates: GateResult[];
}

const gbp = (x: number): number => roundTo(x, 0);
const pence = (x: number): number => roundTo(x, 2);
const mt = (x: number): number => roundTo(x, 3);
const money = (x: number): string => `${x < 0 ? '-' : ''}£${Math.abs(x).toFixed(2)}`;

export function simulate(reform: Reform, options: SimulateOptions = {}): SimResult {
  const model = options.model ?? createModel(options);
  const values = reformValues(model.parameters, reform);
  const rules = taxBenefitRules(values);
  const cmp = compareWithBaseline(model.population, model.baseline, rules);
  const d = cmp.delta;

  const byTax = {
    income_tax: gbp(d.incomeTax),
    employee_nics: gbp(d.employeeNics),
    employer_nics: gbp(d.employerNics),
    vat: gbp(d.vat),
  };
  const benefits = { universal_credit: gbp(d.universalCredit), state_pension: gbp(d.statePension) };
  const taxDelta = byTax.income_tax + byTax.employee_nics + byTax.employer_nics + byTax.vat;
  const revenueDelta = taxDelta - benefits.universal_credit - benefits.state_pension;

  const macro = macroEffects(model.io, model.departments, values, cmp.gainTotal);
  const spendingDelta = gbp(macro.spendingDeltaGbp);
  const borrowingDelta = spendingDelta - revenueDelta;
  const gvaDelta = gbp(macro.gvaGbp);

  const decileImpacts: number[] = [];
  const decilePct: number[] = [];
  for (let k = 0; k < 10; k++) {
    const hh = cmp.decileHouseholds[k]!;
    decileImpacts.push(hh > 0 ? pence(cmp.decileGain[k]! / hh) : 0);
    decilePct.push(cmp.decileBaseNet[k]! > 0 ? roundTo((cmp.decileGain[k]! / cmp.decileBaseNet[k]!) * 100, 3) : 0);
  }
  const households = roundTo(cmp.households, 0);
  const winners = roundTo(cmp.winners, 0);
  const losers = roundTo(cmp.losers, 0);
  const allAverage = pence(cmp.gainTotal / cmp.households);
  const regional = {} as Record<RegionCode, number>;
  const regionalMacro = {} as Record<RegionCode, { output_gbp: number; jobs: number }>;
  REGION_CODES.forEach((code, r) => {
    const hh = cmp.regionHouseholds[r]!;
    regional[code] = hh > 0 ? pence(cmp.regionGain[r]! / hh) : 0;
    regionalMacro[code] = { output_gbp: gbp(macro.regionalOutputGbp[r]!), jobs: roundTo(macro.regionalJobs[r]!, 0) };
  });
  const groups = {} as Record<ProtectedGroup, number>;
  const eqiaWarnings: string[] = [];
  PROTECTED_GROUPS.forEach((g, k) => {
    const hh = cmp.groupHouseholds[k]!;
    const avg = hh > 0 ? pence(cmp.groupGain[k]! / hh) : 0;
    groups[g] = avg;
    // Compared on the rounded figures, so the warning can be re-derived from the result.
    if (Math.abs(avg) > EQIA_RATIO * Math.abs(allAverage)) {
      eqiaWarnings.push(
        `disproportionate impact on ${g.replaceAll('_', ' ')}: ${money(avg)} a year per household against ${money(allAverage)} on average (more than ${EQIA_RATIO}x)`,
      );
    }
  });

  const basePrice = model.baseValues['carbon.price_gbp_per_tco2e']!;
  const price = values['carbon.price_gbp_per_tco2e']!;
  const emissions = emissionsEffect(model.climate, macro.outputByIndustry, basePrice, price);
  const emissionsDelta = mt(emissions.deltaMt);
  const budget = checkCarbonBudget(
    model.climate.budgetName,
    model.climate.limitMt,
    model.climate.baselineTrajectoryMt.map((x) => x + emissionsDelta),
  );

  const ratios = debtRatioPath(model.fiscal, borrowingDelta, gvaDelta).map((x) => roundTo(x, 3));
  const baseRatios = debtRatioPath(model.fiscal, 0, 0).map((x) => roundTo(x, 3));

  const largest = [...macro.outputByIndustry.keys()]
    .filter((j) => gbp(macro.outputByIndustry[j]!) !== 0)
    .sort((a, b) => Math.abs(macro.outputByIndustry[b]!) - Math.abs(macro.outputByIndustry[a]!) || a - b)
    .slice(0, LARGEST_CHANGES)
    .map((j) => ({ code: model.io.codes[j]!, name: model.io.names[j]!, output_gbp: gbp(macro.outputByIndustry[j]!) }));

  const reformOut: SimResult['reform'] = { name: reform.name, year: reform.year, parameters: { ...reform.parameters } };
  if (reform.description !== undefined) reformOut.description = reform.description;
  const result: SimResult = {
    schema: RESULT_SCHEMA,
    reform: reformOut,
    model: {
      parameters_version: model.parameters.version,
      population: { version: model.populationVersion, seed: model.seed, cohorts: model.cohorts, households },
      io_table_version: model.io.version,
      io_table_synthetic: model.io.synthetic,
      climate_version: model.climate.version,
      fiscal_version: model.fiscal.version,
      departments_version: model.departments.version,
    },
    revenue_delta_gbp: revenueDelta,
    tax_delta_gbp: taxDelta,
    revenue_delta_by_tax_gbp: byTax,
    benefit_delta_gbp: benefits,
    spending_delta_gbp: spendingDelta,
    borrowing_delta_gbp: borrowingDelta,
    decile_impacts_gbp: decileImpacts,
    decile_impacts_pct: decilePct,
    winners_losers: {
      winners_households: winners,
      losers_households: losers,
      unchanged_households: households - winners - losers,
      winners_pct: roundTo((cmp.winners / cmp.households) * 100, 2),
      losers_pct: roundTo((cmp.losers / cmp.households) * 100, 2),
    },
    distribution: {
      all_households_gbp: allAverage,
      regional_impacts_gbp: regional,
      protected_groups_gbp: groups,
      eqia_warnings: eqiaWarnings,
    },
    macro: {
      consumption_delta_gbp: gbp(macro.consumptionDeltaGbp),
      output_delta_gbp: gbp(macro.outputGbp),
      gva_delta_gbp: gvaDelta,
      employment_delta_jobs: roundTo(macro.jobs, 0),
      regional: regionalMacro,
      largest_output_changes: largest,
    },
    emissions_delta_mtco2e: emissionsDelta,
    emissions: {
      activity_mtco2e: mt(emissions.activityMt),
      abatement_change_mtco2e: mt(emissions.abatementChangeMt),
      carbon_price_gbp_per_tco2e: price,
      baseline_carbon_price_gbp_per_tco2e: basePrice,
    },
    carbon_budget: {
      name: budget.name,
      status: budget.status,
      limit_mtco2e: budget.limitMt,
      projected_mtco2e: mt(budget.projectedMt),
      headroom_mtco2e: mt(budget.headroomMt),
      overshoot_mtco2e: mt(budget.overshootMt),
    },
    fiscal: { years: [...model.fiscal.years], debt_ratio_pct: ratios, baseline_debt_ratio_pct: baseRatios },
    gates: [],
  };
  result.gates = model.gates.map((g) => evaluateGate(g, result));
  return result;
}

/** The canonical bytes of a result (sorted-key JSON; see canonical.ts). */
export function encodeResult(result: SimResult): string {
  return canonicalJson(result);
}

/** SHA-256 (hex) of the domain tag and the canonical encoding: what peers compare. */
export function resultDigest(result: SimResult): string {
  return canonicalDigest(result, RESULT_DIGEST_DOMAIN);
}
