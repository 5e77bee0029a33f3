/**
 * The parameter set: UK 2025-26 rules from data/uk-2025-26.parameters.json, plus one
 * `spending.<department>.rdel_pct` path per department in data/departments.json. Values
 * are addressed by dotted path; a reform overrides some of them (params/reform.ts).
 */
import { num, record, str } from '../data/check.ts';
import { readDataFile } from '../data/read.ts';
import { ReformError, SimDataError } from '../errors.ts';
import type { DepartmentData } from '../macro/departments.ts';

/** gbp: an amount of money; rate: a fraction 0-1; count: a whole number; percent: a % change. */
export const PARAMETER_KINDS = ['gbp', 'rate', 'count', 'percent'] as const;
export type ParameterKind = (typeof PARAMETER_KINDS)[number];

export interface ParameterSpec {
  path: string;
  value: number;
  kind: ParameterKind;
  min: number;
  max: number;
  unit: string;
  description: string;
  source: string;
}

export interface Source {
  title: string;
  url: string;
  date: string;
}

export interface ParameterSet {
  version: string;
  /** The first calendar year of the tax year (2025 for 2025-26). */
  year: number;
  specs: ReadonlyMap<string, ParameterSpec>;
  sources: Readonly<Record<string, Source>>;
}

/** Every parameter's value by path: the baseline, or the baseline with a reform's overrides. */
export type ParameterValues = Readonly<Record<string, number>>;

/** Bounds on a departmental spending change, in per cent of its 2025-26 RDEL. */
export const RDEL_PCT_RANGE = [-50, 100] as const;

export function loadParameterSet(departments: DepartmentData): ParameterSet {
  const file = 'uk-2025-26.parameters.json';
  const root = record(readDataFile(file), file);
  const sources: Record<string, Source> = {};
  for (const [key, raw] of Object.entries(record(root['sources'], `${file} sources`))) {
    const s = record(raw, `${file} sources.${key}`);
    sources[key] = {
      title: str(s['title'], `${file} sources.${key}.title`),
      url: str(s['url'], `${file} sources.${key}.url`),
      date: str(s['date'], `${file} sources.${key}.date`),
    };
  }
  const specs = new Map<string, ParameterSpec>();
  for (const [path, raw] of Object.entries(record(root['parameters'], `${file} parameters`))) {
    const where = `${file} parameters.${path}`;
    const p = record(raw, where);
    const kind = p['kind'] as ParameterKind;
    if (!PARAMETER_KINDS.includes(kind)) throw new SimDataError(`${where}.kind: one of ${PARAMETER_KINDS.join(', ')}`);
    const min = num(p['min'], `${where}.min`);
    const max = num(p['max'], `${where}.max`, min);
    const source = str(p['source'], `${where}.source`);
    if (!(source in sources)) throw new SimDataError(`${where}.source: no source named ${source}`);
    const spec: ParameterSpec = {
      path,
      value: num(p['value'], `${where}.value`, min, max),
      kind,
      min,
      max,
      unit: str(p['unit'], `${where}.unit`),
      description: str(p['description'], `${where}.description`),
      source,
    };
    if (kind === 'count' && !Number.isInteger(spec.value)) throw new SimDataError(`${where}.value: not a whole number`);
    specs.set(path, spec);
  }
  // The spending paths take their meaning (and baseline RDEL) from data/departments.json.
  sources['departments'] = {
    title: 'Spending Review 2025 (HC 1110), departmental resource DEL (see sim/data/departments.json)',
    url: 'https://www.gov.uk/government/publications/spending-review-2025-document',
    date: '2025-06-11',
  };
  for (const d of departments.departments) {
    const path = `spending.${d.key}.rdel_pct`;
    specs.set(path, {
      path,
      value: 0,
      kind: 'percent',
      min: RDEL_PCT_RANGE[0],
      max: RDEL_PCT_RANGE[1],
      unit: '% of 2025-26 RDEL',
      description: `Change in ${d.name} resource spending`,
      source: 'departments',
    });
  }
  return {
    version: str(root['version'], `${file} version`),
    year: num(root['year'], `${file} year`, 2000, 2100),
    specs,
    sources,
  };
}

export function baselineValues(set: ParameterSet): ParameterValues {
  const out: Record<string, number> = {};
  for (const [path, spec] of set.specs) out[path] = spec.value;
  return Object.freeze(out);
}

/**
 * The baseline with `overrides` applied. Every override is checked against its spec
 * (known path, number, whole number for counts, within [min, max]), then the combination
 * is checked for consistency; the first problem throws a ReformError naming the path.
 */
export function applyOverrides(set: ParameterSet, overrides: Readonly<Record<string, unknown>>): ParameterValues {
  const out: Record<string, number> = { ...baselineValues(set) };
  for (const [path, value] of Object.entries(overrides)) {
    out[path] = checkValue(set, path, value);
  }
  checkConsistency(out);
  return Object.freeze(out);
}

export function checkValue(set: ParameterSet, path: string, value: unknown): number {
  const spec = set.specs.get(path);
  if (spec === undefined) {
    const hint = closestPath(set, path);
    throw new ReformError(path, `unknown parameter path "${path}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }
  const what = describeKind(spec);
  if (typeof value !== 'number') {
    throw new ReformError(path, `parameter "${path}" must be a number (${what}), got ${typeName(value)}`);
  }
  if (!Number.isFinite(value)) throw new ReformError(path, `parameter "${path}" must be finite`);
  if (spec.kind === 'count' && !Number.isInteger(value)) {
    throw new ReformError(path, `parameter "${path}" must be a whole number (${what}), got ${value}`);
  }
  if (value < spec.min || value > spec.max) {
    throw new ReformError(path, `parameter "${path}" is out of range: ${value} is not ${what}`);
  }
  return value;
}

function checkConsistency(v: Record<string, number>): void {
  const pairs: Array<[low: string, high: string]> = [
    ['nics.employee.primary_threshold', 'nics.employee.upper_earnings_limit'],
    ['income_tax.basic_rate_limit', 'income_tax.additional_rate_threshold'],
  ];
  for (const [low, high] of pairs) {
    if (v[low]! > v[high]!) {
      throw new ReformError(high, `parameter "${high}" (${v[high]}) must not be below "${low}" (${v[low]})`);
    }
  }
}

function describeKind(spec: ParameterSpec): string {
  switch (spec.kind) {
    case 'rate':
      return `a rate from ${spec.min} to ${spec.max}`;
    case 'count':
      return `a whole number from ${spec.min} to ${spec.max}`;
    case 'percent':
      return `a percentage from ${spec.min} to ${spec.max}`;
    default:
      return `an amount from ${spec.min} to ${spec.max} (${spec.unit})`;
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `a ${typeof v}`;
}

/** The known path nearest by edit distance, if it is close enough to be a likely typo. */
function closestPath(set: ParameterSet, path: string): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(3, Math.floor(path.length / 4)) + 1;
  for (const known of set.specs.keys()) {
    const d = editDistance(path, known, bestD);
    if (d < bestD) {
      bestD = d;
      best = known;
    }
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
