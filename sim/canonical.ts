/**
 * The canonical encoding of a simulation result: the bytes peers hash and attest.
 *
 * - JSON with object keys sorted by UTF-16 code units (Array.prototype.sort's default), no
 *   whitespace, arrays in their given order.
 * - Numbers are written by ECMAScript's Number::toString (what JSON.stringify uses), which
 *   the language specifies exactly: the shortest decimal that reads back to the same double.
 *   Every number in a result has already been rounded at a documented point (sim/README.md,
 *   "Rounding points"), so the text is short and identical on any conforming engine.
 * - Non-finite numbers, undefined, functions, and objects that are not plain records are
 *   refused rather than silently dropped; -0 is written as 0.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(v: unknown, where: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonical JSON: ${where} is not a finite number (${v})`);
      return Object.is(v, -0) ? '0' : JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x, i) => encode(x, `${where}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonical JSON: ${where} is not a plain object`);
      }
      const rec = v as Record<string, unknown>;
      const keys = Object.keys(rec).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(rec[k], `${where}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON: ${where} has unsupported type ${typeof v}`);
  }
}

/** The same value with object keys sorted, for printing (JSON.stringify keeps insertion order). */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out as T;
  }
  return value;
}

/** SHA-256 (hex) of the canonical encoding, prefixed by a domain tag so it cannot collide with other hashes. */
export function canonicalDigest(value: unknown, domain: string): string {
  return createHash('sha256').update(`${domain}\0`, 'utf8').update(canonicalJson(value), 'utf8').digest('hex');
}

/**
 * Rounds to `decimals` places (0 to 6), half away from zero. Math.round and a multiply or
 * divide by a power of ten are exact operations on doubles, so every machine agrees.
 */
export function roundTo(x: number, decimals: number): number {
  const scale = POW10[decimals];
  if (scale === undefined) throw new RangeError(`roundTo: decimals must be 0..6, got ${decimals}`);
  const r = x < 0 ? -Math.round(-x * scale) / scale : Math.round(x * scale) / scale;
  return r === 0 ? 0 : r;
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];
