/**
 * Maximum-weight assignment between the rows and columns of a dense rectangular matrix
 * (Hungarian algorithm, O(n³)); pairs of weight <= 0 are never assigned. Scoring code runs it
 * once per frame on a handful of objects, so clarity wins over preallocation here.
 */
export function maxWeightAssignment(weights: readonly (readonly number[])[], cols: number): Int32Array {
  const rows = weights.length;
  const n = Math.max(rows, cols);
  const rowToCol = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return rowToCol;
  // Minimise cost = max − weight over a square matrix padded with zero-weight entries.
  let max = 0;
  for (const r of weights) for (let j = 0; j < cols; j++) if (r[j]! > max) max = r[j]!;
  const cost = (i: number, j: number): number => {
    const w = i < rows && j < cols ? weights[i]![j]! : 0;
    return max - (w > 0 ? w : 0);
  };
  // e-maxx formulation, 1-based.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  for (let j = 1; j <= n; j++) {
    const i = p[j]! - 1;
    if (i >= 0 && i < rows && j - 1 < cols && weights[i]![j - 1]! > 0) rowToCol[i] = j - 1;
  }
  return rowToCol;
}
