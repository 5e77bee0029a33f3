/**
 * Demand shocks through the input-output model. Departmental spending changes (by the
 * departments' sector shares) and the change in household consumption (the marginal
 * propensity to consume times households' total gain, by consumption shares) are final
 * demand; L times final demand is the change in output by industry, and from it GVA,
 * jobs and regional output. Devolved block grants are spent in their own nation: their
 * output is counted there, everything else is spread by each industry's regional shares.
 */
import type { ParameterValues } from '../params/parameters.ts';
import { REGION_CODES, REGION_COUNT } from '../regions.ts';
import type { DepartmentData } from './departments.ts';
import type { IoModel } from './io-model.ts';
import { multiply } from './leontief.ts';

export interface MacroEffects {
  /** Change in departmental resource spending, £ a year (positive: more spending). */
  spendingDeltaGbp: number;
  spendingByDepartmentGbp: Record<string, number>;
  consumptionDeltaGbp: number;
  /** Change in output by industry, £ a year. */
  outputByIndustry: Float64Array;
  outputGbp: number;
  gvaGbp: number;
  jobs: number;
  regionalOutputGbp: Float64Array;
  regionalJobs: Float64Array;
}

export function macroEffects(
  io: IoModel,
  depts: DepartmentData,
  values: ParameterValues,
  householdGainGbp: number,
): MacroEffects {
  const n = io.n;
  const national = new Float64Array(n);
  const devolved = new Map<number, Float64Array>();
  const spendingByDepartmentGbp: Record<string, number> = {};
  let spendingDeltaGbp = 0;
  for (const d of depts.departments) {
    const pct = values[`spending.${d.key}.rdel_pct`] ?? 0;
    if (pct === 0) continue;
    const change = (d.rdelGbp * pct) / 100;
    spendingByDepartmentGbp[d.key] = change;
    spendingDeltaGbp += change;
    let target: Float64Array = national;
    if (d.region !== undefined) {
      const r = REGION_CODES.indexOf(d.region);
      target = devolved.get(r) ?? new Float64Array(n);
      devolved.set(r, target);
    }
    for (const [code, share] of d.sectors) target[io.index.get(code)!]! += change * share;
  }
  const consumptionDeltaGbp = depts.marginalPropensityToConsume * householdGainGbp;
  for (const [code, share] of depts.consumptionSectors) national[io.index.get(code)!]! += consumptionDeltaGbp * share;

  const outputByIndustry = multiply(io.leontief, n, national);
  const regionalOutputGbp = new Float64Array(REGION_COUNT);
  const regionalJobs = new Float64Array(REGION_COUNT);
  for (let j = 0; j < n; j++) {
    const x = outputByIndustry[j]!;
    for (let r = 0; r < REGION_COUNT; r++) {
      const share = io.regionShare[j * REGION_COUNT + r]!;
      regionalOutputGbp[r]! += x * share;
      regionalJobs[r]! += x * share * io.jobsPerGbp[j]!;
    }
  }
  // Regions in ascending order, so the sums run the same way every time.
  for (const r of [...devolved.keys()].sort((a, b) => a - b)) {
    const x = multiply(io.leontief, n, devolved.get(r)!);
    for (let j = 0; j < n; j++) {
      outputByIndustry[j]! += x[j]!;
      regionalOutputGbp[r]! += x[j]!;
      regionalJobs[r]! += x[j]! * io.jobsPerGbp[j]!;
    }
  }
  let outputGbp = 0;
  let gvaGbp = 0;
  let jobs = 0;
  for (let j = 0; j < n; j++) {
    const x = outputByIndustry[j]!;
    outputGbp += x;
    gvaGbp += x * io.gvaShare[j]!;
    jobs += x * io.jobsPerGbp[j]!;
  }
  return {
    spendingDeltaGbp,
    spendingByDepartmentGbp,
    consumptionDeltaGbp,
    outputByIndustry,
    outputGbp,
    gvaGbp,
    jobs,
    regionalOutputGbp,
    regionalJobs,
  };
}
