/** Shared fixtures for the sim tests: the 2025-26 rules and parameter set, read from the shipped data. */
import { loadDepartments } from '../macro/departments.ts';
import { baselineValues, loadParameterSet, type ParameterSet } from '../params/parameters.ts';
import { type TaxBenefitRules, taxBenefitRules } from '../taxben/rules.ts';

export function parameterSet(): ParameterSet {
  return loadParameterSet(loadDepartments());
}

export function rules2025(overrides: Partial<TaxBenefitRules> = {}): TaxBenefitRules {
  return { ...taxBenefitRules(baselineValues(parameterSet())), ...overrides };
}

export const REFORMS_DIR = new URL('../reforms/', import.meta.url);
