import { describe, expect, it } from 'vitest';
import { readDataFile } from '../data/read.ts';
import { SimDataError } from '../errors.ts';
import { compileGates, evaluateGate, type Gate } from '../gates/engine.ts';

function gate(spec: Record<string, unknown>): Gate {
  return compileGates(
    { gates: [{ name: 'g', description: 'd', source: 's', deny: [], warn: [], ...spec }] },
    'test',
  )[0]!;
}

describe('gate rule engine', () => {
  it('allow with warnings, or deny with messages, filled from the input', () => {
    const g = gate({
      allow: { '<=': [{ var: 'x.total' }, { var: 'x.limit' }] },
      deny: [{ message: 'over by {x.over}' }],
      warn: [{ when: { '<': [{ '-': [{ var: 'x.limit' }, { var: 'x.total' }] }, 10] }, message: 'tight: {x.total}' }],
    });
    expect(evaluateGate(g, { x: { total: 5, limit: 100, over: 0 } })).toEqual({ name: 'g', allow: true, messages: [] });
    expect(evaluateGate(g, { x: { total: 95, limit: 100, over: 0 } })).toEqual({
      name: 'g',
      allow: true,
      messages: ['tight: 95'],
    });
    expect(evaluateGate(g, { x: { total: 120, limit: 100, over: 20 } })).toEqual({
      name: 'g',
      allow: false,
      messages: ['over by 20'],
    });
  });

  it('reads array items by index and expands `each` lists', () => {
    const g = gate({
      allow: { and: [{ '>': [{ var: 'r.1' }, { var: 'r.0' }] }, { not: { '==': [{ var: 's' }, 'BAD'] } }] },
      warn: [{ each: 'w', message: 'note: {item}' }],
    });
    expect(evaluateGate(g, { r: [1, 2], s: 'OK', w: ['a', 'b'] }).messages).toEqual(['note: a', 'note: b']);
    expect(evaluateGate(g, { r: [2, 1], s: 'OK', w: [] }).allow).toBe(false);
    expect(evaluateGate(g, { r: [1, 2], s: 'BAD', w: [] }).allow).toBe(false);
  });

  it('fails closed when the input lacks a value or has the wrong type', () => {
    const g = gate({ allow: { '<': [{ var: 'a' }, 1] } });
    expect(evaluateGate(g, {})).toEqual({
      name: 'g',
      allow: false,
      messages: ['gate could not be evaluated: input has no a'],
    });
    expect(evaluateGate(g, { a: 'zero' }).allow).toBe(false);
  });

  it('refuses malformed gate data at compile time', () => {
    expect(() => gate({ allow: { '~': [1, 2] } })).toThrow(SimDataError);
    expect(() => gate({ allow: { '<': [1] } })).toThrow(/two operands/);
    expect(() => gate({ allow: true, deny: [{ message: 'x', oops: 1 }] })).toThrow(/unknown field oops/);
    expect(() => gate({ allow: true, deny: [{ message: 'unclosed {x' }] })).toThrow(/placeholder/);
  });

  it('the shipped gates compile: the fiscal rule, the carbon budget and the EqIA flag', () => {
    const gates = compileGates(readDataFile('gates.json'), 'gates.json');
    expect(gates.map((g) => g.name)).toEqual(['fiscal.debt_rule', 'climate.carbon_budget', 'equality.eqia']);
    const fiscal = gates[0]!;
    const falling = { fiscal: { debt_ratio_pct: [83, 84, 84.2, 84.1, 84.0, 83.8] } };
    const rising = { fiscal: { debt_ratio_pct: [83, 84, 84.2, 84.1, 84.0, 84.3] } };
    expect(evaluateGate(fiscal, falling).allow).toBe(true);
    expect(evaluateGate(fiscal, rising)).toEqual({
      name: 'fiscal.debt_rule',
      allow: false,
      messages: [
        'Fiscal rule breach: debt not falling as a share of GDP in year 5 (84.3% of GDP in 2030-31 against 84% in 2029-30)',
      ],
    });
  });
});
