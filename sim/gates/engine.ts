/**
 * A small rule engine for policy gates written as data (data/gates.json), in the spirit
 * of the seed's Rego policies: `allow` is an expression; when it holds, the `warn` rules
 * whose `when` holds add messages; when it does not, the `deny` rules do. Gates are
 * compiled once into closures, so evaluating one is a handful of property reads and
 * comparisons (microseconds). A gate whose input is missing or of the wrong type fails
 * closed: allow = false, with a message saying why.
 */
import { SimDataError } from '../errors.ts';

export interface GateResult {
  name: string;
  allow: boolean;
  messages: string[];
}

type Compiled = (input: unknown) => unknown;

interface MessageRule {
  when: Compiled | undefined;
  each: readonly string[] | undefined;
  render: (input: unknown, item: unknown) => string;
}

export interface Gate {
  name: string;
  description: string;
  source: string;
  allow: Compiled;
  deny: readonly MessageRule[];
  warn: readonly MessageRule[];
}

class GateInputError extends Error {}

const COMPARISONS = ['<', '<=', '>', '>=', '==', '!='] as const;
const ARITHMETIC = ['+', '-', '*', '/'] as const;

export function compileGates(json: unknown, where: string): Gate[] {
  const root = asRecord(json, where);
  const gates = root['gates'];
  if (!Array.isArray(gates)) throw new SimDataError(`${where}: "gates" must be an array`);
  const names = new Set<string>();
  return gates.map((raw, i) => {
    const w = `${where} gates[${i}]`;
    const g = asRecord(raw, w);
    const name = asString(g['name'], `${w}.name`);
    if (names.has(name)) throw new SimDataError(`${w}.name: duplicate gate ${name}`);
    names.add(name);
    return {
      name,
      description: asString(g['description'], `${w}.description`),
      source: asString(g['source'], `${w}.source`),
      allow: compileExpr(g['allow'], `${w}.allow`),
      deny: compileRules(g['deny'], `${w}.deny`),
      warn: compileRules(g['warn'], `${w}.warn`),
    };
  });
}

export function evaluateGate(gate: Gate, input: unknown): GateResult {
  try {
    const allow = gate.allow(input) === true;
    const messages: string[] = [];
    for (const rule of allow ? gate.warn : gate.deny) {
      if (rule.when !== undefined && rule.when(input) !== true) continue;
      if (rule.each === undefined) {
        messages.push(rule.render(input, undefined));
        continue;
      }
      const items = lookup(input, rule.each);
      if (!Array.isArray(items)) throw new GateInputError(`${rule.each.join('.')} is not a list`);
      for (const item of items) messages.push(rule.render(input, item));
    }
    return { name: gate.name, allow, messages };
  } catch (err) {
    if (!(err instanceof GateInputError)) throw err;
    return { name: gate.name, allow: false, messages: [`gate could not be evaluated: ${err.message}`] };
  }
}

function compileRules(v: unknown, where: string): MessageRule[] {
  if (!Array.isArray(v)) throw new SimDataError(`${where}: must be an array of {message, when?, each?}`);
  return v.map((raw, i) => {
    const w = `${where}[${i}]`;
    const r = asRecord(raw, w);
    for (const k of Object.keys(r)) {
      if (k !== 'message' && k !== 'when' && k !== 'each') throw new SimDataError(`${w}: unknown field ${k}`);
    }
    return {
      when: r['when'] === undefined ? undefined : compileExpr(r['when'], `${w}.when`),
      each: r['each'] === undefined ? undefined : splitPath(asString(r['each'], `${w}.each`)),
      render: compileTemplate(asString(r['message'], `${w}.message`), `${w}.message`),
    };
  });
}

