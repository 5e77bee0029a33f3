/**
 * The Leontief inverse L = (I - A)^-1 by Gauss-Jordan elimination with partial pivoting:
 * only + - * / and comparisons, in a fixed order, so every machine gets the same bits.
 * Matrices are dense, row-major Float64Arrays of n*n.
 */

/** (I - A)^-1 for an n x n technical-coefficient matrix A. Throws if I - A is singular. */
export function leontiefInverse(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`leontiefInverse: expected ${n * n} coefficients, got ${a.length}`);
  const m = new Float64Array(n * n); // I - A, reduced in place to I
  const inv = new Float64Array(n * n); // I, becomes the inverse
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * n + j] = (i === j ? 1 : 0) - a[i * n + j]!;
    inv[i * n + i] = 1;
  }
  for (let col = 0; col < n; col++) {
    // Partial pivoting: the largest magnitude in this column at or below the diagonal.
    let pivot = col;
    let best = Math.abs(m[col * n + col]!);
    for (let r = col + 1; r < n; r++) {
      const v = Math.abs(m[r * n + col]!);
      if (v > best) {
        best = v;
        pivot = r;
      }
    }
    if (best < 1e-12) throw new RangeError('leontiefInverse: I - A is singular');
    if (pivot !== col) {
      swapRows(m, n, pivot, col);
      swapRows(inv, n, pivot, col);
    }
    const p = m[col * n + col]!;
    for (let j = 0; j < n; j++) {
      m[col * n + j]! /= p;
      inv[col * n + j]! /= p;
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * n + col]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        m[r * n + j]! -= f * m[col * n + j]!;
        inv[r * n + j]! -= f * inv[col * n + j]!;
      }
    }
  }
  return inv;
}

function swapRows(x: Float64Array, n: number, r1: number, r2: number): void {
  for (let j = 0; j < n; j++) {
    const t = x[r1 * n + j]!;
    x[r1 * n + j] = x[r2 * n + j]!;
    x[r2 * n + j] = t;
  }
}

/** Type I output multipliers: column sums of L (total output per £1 of final demand for each industry). */
export function outputMultipliers(l: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j]! += l[i * n + j]!;
  return out;
}

/** y = M x for a dense n x n matrix M, into `out`. */
export function multiply(
  mat: Float64Array,
  n: number,
  x: Float64Array,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += mat[i * n + j]! * x[j]!;
    out[i] = s;
  }
  return out;
}
