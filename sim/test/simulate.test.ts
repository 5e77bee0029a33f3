import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, roundTo } from '../canonical.ts';
import { createModel, type SimModel } from '../model.ts';
import { baselineReform, parseReformText, type Reform } from '../params/reform.ts';
import { encodeResult, resultDigest, type SimResult, simulate } from '../simulate.ts';
import { REFORMS_DIR } from './helpers.ts';

let model: SimModel;
beforeAll(() => {
  model = createModel();
});

const exampleReform = (file: string): Reform =>
  parseReformText(readFileSync(new URL(file, REFORMS_DIR), 'utf8'), model.parameters, file);
const reform = (parameters: Record<string, number>): Reform => ({ name: 'test', year: 2025, parameters });

/**
 * Digests computed by this code on the shipped data and pinned: a change to the data, the
 * population generator, the rules or the encoding changes them, which must be deliberate
 * (peers attest these bytes).
 */
const GOLDEN = {
  baseline: '2724cff1e2bde82ba00f4c2557475c2f9c712a5516ea075c95e06b327c0972a8',
  basicRatePlus1p: 'd694e746662e399bb1d999f0ae4f23b34e7194121dc554aa164c06036e4fbe6a',
};

describe('simulate: determinism', () => {
  it('two runs on separately built models give byte-identical canonical results', () => {
    const other = createModel();
    const r = exampleReform('basic-rate-plus-1p.json');
    const a = encodeResult(simulate(r, { model }));
    const b = encodeResult(simulate(r, { model: other }));
    expect(a).toBe(b);
    expect(a.length).toBeGreaterThan(1000);
  });

  it('the canonical result digests match the pinned golden values', () => {
    expect(resultDigest(simulate(baselineReform(model.parameters), { model }))).toBe(GOLDEN.baseline);
    expect(resultDigest(simulate(exampleReform('basic-rate-plus-1p.json'), { model }))).toBe(GOLDEN.basicRatePlus1p);
  });

  it('a different population seed gives a different digest', () => {
    const r = exampleReform('basic-rate-plus-1p.json');
    const small = (seed: number) => resultDigest(simulate(r, { model: createModel({ seed, cohorts: 12_000 }) }));
    expect(small(1)).not.toBe(small(2));
  });

  it('the canonical encoding has sorted keys, no whitespace, and rounded numbers only', () => {
    const text = encodeResult(simulate(exampleReform('uc-taper-50.json'), { model }));
    expect(text).not.toMatch(/\s"|":\s|,\s"/);
    const parsed = JSON.parse(text);
    expect(canonicalJson(parsed)).toBe(text);
    // No number carries more than 3 decimals: each was rounded at a documented point.
    expect(text).not.toMatch(/\d\.\d{4,}/);
  });
});

describe('simulate: the baseline', () => {
  it('changes nothing against itself', () => {
    const r = simulate(baselineReform(model.parameters), { model });
    expect(r.revenue_delta_gbp).toBe(0);
    expect(Object.values(r.revenue_delta_by_tax_gbp)).toEqual([0, 0, 0, 0]);
    expect(r.decile_impacts_gbp).toEqual(Array(10).fill(0));
    expect(r.winners_losers.unchanged_households).toBe(28_600_000);
    expect(r.emissions_delta_mtco2e).toBe(0);
    expect(r.fiscal.debt_ratio_pct).toEqual(r.fiscal.baseline_debt_ratio_pct);
    expect(r.gates.map((g) => [g.name, g.allow])).toEqual([
      ['fiscal.debt_rule', true],
      ['climate.carbon_budget', true],
      ['equality.eqia', true],
    ]);
  });
});

describe('simulate: example reforms', () => {
  let basic: SimResult;
  let taper: SimResult;
  beforeAll(() => {
    basic = simulate(exampleReform('basic-rate-plus-1p.json'), { model });
    taper = simulate(exampleReform('uc-taper-50.json'), { model });
  });

  it('1p on the basic rate raises £6-10bn of income tax, costs every decile, the top ones most', () => {
    const it = basic.revenue_delta_by_tax_gbp.income_tax;
    expect(it).toBeGreaterThan(6e9);
    expect(it).toBeLessThan(10e9);
    expect(basic.revenue_delta_by_tax_gbp.employee_nics).toBe(0);
    expect(basic.revenue_delta_by_tax_gbp.vat).toBe(0);
    // Lower net earnings raise Universal Credit a little: the net gain is below the tax gain.
    expect(basic.benefit_delta_gbp.universal_credit).toBeGreaterThan(0);
    expect(basic.revenue_delta_gbp).toBe(basic.tax_delta_gbp - basic.benefit_delta_gbp.universal_credit);
    expect(basic.decile_impacts_gbp).toHaveLength(10);
    for (const d of basic.decile_impacts_gbp) expect(d).toBeLessThan(0);
    expect(basic.decile_impacts_gbp[9]!).toBeLessThan(basic.decile_impacts_gbp[0]!);
    expect(basic.winners_losers.winners_households).toBe(0);
    expect(basic.winners_losers.losers_households).toBeGreaterThan(15_000_000);
  });

  it('household gains, weighted up, equal the exchequer loss less employer NICs', () => {
    // Households lose what the exchequer gains from them (employer NICs are not theirs).
    const households = basic.distribution.all_households_gbp * basic.model.population.households;
    const fromHouseholds = basic.revenue_delta_gbp - basic.revenue_delta_by_tax_gbp.employer_nics;
    expect(Math.abs(households + fromHouseholds) / fromHouseholds).toBeLessThan(1e-4);
  });

  it('a 50% UC taper costs money, helps lower-middle deciles, and flags families with children', () => {
    expect(taper.revenue_delta_gbp).toBeLessThan(0);
    expect(taper.benefit_delta_gbp.universal_credit).toBeGreaterThan(0);
    expect(taper.decile_impacts_gbp[2]!).toBeGreaterThan(taper.decile_impacts_gbp[9]!);
    for (const d of taper.decile_impacts_gbp) expect(d).toBeGreaterThanOrEqual(0);
    expect(taper.winners_losers.losers_households).toBe(0);
    const families = taper.distribution.protected_groups_gbp.families_with_children;
    expect(families).toBeGreaterThan(1.5 * taper.distribution.all_households_gbp);
    expect(taper.distribution.eqia_warnings.join()).toMatch(/families with children/);
    const eqia = taper.gates.find((g) => g.name === 'equality.eqia')!;
    expect(eqia.allow).toBe(true);
    expect(eqia.messages[0]).toMatch(/^EqIA: disproportionate impact on families with children/);
  });

  it('has the keys the CLI promises', () => {
    for (const key of [
      'revenue_delta_gbp',
      'revenue_delta_by_tax_gbp',
      'decile_impacts_gbp',
      'emissions_delta_mtco2e',
      'carbon_budget',
      'gates',
    ]) {
      expect(basic).toHaveProperty(key);
    }
    expect(Object.keys(basic.revenue_delta_by_tax_gbp).sort()).toEqual([
      'employee_nics',
      'employer_nics',
      'income_tax',
      'vat',
    ]);
  });
});

describe('simulate: macro, climate and fiscal gates', () => {
  it('more health spending raises output, jobs and emissions, mostly in health', () => {
    const r = simulate(reform({ 'spending.health_and_social_care.rdel_pct': 5 }), { model });
    expect(r.spending_delta_gbp).toBe(10_100_000_000);
    const multiplier = r.macro.output_delta_gbp / r.spending_delta_gbp;
    expect(multiplier).toBeGreaterThan(1.3);
    expect(multiplier).toBeLessThan(2.5);
    expect(r.macro.employment_delta_jobs).toBeGreaterThan(0);
    expect(r.macro.largest_output_changes[0]!.code).toBe('Q86');
    expect(r.emissions_delta_mtco2e).toBeGreaterThan(0);
    expect(r.borrowing_delta_gbp).toBe(10_100_000_000);
  });

  it('Scottish block grant spending lands in Scotland', () => {
    const r = simulate(reform({ 'spending.scotland.rdel_pct': 10 }), { model });
    const regions = Object.entries(r.macro.regional).sort((a, b) => b[1].output_gbp - a[1].output_gbp);
    expect(regions[0]![0]).toBe('TLM');
    expect(r.macro.regional.TLM.output_gbp).toBeGreaterThan(0.9 * r.macro.output_delta_gbp);
  });

  it('the carbon budget: COMPLIANT with headroom at the baseline price, BREACH with overshoot without one', () => {
    const base = simulate(baselineReform(model.parameters), { model });
    expect(base.carbon_budget.status).toBe('COMPLIANT');
    expect(base.carbon_budget.headroom_mtco2e).toBeGreaterThan(0);
    expect(base.carbon_budget.overshoot_mtco2e).toBe(0);

    const none = simulate(exampleReform('scrap-carbon-price.json'), { model });
    expect(none.carbon_budget.status).toBe('BREACH');
    expect(none.carbon_budget.overshoot_mtco2e).toBeGreaterThan(0);
    expect(none.carbon_budget.headroom_mtco2e).toBe(0);
    expect(none.carbon_budget.projected_mtco2e).toBe(roundTo(965 + none.carbon_budget.overshoot_mtco2e, 3));
    const gate = none.gates.find((g) => g.name === 'climate.carbon_budget')!;
    expect(gate.allow).toBe(false);
    expect(gate.messages[0]).toMatch(/^Carbon Budget breach: [\d.]+ MtCO2e over the 965 MtCO2e limit/);

    const dear = simulate(reform({ 'carbon.price_gbp_per_tco2e': 150 }), { model });
    expect(dear.emissions.abatement_change_mtco2e).toBeGreaterThan(0);
    expect(dear.carbon_budget.headroom_mtco2e).toBeGreaterThan(base.carbon_budget.headroom_mtco2e + 50);
    expect(dear.gates.find((g) => g.name === 'climate.carbon_budget')!.messages).toEqual([]);
  });

  it('the fiscal rule: allowed for a tax rise, denied for a large unfunded spending rise', () => {
    const rise = simulate(exampleReform('basic-rate-plus-1p.json'), { model });
    expect(rise.gates.find((g) => g.name === 'fiscal.debt_rule')!.allow).toBe(true);
    const spend = simulate(reform({ 'spending.health_and_social_care.rdel_pct': 10 }), { model });
    const gate = spend.gates.find((g) => g.name === 'fiscal.debt_rule')!;
    expect(gate.allow).toBe(false);
    expect(spend.fiscal.debt_ratio_pct[5]!).toBeGreaterThan(spend.fiscal.debt_ratio_pct[4]!);
    expect(gate.messages[0]).toMatch(/^Fiscal rule breach/);
  });
});
