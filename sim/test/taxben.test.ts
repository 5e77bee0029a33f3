import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReformError } from '../errors.ts';
import { calculateHousehold } from '../taxben/household.ts';
import { employeeNics, employerNics, incomeTax, personalAllowance, universalCreditMonthly } from '../taxben/rules.ts';
import { rules2025 } from './helpers.ts';

const r = rules2025();

describe('households, 2025-26, employee, rest of UK (the table in issue 6)', () => {
  const table: Array<[salary: number, tax: number, nics: number]> = [
    [30_000, 3_486.0, 1_394.4],
    [60_000, 11_432.0, 3_210.6],
    [100_000, 27_432.0, 4_010.6],
    [150_000, 53_703.0, 5_010.6],
  ];
  for (const [salary, tax, nics] of table) {
    it(`£${salary}: income tax ${tax.toFixed(2)}, employee NICs ${nics.toFixed(2)}`, () => {
      const h = calculateHousehold(r, { salary });
      expect(h.income_tax).toBe(tax);
      expect(h.employee_nics).toBe(nics);
      expect(h.net_income).toBe(Math.round((salary - tax - nics) * 100) / 100);
      expect(h.universal_credit).toBe(0);
    });
  }

  it('£150,000: the 45% band starts at £125,140 of taxable income (allowance fully tapered)', () => {
    // 37,700 x 20% + (125,140 - 37,700) x 40% + (150,000 - 125,140) x 45% = 7,540 + 34,976 + 11,187
    // The usual wrong answers: 54,331.50 (45% from £112,570 of taxable income, i.e. from
    // £125,140 of income as if the allowance still applied) and 48,046.50 (allowance kept).
    expect(incomeTax(r, 150_000)).toBeCloseTo(53_703, 6);
    expect(incomeTax(r, 125_140 + 1_000) - incomeTax(r, 125_140)).toBeCloseTo(450, 6);
  });

  it('employer NICs: 15% above £5,000 a year', () => {
    expect(employerNics(r, 60_000)).toBeCloseTo(8_250, 9);
    expect(employerNics(r, 5_000)).toBe(0);
    expect(calculateHousehold(r, { salary: 30_000 }).employer_nics).toBe(3_750);
  });
});

describe('the personal allowance taper, £100,000 to £125,140', () => {
  it('loses £1 of allowance per £2 of income above £100,000, and is gone at £125,140', () => {
    expect(personalAllowance(r, 100_000)).toBe(12_570);
    expect(personalAllowance(r, 110_000)).toBe(7_570);
    expect(personalAllowance(r, 125_139)).toBe(0.5);
    expect(personalAllowance(r, 125_140)).toBe(0);
    expect(personalAllowance(r, 200_000)).toBe(0);
  });

  it('income tax at points in and around the taper, worked by hand', () => {
    // 110,000: allowance 7,570, taxable 102,430: 7,540 + (102,430 - 37,700) x 40% = 7,540 + 25,892
    expect(incomeTax(r, 110_000)).toBeCloseTo(33_432, 6);
    // 125,140: allowance 0, taxable 125,140: 7,540 + 87,440 x 40%
    expect(incomeTax(r, 125_140)).toBeCloseTo(42_516, 6);
  });

  it('marginal rates: 40% below the taper, 60% inside it, 45% above £125,140', () => {
    const marginal = (x: number) => incomeTax(r, x + 1) - incomeTax(r, x);
    expect(marginal(90_000)).toBeCloseTo(0.4, 9);
    expect(marginal(100_000)).toBeCloseTo(0.6, 9);
    expect(marginal(112_345)).toBeCloseTo(0.6, 9);
    expect(marginal(125_139)).toBeCloseTo(0.6, 9);
    expect(marginal(125_140)).toBeCloseTo(0.45, 9);
    expect(marginal(500_000)).toBeCloseTo(0.45, 9);
  });

  it('moving the taper threshold moves the 60% zone', () => {
    const moved = rules2025({ taperThreshold: 120_000 });
    expect(incomeTax(moved, 110_000)).toBeCloseTo(7_540 + (110_000 - 12_570 - 37_700) * 0.4, 6);
  });
});

describe('employee NICs', () => {
  it('8% from £12,570 to £50,270, 2% above', () => {
    expect(employeeNics(r, 12_570)).toBe(0);
    expect(employeeNics(r, 50_270)).toBeCloseTo(3_016, 9);
    expect(employeeNics(r, 60_270)).toBeCloseTo(3_216, 9);
  });

  it('are not paid over State Pension age, while employer NICs are', () => {
    const h = calculateHousehold(r, { salary: 30_000, age: 67 });
    expect(h.employee_nics).toBe(0);
    expect(h.employer_nics).toBe(3_750);
    // The State Pension (230.25 x 52 = 11,973) is taxable: allowance used up by it.
    expect(h.state_pension).toBe(11_973);
    expect(h.income_tax).toBe(Math.round((30_000 + 11_973 - 12_570) * 0.2 * 100) / 100);
  });
});

