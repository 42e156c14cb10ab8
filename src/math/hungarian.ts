/**
 * Minimum-cost assignment on a dense matrix by the Hungarian algorithm (the e-maxx formulation,
 * O(n²m)): each of n rows gets a distinct one of m >= n columns. Buffers are allocated once for
 * the largest side and reused, so a solve allocates nothing.
 */
export class DenseHungarian {
  /** After solve: p[j] = row (1-based) assigned to column j (1-based), 0 for none. */
  readonly p: Int32Array;
  private readonly u: Float64Array;
  private readonly v: Float64Array;
  private readonly way: Int32Array;
  private readonly minv: Float64Array;
  private readonly used: Uint8Array;

  constructor(readonly maxSide: number) {
    const d = maxSide + 1;
    this.p = new Int32Array(d);
    this.u = new Float64Array(d);
    this.v = new Float64Array(d);
    this.way = new Int32Array(d);
    this.minv = new Float64Array(d);
    this.used = new Uint8Array(d);
  }

  /**
   * Solves for `a`: costs at a[i * w + j] for rows i = 1..n and columns j = 1..m (1-based; row 0
   * and column 0 unused), n <= m <= maxSide, row stride w >= m + 1. The result is in `p`.
   */
  solve(a: Float64Array, n: number, m: number, w: number): Int32Array {
    if (n > m || m > this.maxSide)
      throw new RangeError(`DenseHungarian: need n (${n}) <= m (${m}) <= ${this.maxSide}`);
    const { u, v, p, way, minv, used } = this;
    u.fill(0, 0, n + 1);
    v.fill(0, 0, m + 1);
    p.fill(0, 0, m + 1);
    way.fill(0, 0, m + 1);
    for (let i = 1; i <= n; i++) {
      p[0] = i;
      let j0 = 0;
      minv.fill(Infinity, 0, m + 1);
      used.fill(0, 0, m + 1);
      do {
        used[j0] = 1;
        const i0 = p[j0]!;
        let delta = Infinity;
        let j1 = 0;
        for (let j = 1; j <= m; j++) {
          if (used[j]) continue;
          const cur = a[i0 * w + j]! - u[i0]! - v[j]!;
          if (cur < minv[j]!) {
            minv[j] = cur;
            way[j] = j0;
          }
          if (minv[j]! < delta) {
            delta = minv[j]!;
            j1 = j;
          }
        }
        for (let j = 0; j <= m; j++) {
          if (used[j]) {
            u[p[j]!]! += delta;
            v[j]! -= delta;
          } else {
            minv[j]! -= delta;
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
    return p;
  }
}
