/**
 * Small shape checks for the shipped data files: each failure names the file and the
 * field, so a bad edit to a data file is found at load time, not as a NaN in a result.
 */
import { SimDataError } from '../errors.ts';

export type Json = Record<string, unknown>;

export function record(v: unknown, where: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SimDataError(`${where}: expected an object`);
  return v as Json;
}

export function num(v: unknown, where: string, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new SimDataError(`${where}: expected a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new SimDataError(`${where}: expected a non-empty string`);
  return v;
}

export function arr(v: unknown, where: string, length?: number): unknown[] {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) {
    throw new SimDataError(`${where}: expected an array${length === undefined ? '' : ` of ${length}`}`);
  }
  return v;
}

export function numbers(v: unknown, where: string, length?: number, min = -Infinity, max = Infinity): number[] {
  return arr(v, where, length).map((x, i) => num(x, `${where}[${i}]`, min, max));
}

/** A share table {key: share} whose shares are >= 0 and sum to 1 (within 1e-9). */
export function shares(v: unknown, where: string): Array<[string, number]> {
  const entries = Object.entries(record(v, where)).map(([k, x]): [string, number] => [
    k,
    num(x, `${where}.${k}`, 0, 1),
  ]);
  let total = 0;
  for (const [, x] of entries) total += x;
  if (Math.abs(total - 1) > 1e-9) throw new SimDataError(`${where}: shares sum to ${total}, not 1`);
  return entries;
}

/** A quantile table [[p, value], ...] with p rising from 0 to 1 and values not falling. */
export function quantiles(v: unknown, where: string): Float64Array {
  const rows = arr(v, where);
  if (rows.length < 2) throw new SimDataError(`${where}: expected at least two [p, value] rows`);
  const out = new Float64Array(rows.length * 2);
  rows.forEach((row, i) => {
    const [p, x] = numbers(row, `${where}[${i}]`, 2, 0);
    const prevP = i === 0 ? -1 : out[(i - 1) * 2]!;
    const prevX = i === 0 ? 0 : out[(i - 1) * 2 + 1]!;
    if (p! > 1 || p! <= prevP || x! < prevX)
      throw new SimDataError(`${where}[${i}]: p must rise to 1 and values not fall`);
    out[i * 2] = p!;
    out[i * 2 + 1] = x!;
  });
  if (out[0] !== 0 || out[(rows.length - 1) * 2] !== 1)
    throw new SimDataError(`${where}: p must start at 0 and end at 1`);
  return out;
}
