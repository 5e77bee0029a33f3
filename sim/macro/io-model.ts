/**
 * The input-output model: the coefficient table from data/io-table-105.json as a dense
 * matrix, its Leontief inverse (computed once, when the model is built, and kept), and
 * per-industry jobs, GVA and regional shares.
 */
import { num, record, str } from '../data/check.ts';
import { readDataFile } from '../data/read.ts';
import { SimDataError } from '../errors.ts';
import { REGION_CODES, REGION_COUNT } from '../regions.ts';
import { leontiefInverse, outputMultipliers } from './leontief.ts';

export interface IoModel {
  version: string;
  synthetic: boolean;
  n: number;
  codes: readonly string[];
  names: readonly string[];
  groups: readonly string[];
  index: ReadonlyMap<string, number>;
  /** Technical coefficients, row-major: a[i * n + j] = input from i per £ of j's output. */
  a: Float64Array;
  /** (I - A)^-1, row-major. */
  leontief: Float64Array;
  /** Type I output multipliers (column sums of the inverse). */
  multipliers: Float64Array;
  gvaShare: Float64Array;
  jobsPerGbp: Float64Array;
  /** Share of each industry's output made in each region: regionShare[j * 12 + r], rows sum to 1. */
  regionShare: Float64Array;
}

/**
 * Builds the model. `regionHouseholds` (ITL1 order) spreads each industry over the regions:
 * households x the group's regional tilt, normalised.
 */
export function loadIoModel(regionHouseholds: readonly number[]): IoModel {
  const f = 'io-table-105.json';
  const root = record(readDataFile(f), f);
  const regions = root['regions'];
  if (!Array.isArray(regions) || regions.join() !== REGION_CODES.join()) {
    throw new SimDataError(`${f} regions: must be the 12 ITL1 codes in ONS order`);
  }
  const groupsRaw = record(root['groups'], `${f} groups`);
  const industries = root['industries'];
  if (!Array.isArray(industries)) throw new SimDataError(`${f} industries: expected an array`);
  const n = industries.length;
  const codes: string[] = [];
  const names: string[] = [];
  const groups: string[] = [];
  const gvaShare = new Float64Array(n);
  const jobsPerGbp = new Float64Array(n);
  const regionShare = new Float64Array(n * REGION_COUNT);
  industries.forEach((raw, j) => {
    const w = `${f} industries[${j}]`;
    const ind = record(raw, w);
    codes.push(str(ind['code'], `${w}.code`));
    names.push(str(ind['name'], `${w}.name`));
    const group = str(ind['group'], `${w}.group`);
    groups.push(group);
    gvaShare[j] = num(ind['gva_share'], `${w}.gva_share`, 0, 1);
    const g = record(groupsRaw[group], `${f} groups.${group}`);
    jobsPerGbp[j] = num(g['jobs_per_gbp_m'], `${f} groups.${group}.jobs_per_gbp_m`, 0, 1000) / 1e6;
    const tilt = g['regional_tilt'];
    if (!Array.isArray(tilt) || tilt.length !== REGION_COUNT) {
      throw new SimDataError(`${f} groups.${group}.regional_tilt: expected 12 numbers`);
    }
    let total = 0;
    for (let r = 0; r < REGION_COUNT; r++) {
      const x = regionHouseholds[r]! * num(tilt[r], `${f} groups.${group}.regional_tilt[${r}]`, 0, 100);
      regionShare[j * REGION_COUNT + r] = x;
      total += x;
    }
    for (let r = 0; r < REGION_COUNT; r++) regionShare[j * REGION_COUNT + r]! /= total;
  });
  const index = new Map(codes.map((c, i) => [c, i]));
  if (index.size !== n) throw new SimDataError(`${f} industries: duplicate code`);
  const a = new Float64Array(n * n);
  const coefficients = record(root['coefficients'], `${f} coefficients`);
  for (const [buyer, column] of Object.entries(coefficients)) {
    const j = index.get(buyer);
    if (j === undefined) throw new SimDataError(`${f} coefficients: unknown buyer ${buyer}`);
    let sum = 0;
    for (const [supplier, value] of Object.entries(record(column, `${f} coefficients.${buyer}`))) {
      const i = index.get(supplier);
      if (i === undefined) throw new SimDataError(`${f} coefficients.${buyer}: unknown supplier ${supplier}`);
      a[i * n + j] = num(value, `${f} coefficients.${buyer}.${supplier}`, 0, 1);
      sum += a[i * n + j]!;
    }
    if (sum >= 1) throw new SimDataError(`${f} coefficients.${buyer}: inputs must cost less than output`);
  }
  const leontief = leontiefInverse(a, n);
  return {
    version: str(root['version'], `${f} version`),
    synthetic: root['synthetic'] === true,
    n,
    codes,
    names,
    groups,
    index,
    a,
    leontief,
    multipliers: outputMultipliers(leontief, n),
    gvaShare,
    jobsPerGbp,
    regionShare,
  };
}
