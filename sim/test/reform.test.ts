import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ReformError } from '../errors.ts';
import { applyOverrides, baselineValues } from '../params/parameters.ts';
import { parseReform, parseReformText, reformValues } from '../params/reform.ts';
import { parameterSet, REFORMS_DIR } from './helpers.ts';

const set = parameterSet();

/** The error a reform is refused with, or a failure if it is accepted. */
function refusal(json: unknown): ReformError {
  try {
    parseReform(json, set);
  } catch (err) {
    expect(err).toBeInstanceOf(ReformError);
    return err as ReformError;
  }
  throw new Error('reform was accepted');
}

const reform = (parameters: Record<string, unknown>) => ({ name: 'test', year: 2025, parameters });

describe('parameter paths', () => {
  it('every path of the issue table exists with its 2025-26 value', () => {
    const v = baselineValues(set);
    const table: Record<string, number> = {
      'income_tax.personal_allowance': 12_570,
      'income_tax.taper_threshold': 100_000,
      'income_tax.basic_rate': 0.2,
      'income_tax.higher_rate': 0.4,
      'income_tax.additional_rate': 0.45,
      'income_tax.basic_rate_limit': 37_700,
      'income_tax.additional_rate_threshold': 125_140,
      'nics.employee.primary_threshold': 12_570,
      'nics.employee.upper_earnings_limit': 50_270,
      'nics.employee.main_rate': 0.08,
      'nics.employee.additional_rate': 0.02,
      'nics.employer.secondary_threshold': 5_000,
      'nics.employer.rate': 0.15,
      'vat.standard_rate': 0.2,
      'state_pension.weekly_amount': 230.25,
      'uc.standard_allowance.single_under_25': 316.98,
      'uc.standard_allowance.single_25_plus': 400.14,
      'uc.standard_allowance.couple_under_25': 497.55,
      'uc.standard_allowance.couple_25_plus': 628.1,
      'uc.taper_rate': 0.55,
      'uc.work_allowance.with_housing': 411,
      'uc.work_allowance.without_housing': 684,
      'uc.child_element.first_pre_2017': 339,
      'uc.child_element.other': 292.81,
    };
    for (const [path, value] of Object.entries(table)) expect(v[path], path).toBe(value);
    expect(v['carbon.price_gbp_per_tco2e']).toBeGreaterThan(0);
  });

  it('has a spending.<department>.rdel_pct path, at 0, for each department', () => {
    const spending = [...set.specs.keys()].filter((p) => p.startsWith('spending.'));
    expect(spending.length).toBeGreaterThanOrEqual(15);
    for (const p of spending) {
      expect(p).toMatch(/^spending\.[a-z_]+\.rdel_pct$/);
      expect(baselineValues(set)[p]).toBe(0);
    }
    expect(set.specs.has('spending.health_and_social_care.rdel_pct')).toBe(true);
  });

  it('every parameter names a source with a title, URL and date', () => {
    for (const spec of set.specs.values()) {
      const src = set.sources[spec.source];
      expect(src?.title, spec.path).toBeTruthy();
      expect(src?.url, spec.path).toBeTruthy();
      expect(src?.date, spec.path).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });
});

describe('reforms', () => {
  it('override parameters by path, leaving the rest at baseline', () => {
    const v = reformValues(set, parseReform(reform({ 'income_tax.basic_rate': 0.21 }), set));
    expect(v['income_tax.basic_rate']).toBe(0.21);
    expect(v['income_tax.higher_rate']).toBe(0.4);
  });

  it('refuse an unknown path, naming it and suggesting the near miss', () => {
    const e = refusal(reform({ 'income_tax.basic_rat': 0.21 }));
    expect(e.path).toBe('income_tax.basic_rat');
    expect(e.message).toMatch(/unknown parameter path "income_tax.basic_rat".*did you mean "income_tax.basic_rate"/);
    expect(refusal(reform({ 'spending.ministry_of_magic.rdel_pct': 5 })).path).toBe(
      'spending.ministry_of_magic.rdel_pct',
    );
  });

  it('refuse a value of the wrong type, naming the path', () => {
    const e = refusal(reform({ 'income_tax.basic_rate': '0.21' }));
    expect(e.path).toBe('income_tax.basic_rate');
    expect(e.message).toMatch(/must be a number .*got the string "0.21"/);
    expect(refusal(reform({ 'uc.taper_rate': null })).message).toMatch(/got null/);
    expect(refusal(reform({ 'uc.child_limit': 2.5 })).message).toMatch(/whole number/);
  });

  it('refuse a value out of range, naming the path', () => {
    expect(refusal(reform({ 'income_tax.basic_rate': 1.5 })).message).toMatch(
      /"income_tax.basic_rate" is out of range: 1.5 is not a rate from 0 to 1/,
    );
    expect(refusal(reform({ 'income_tax.personal_allowance': -1 })).path).toBe('income_tax.personal_allowance');
    expect(refusal(reform({ 'spending.defence.rdel_pct': -60 })).path).toBe('spending.defence.rdel_pct');
  });

  it('refuse inconsistent thresholds, naming the one that breaks the order', () => {
    const e = refusal(reform({ 'nics.employee.upper_earnings_limit': 10_000 }));
    expect(e.path).toBe('nics.employee.upper_earnings_limit');
  });

  it('refuse malformed files: not JSON, not an object, unknown fields, a missing name or another year', () => {
    expect(() => parseReformText('{"name": ', set, 'bad.json')).toThrow(/bad.json is not valid JSON/);
    expect(refusal([1, 2]).message).toMatch(/JSON object/);
    expect(refusal({ ...reform({}), extra: 1 }).path).toBe('extra');
    expect(refusal({ year: 2025, parameters: {} }).path).toBe('name');
    expect(refusal({ name: 'x', year: 2026, parameters: {} }).message).toMatch(/2026 is not available/);
    expect(refusal({ name: 'x', year: 2025 }).path).toBe('parameters');
  });

  it('a refused reform changes nothing: the baseline stays as it was', () => {
    const before = JSON.stringify(baselineValues(set));
    expect(() => applyOverrides(set, { 'income_tax.basic_rate': 0.3, 'income_tax.higher_rate': 7 })).toThrow(
      ReformError,
    );
    expect(JSON.stringify(baselineValues(set))).toBe(before);
  });

  it('the shipped example reforms parse', () => {
    const files = readdirSync(REFORMS_DIR).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const r = parseReformText(readFileSync(new URL(f, REFORMS_DIR), 'utf8'), set, f);
      expect(Object.keys(r.parameters).length, f).toBeGreaterThan(0);
    }
  });
});