describe('Universal Credit, cases worked by hand (monthly amounts x 12)', () => {
  it('single, 30, no earnings, no housing costs: the standard allowance', () => {
    // 400.14 a month x 12 = 4,801.68
    expect(calculateHousehold(r, { salary: 0 }).universal_credit).toBe(4_801.68);
  });

  it('single, 30, earning £6,000: no work allowance without children, 55% taper', () => {
    // No tax or NICs (below £12,570). Net earnings 6,000 / 12 = 500 a month.
    // 400.14 - 0.55 x 500 = 400.14 - 275 = 125.14 a month; x 12 = 1,501.68
    expect(calculateHousehold(r, { salary: 6_000 }).universal_credit).toBe(1_501.68);
  });

  it('single, 30, earning £12,000: tapered away to nothing', () => {
    // 400.14 - 0.55 x 1,000 = -149.86: no award
    expect(calculateHousehold(r, { salary: 12_000 }).universal_credit).toBe(0);
  });

  it('lone parent, two children (first born before April 2017), rent £600, earning £18,000', () => {
    // Income tax (18,000 - 12,570) x 20% = 1,086; NICs 5,430 x 8% = 434.40
    // Net earnings (18,000 - 1,086 - 434.40) / 12 = 16,479.60 / 12 = 1,373.30 a month
    // Maximum: 400.14 + 339.00 (first child, pre-2017) + 292.81 + 600 (housing) = 1,631.95
    // Work allowance with housing: 411. Taper: 0.55 x (1,373.30 - 411) = 0.55 x 962.30 = 529.265
    // Award 1,631.95 - 529.265 = 1,102.685 a month; x 12 = 13,232.22
    const h = calculateHousehold(r, { salary: 18_000, children: 2, firstChildPre2017: true, rentMonthly: 600 });
    expect(h.universal_credit).toBe(13_232.22);
    expect(h.net_income).toBe(Math.round((18_000 - 1_086 - 434.4 + 13_232.22) * 100) / 100);
  });

  it('couple, both under 25, three children after April 2017, one earning £20,000: two-child limit', () => {
    // Maximum: 497.55 + 2 x 292.81 (third child not covered) = 1,083.17
    // Tax 7,430 x 20% = 1,486; NICs 7,430 x 8% = 594.40; net (20,000 - 2,080.40) / 12 = 1,493.30
    // Work allowance without housing: 684. Taper 0.55 x 809.30 = 445.115
    // Award 1,083.17 - 445.115 = 638.055 a month; x 12 = 7,656.66
    const h = calculateHousehold(r, { salary: 20_000, partnerSalary: 0, age: 24, children: 3 });
    expect(h.universal_credit).toBe(7_656.66);
  });

  it('disabled single, no earnings: standard allowance + LCWRA element', () => {
    // (400.14 + 423.27) x 12 = 823.41 x 12 = 9,880.92
    expect(calculateHousehold(r, { salary: 0, disabled: true }).universal_credit).toBe(9_880.92);
  });

  it('a first child born before April 2017 is covered even when the child limit is 0', () => {
    const noLimit = rules2025({ ucChildLimit: 0 });
    // single 25+, no earnings: 400.14 + 339.00 = 739.14
    expect(universalCreditMonthly(noLimit, false, false, 2, true, false, 0, 0, 0)).toBeCloseTo(739.14, 9);
    expect(universalCreditMonthly(noLimit, false, false, 2, false, false, 0, 0, 0)).toBeCloseTo(400.14, 9);
  });

  it('unearned income is deducted pound for pound', () => {
    expect(universalCreditMonthly(r, false, false, 0, false, false, 0, 0, 100)).toBeCloseTo(300.14, 9);
  });

  it('pensioners do not get Universal Credit but do get the State Pension', () => {
    const h = calculateHousehold(r, { salary: 0, age: 70, partnerSalary: 0 });
    expect(h.universal_credit).toBe(0);
    expect(h.state_pension).toBe(2 * 11_973);
    expect(h.income_tax).toBe(0);
  });
});

describe('properties', () => {
  it('income tax never falls as income rises, and no marginal rate exceeds 60%', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 1, max: 10_000 }), (x, d) => {
        const step = incomeTax(r, x + d) - incomeTax(r, x);
        return step >= 0 && step <= 0.6 * d + 1e-6;
      }),
    );
  });

  it('net income rises with salary for a single person without benefits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 13_000, max: 1_000_000 }), fc.integer({ min: 1, max: 5_000 }), (x, d) => {
        const a = calculateHousehold(r, { salary: x });
        const b = calculateHousehold(r, { salary: x + d });
        return b.net_income > a.net_income;
      }),
    );
  });

  it('Universal Credit never rises with earnings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 1, max: 2_000 }), (x, d) => {
        const a = calculateHousehold(r, { salary: x, children: 2, rentMonthly: 700 });
        const b = calculateHousehold(r, { salary: x + d, children: 2, rentMonthly: 700 });
        return b.universal_credit <= a.universal_credit;
      }),
    );
  });
});

describe('household input', () => {
  it('refuses a negative salary or a fractional child, naming the field', () => {
    expect(() => calculateHousehold(r, { salary: -1 })).toThrow(ReformError);
    expect(() => calculateHousehold(r, { salary: 1, children: 1.5 })).toThrow(/children/);
  });
});
