/**
 * Emissions: the change in output times each industry's emissions intensity, less the
 * change in abatement the carbon price buys along the marginal abatement cost measures,
 * checked against the Sixth Carbon Budget. A reform's annual change is assumed to hold in
 * every year of the budget period (2033-37).
 */
import { num, numbers, record, str } from '../data/check.ts';
import { readDataFile } from '../data/read.ts';
import { SimDataError } from '../errors.ts';
import type { IoModel } from '../macro/io-model.ts';

export interface AbatementMeasure {
  name: string;
  sector: string;
  costLow: number;
  costHigh: number;
  potentialMt: number;
}

export interface ClimateData {
  version: string;
  budgetName: string;
  limitMt: number;
  years: readonly number[];
  baselineTrajectoryMt: readonly number[];
  /** tCO2e per £ of output, by industry (IoModel order). */
  intensityPerGbp: Float64Array;
  measures: readonly AbatementMeasure[];
}

export interface CarbonBudgetCheck {
  name: string;
  status: 'COMPLIANT' | 'BREACH';
  limitMt: number;
  projectedMt: number;
  /** limit - projected when compliant, else 0. */
  headroomMt: number;
  /** projected - limit when in breach, else 0. */
  overshootMt: number;
}

export function loadClimateData(io: IoModel): ClimateData {
  const f = 'climate.json';
  const root = record(readDataFile(f), f);
  const cb = record(root['carbon_budget'], `${f} carbon_budget`);
  const years = numbers(cb['years'], `${f} carbon_budget.years`, undefined, 2000, 2100);
  const trajectory = numbers(
    cb['baseline_trajectory_mtco2e'],
    `${f} carbon_budget.baseline_trajectory_mtco2e`,
    years.length,
    0,
  );
  const intensity = record(root['intensity_t_per_gbp_m'], `${f} intensity_t_per_gbp_m`);
  const byGroup = record(intensity['groups'], `${f} intensity_t_per_gbp_m.groups`);
  const byIndustry = record(intensity['industries'], `${f} intensity_t_per_gbp_m.industries`);
  for (const code of Object.keys(byIndustry)) {
    if (!io.index.has(code)) throw new SimDataError(`${f} intensity_t_per_gbp_m.industries: unknown industry ${code}`);
  }
  const intensityPerGbp = new Float64Array(io.n);
  for (let j = 0; j < io.n; j++) {
    const code = io.codes[j]!;
    const group = io.groups[j]!;
    const v = byIndustry[code] ?? byGroup[group];
    intensityPerGbp[j] = num(v, `${f} intensity for ${code} (group ${group})`, 0, 100000) / 1e6;
  }
  const m = record(root['abatement_measures'], `${f} abatement_measures`);
  const list = m['measures'];
  if (!Array.isArray(list)) throw new SimDataError(`${f} abatement_measures.measures: expected an array`);
  const measures = list.map((raw, i): AbatementMeasure => {
    const w = `${f} abatement_measures.measures[${i}]`;
    const x = record(raw, w);
    const sector = str(x['sector'], `${w}.sector`);
    if (!io.index.has(sector)) throw new SimDataError(`${w}.sector: unknown industry ${sector}`);
    const costLow = num(x['cost_low'], `${w}.cost_low`, -1000, 10000);
    return {
      name: str(x['name'], `${w}.name`),
      sector,
      costLow,
      costHigh: num(x['cost_high'], `${w}.cost_high`, costLow + 1e-9, 10000),
      potentialMt: num(x['potential_mtco2e'], `${w}.potential_mtco2e`, 0, 1000),
    };
  });
  return {
    version: str(root['version'], `${f} version`),
    budgetName: str(cb['name'], `${f} carbon_budget.name`),
    limitMt: num(cb['limit_mtco2e'], `${f} carbon_budget.limit_mtco2e`, 0),
    years,
    baselineTrajectoryMt: trajectory,
    intensityPerGbp,
    measures,
  };
}

/** MtCO2e a year abated at `price` (£/tCO2e): each measure linearly across its cost range. */
export function abatementAt(measures: readonly AbatementMeasure[], price: number): number {
  let total = 0;
  for (const m of measures) {
    if (price <= m.costLow) continue;
    total += price >= m.costHigh ? m.potentialMt : (m.potentialMt * (price - m.costLow)) / (m.costHigh - m.costLow);
  }
  return total;
}

export interface EmissionsEffect {
  /** From the change in output, MtCO2e a year. */
  activityMt: number;
  /** Extra abatement bought by the change in carbon price, MtCO2e a year (positive: more abated). */
  abatementChangeMt: number;
  /** Net change, MtCO2e a year: activity - abatement change. */
  deltaMt: number;
}

export function emissionsEffect(
  climate: ClimateData,
  outputByIndustry: Float64Array,
  basePrice: number,
  reformPrice: number,
): EmissionsEffect {
  let tonnes = 0;
  for (let j = 0; j < outputByIndustry.length; j++) tonnes += outputByIndustry[j]! * climate.intensityPerGbp[j]!;
  const activityMt = tonnes / 1e6;
  const abatementChangeMt = abatementAt(climate.measures, reformPrice) - abatementAt(climate.measures, basePrice);
  return { activityMt, abatementChangeMt, deltaMt: activityMt - abatementChangeMt };
}

/** The budget check on a trajectory (MtCO2e per budget year): COMPLIANT with headroom, or BREACH with overshoot. */
export function checkCarbonBudget(name: string, limitMt: number, trajectoryMt: readonly number[]): CarbonBudgetCheck {
  let projectedMt = 0;
  for (const x of trajectoryMt) projectedMt += x;
  const compliant = projectedMt <= limitMt;
  return {
    name,
    status: compliant ? 'COMPLIANT' : 'BREACH',
    limitMt,
    projectedMt,
    headroomMt: compliant ? limitMt - projectedMt : 0,
    overshootMt: compliant ? 0 : projectedMt - limitMt,
  };
}
