/**
 * The simulation model: everything a reform is evaluated against, built once and then
 * only read. Building it reads the shipped data, generates and calibrates the synthetic
 * population, evaluates the baseline and inverts the input-output matrix (about half a
 * second); evaluating a reform against it takes milliseconds. A model holds no mutable
 * state after construction, so one model can serve any number of evaluations.
 */
import { type ClimateData, loadClimateData } from './climate/climate.ts';
import { readDataFile } from './data/read.ts';
import { SimDataError } from './errors.ts';
import { type FiscalBaseline, loadFiscalBaseline } from './fiscal/fiscal.ts';
import { compileGates, type Gate } from './gates/engine.ts';
import { type DepartmentData, loadDepartments } from './macro/departments.ts';
import { type IoModel, loadIoModel } from './macro/io-model.ts';
import { baselineValues, loadParameterSet, type ParameterSet, type ParameterValues } from './params/parameters.ts';
import { type CalibrationReport, calibratePopulation, loadCalibrationTargets } from './population/calibrate.ts';
import { DEFAULT_COHORTS, DEFAULT_SEED, generatePopulation } from './population/generate.ts';
import type { Population } from './population/population.ts';
import { loadPopulationSpec } from './population/spec.ts';
import { type BaselineTable, baselineTotals, evaluateBaseline, type Totals } from './taxben/engine.ts';
import { type TaxBenefitRules, taxBenefitRules } from './taxben/rules.ts';

export interface ModelOptions {
  /** Seed of the synthetic population (default DEFAULT_SEED). */
  seed?: number;
  /** Number of household cohorts (default 100,000). */
  cohorts?: number;
}

export interface SimModel {
  seed: number;
  cohorts: number;
  parameters: ParameterSet;
  baseValues: ParameterValues;
  baseRules: TaxBenefitRules;
  departments: DepartmentData;
  populationVersion: string;
  population: Population;
  calibration: CalibrationReport;
  baseline: BaselineTable;
  baselineTotals: Totals;
  io: IoModel;
  climate: ClimateData;
  fiscal: FiscalBaseline;
  gates: readonly Gate[];
}

export function createModel(options: ModelOptions = {}): SimModel {
  const seed = options.seed ?? DEFAULT_SEED;
  const cohorts = options.cohorts ?? DEFAULT_COHORTS;
  const departments = loadDepartments();
  const parameters = loadParameterSet(departments);
  const baseValues = baselineValues(parameters);
  const baseRules = taxBenefitRules(baseValues);
  const spec = loadPopulationSpec();
  const { population, consumptionDraw } = generatePopulation(spec, seed, cohorts);
  const calibration = calibratePopulation(population, consumptionDraw, spec, baseRules, loadCalibrationTargets());
  const baseline = evaluateBaseline(population, baseRules);
  const io = loadIoModel(spec.regions.map((r) => r.households));
  for (const d of departments.departments) {
    for (const [code] of d.sectors) checkIndustry(io, code, `departments.json ${d.key}`);
  }
  for (const [code] of departments.consumptionSectors)
    checkIndustry(io, code, 'departments.json household_consumption');
  return {
    seed,
    cohorts,
    parameters,
    baseValues,
    baseRules,
    departments,
    populationVersion: spec.version,
    population,
    calibration,
    baseline,
    baselineTotals: baselineTotals(population, baseline),
    io,
    climate: loadClimateData(io),
    fiscal: loadFiscalBaseline(),
    gates: compileGates(readDataFile('gates.json'), 'gates.json'),
  };
}

function checkIndustry(io: IoModel, code: string, where: string): void {
  if (!io.index.has(code)) throw new SimDataError(`${where}: unknown industry ${code}`);
}
