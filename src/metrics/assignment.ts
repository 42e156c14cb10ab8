/**
 * Maximum-weight assignment between the rows and columns of a dense rectangular matrix (the
 * Hungarian algorithm on costs max − weight, padded square); pairs of weight <= 0 are never
 * assigned. Scoring runs it once per frame on a handful of objects, so clarity wins over
 * preallocation here.
 */
import { DenseHungarian } from '../math/hungarian.js';

export function maxWeightAssignment(weights: readonly (readonly number[])[], cols: number): Int32Array {
  const rows = weights.length;
  const n = Math.max(rows, cols);
  const rowToCol = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return rowToCol;
  let max = 0;
  for (const r of weights) for (let j = 0; j < cols; j++) if (r[j]! > max) max = r[j]!;
  const w = n + 1;
  const a = new Float64Array(w * w);
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= n; j++) {
      const x = i <= rows && j <= cols ? weights[i - 1]![j - 1]! : 0;
      a[i * w + j] = max - (x > 0 ? x : 0);
    }
  }
  const p = new DenseHungarian(n).solve(a, n, n, w);
  for (let j = 1; j <= n; j++) {
    const i = p[j]! - 1;
    if (i >= 0 && i < rows && j - 1 < cols && weights[i]![j - 1]! > 0) rowToCol[i] = j - 1;
  }
  return rowToCol;
}
