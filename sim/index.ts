/**
 * sim/: the policy simulation engine (UK 2025-26 tax-benefit microsimulation, input-output
 * macro, emissions and carbon budget, distribution and EqIA, policy gates). Pure and
 * deterministic: the only I/O is reading the JSON data files it ships. See sim/README.md.
 */
export { canonicalDigest, canonicalJson, roundTo, sortKeys } from './canonical.ts';
export {
  abatementAt,
  type CarbonBudgetCheck,
  checkCarbonBudget,
  emissionsEffect,
} from './climate/climate.ts';
export { ReformError, SimDataError } from './errors.ts';
export { debtRatioPath } from './fiscal/fiscal.ts';
export { compileGates, evaluateGate, type Gate, type GateResult } from './gates/engine.ts';
export { type Department, type DepartmentData, loadDepartments } from './macro/departments.ts';
export { leontiefInverse, multiply, outputMultipliers } from './macro/leontief.ts';
export { createModel, type ModelOptions, type SimModel } from './model.ts';
export {
  applyOverrides,
  baselineValues,
  loadParameterSet,
  type ParameterSet,
  type ParameterSpec,
  type ParameterValues,
} from './params/parameters.ts';
export { baselineReform, parseReform, parseReformText, type Reform, reformValues } from './params/reform.ts';
export { DEFAULT_COHORTS, DEFAULT_SEED } from './population/generate.ts';
export { type Population, populationBytes } from './population/population.ts';
export { REGION_CODES, REGIONS } from './regions.ts';
export {
  encodeResult,
  RESULT_DIGEST_DOMAIN,
  RESULT_SCHEMA,
  resultDigest,
  type SimResult,
  type SimulateOptions,
  simulate,
} from './simulate.ts';
export { type Comparison, compareWithBaseline } from './taxben/engine.ts';
export {
  calculateHousehold,
  type HouseholdInput,
  type HouseholdResult,
  STATE_PENSION_AGE,
} from './taxben/household.ts';
export { type TaxBenefitRules, taxBenefitRules } from './taxben/rules.ts';