function compileExpr(v: unknown, where: string): Compiled {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) return () => v;
  const e = asRecord(v, where);
  const keys = Object.keys(e);
  if (keys.length !== 1) throw new SimDataError(`${where}: an expression has exactly one operator`);
  const op = keys[0]!;
  const arg = e[op];
  if (op === 'var') {
    const path = splitPath(asString(arg, `${where}.var`));
    return (input) => {
      const x = lookup(input, path);
      if (x === undefined) throw new GateInputError(`input has no ${path.join('.')}`);
      return x;
    };
  }
  if (op === 'not') {
    const x = compileExpr(arg, `${where}.not`);
    return (input) => !truth(x(input), where);
  }
  if (op === 'count') {
    const x = compileExpr(arg, `${where}.count`);
    return (input) => {
      const list = x(input);
      if (!Array.isArray(list)) throw new GateInputError(`count of a non-list at ${where}`);
      return list.length;
    };
  }
  if (!Array.isArray(arg)) throw new SimDataError(`${where}.${op}: operands must be an array`);
  const operands = arg.map((a, i) => compileExpr(a, `${where}.${op}[${i}]`));
  if (op === 'and') return (input) => operands.every((o) => truth(o(input), where));
  if (op === 'or') return (input) => operands.some((o) => truth(o(input), where));
  if (operands.length !== 2) throw new SimDataError(`${where}.${op}: takes two operands`);
  const [a, b] = operands as [Compiled, Compiled];
  if ((COMPARISONS as readonly string[]).includes(op)) {
    return (input) => compare(op as (typeof COMPARISONS)[number], a(input), b(input), where);
  }
  if ((ARITHMETIC as readonly string[]).includes(op)) {
    return (input) => {
      const x = number(a(input), where);
      const y = number(b(input), where);
      switch (op) {
        case '+':
          return x + y;
        case '-':
          return x - y;
        case '*':
          return x * y;
        default:
          if (y === 0) throw new GateInputError(`division by zero at ${where}`);
          return x / y;
      }
    };
  }
  throw new SimDataError(`${where}: unknown operator ${op}`);
}

function compare(op: (typeof COMPARISONS)[number], x: unknown, y: unknown, where: string): boolean {
  if (op === '==' || op === '!=') {
    const same = typeof x === typeof y && x === y;
    return op === '==' ? same : !same;
  }
  const a = number(x, where);
  const b = number(y, where);
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

function number(x: unknown, where: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new GateInputError(`expected a number at ${where}`);
  return x;
}

function truth(x: unknown, where: string): boolean {
  if (typeof x !== 'boolean') throw new GateInputError(`expected true or false at ${where}`);
  return x;
}

/** "{a.b.0}" placeholders from the input, "{item}" from the `each` list. */
function compileTemplate(text: string, where: string): (input: unknown, item: unknown) => string {
  const parts: Array<string | readonly string[]> = [];
  let rest = text;
  for (let m = /\{([A-Za-z0-9_.]+)\}/.exec(rest); m !== null; m = /\{([A-Za-z0-9_.]+)\}/.exec(rest)) {
    parts.push(rest.slice(0, m.index), splitPath(m[1]!));
    rest = rest.slice(m.index + m[0].length);
  }
  parts.push(rest);
  if (/[{}]/.test(parts.filter((p) => typeof p === 'string').join(''))) {
    throw new SimDataError(`${where}: unbalanced or malformed placeholder`);
  }
  return (input, item) =>
    parts
      .map((p) => {
        if (typeof p === 'string') return p;
        const v = p.length === 1 && p[0] === 'item' ? item : lookup(input, p);
        if (v === undefined || (typeof v === 'object' && v !== null)) {
          throw new GateInputError(`message needs ${p.join('.')}`);
        }
        return String(v);
      })
      .join('');
}

function splitPath(path: string): readonly string[] {
  return path.split('.');
}

function lookup(input: unknown, path: readonly string[]): unknown {
  let cur = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(key)) return undefined;
      cur = cur[Number(key)];
    } else {
      if (!Object.hasOwn(cur, key)) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    }
  }
  return cur;
}

function asRecord(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SimDataError(`${where}: expected an object`);
  return v as Record<string, unknown>;
}

function asString(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new SimDataError(`${where}: expected a string`);
  return v;
}
