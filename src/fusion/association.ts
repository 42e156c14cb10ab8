import { DenseHungarian } from '../math/hungarian.js';

/**
 * Global-nearest-neighbour assignment over gated (row, column, cost) pairs.
 *
 * Rows are tracks, columns are measurements; only pairs inside the gate are added. The
 * bipartite gating graph is split into connected components (union-find), and each component
 * is solved optimally with the Hungarian algorithm (cardinality first, then total cost), or
 * greedily by ascending cost when it is larger than `maxDense` per side. Components are tiny in
 * traffic (one object, one or two measurements), so the whole solve is near linear in pairs.
 * All buffers are preallocated and grow only when a larger problem arrives.
 */
export class GatedAssignment {
  /** Assigned column per row, or -1. */
  rowToCol = new Int32Array(0);
  /** Assigned row per column, or -1. */
  colToRow = new Int32Array(0);

  private rows = 0;
  private cols = 0;
  private pairCount = 0;
  private pairRow: Int32Array;
  private pairCol: Int32Array;
  private pairCost: Float64Array;

  // Union-find over rows (0..rows) and columns (rows..rows+cols); sized by growNodes.
  private parent = new Int32Array(0);
  private compOf = new Int32Array(0);
  private localIdx = new Int32Array(0);
  private compRowStart = new Int32Array(0);
  private compColStart = new Int32Array(0);
  private compPairStart = new Int32Array(0);
  private compRows = new Int32Array(0);
  private compCols = new Int32Array(0);
  private compPairs: Int32Array;
  private cursor = new Int32Array(0);

  // Dense cost matrix (1-based) of a component, and its solver.
  private readonly dense: Float64Array;
  private readonly hungarian: DenseHungarian;

  constructor(
    maxRows = 64,
    maxCols = 64,
    private readonly maxDense = 48,
  ) {
    this.growNodes(maxRows, maxCols);
    const pairs = 256;
    this.pairRow = new Int32Array(pairs);
    this.pairCol = new Int32Array(pairs);
    this.pairCost = new Float64Array(pairs);
    this.compPairs = new Int32Array(pairs);
    const d = maxDense + 1;
    this.dense = new Float64Array(d * d);
    this.hungarian = new DenseHungarian(maxDense);
  }

  get pairs(): number {
    return this.pairCount;
  }

  /** Starts a problem with `rows` tracks and `cols` measurements and no pairs. */
  begin(rows: number, cols: number): void {
    if (rows > this.rowToCol.length || cols > this.colToRow.length) this.growNodes(rows, cols);
    this.rows = rows;
    this.cols = cols;
    this.pairCount = 0;
    this.rowToCol.fill(-1, 0, rows);
    this.colToRow.fill(-1, 0, cols);
  }

  /** Adds a gated pair; lower cost is better. */
  add(row: number, col: number, cost: number): void {
    if (this.pairCount === this.pairRow.length) this.growPairs();
    const k = this.pairCount++;
    this.pairRow[k] = row;
    this.pairCol[k] = col;
    this.pairCost[k] = cost;
  }

  /** Solves the assignment into rowToCol / colToRow. */
  solve(): void {
    const rows = this.rows;
    const nodes = rows + this.cols;
    const parent = this.parent;
    for (let i = 0; i < nodes; i++) parent[i] = i;
    for (let k = 0; k < this.pairCount; k++) this.union(this.pairRow[k]!, rows + this.pairCol[k]!);

    // Number components in order of their smallest node; bucket rows, cols and pairs.
    const compOf = this.compOf;
    let comps = 0;
    for (let i = 0; i < nodes; i++) {
      const r = this.find(i);
      if (r === i) compOf[i] = comps++;
    }
    for (let i = 0; i < nodes; i++) compOf[i] = compOf[this.find(i)]!;
    const rowStart = this.compRowStart;
    const colStart = this.compColStart;
    const pairStart = this.compPairStart;
    rowStart.fill(0, 0, comps + 1);
    colStart.fill(0, 0, comps + 1);
    pairStart.fill(0, 0, comps + 1);
    for (let i = 0; i < rows; i++) rowStart[compOf[i]! + 1]!++;
    for (let j = 0; j < this.cols; j++) colStart[compOf[rows + j]! + 1]!++;
    for (let k = 0; k < this.pairCount; k++) pairStart[compOf[this.pairRow[k]!]! + 1]!++;
    for (let c = 0; c < comps; c++) {
      rowStart[c + 1]! += rowStart[c]!;
      colStart[c + 1]! += colStart[c]!;
      pairStart[c + 1]! += pairStart[c]!;
    }
    const cursor = this.cursor;
    for (let c = 0; c < comps; c++) cursor[c] = rowStart[c]!;
    for (let i = 0; i < rows; i++) {
      const c = compOf[i]!;
      this.localIdx[i] = cursor[c]! - rowStart[c]!;
      this.compRows[cursor[c]!++] = i;
    }
    for (let c = 0; c < comps; c++) cursor[c] = colStart[c]!;
    for (let j = 0; j < this.cols; j++) {
      const c = compOf[rows + j]!;
      this.localIdx[rows + j] = cursor[c]! - colStart[c]!;
      this.compCols[cursor[c]!++] = j;
    }
    for (let c = 0; c < comps; c++) cursor[c] = pairStart[c]!;
    for (let k = 0; k < this.pairCount; k++) {
      const c = compOf[this.pairRow[k]!]!;
      this.compPairs[cursor[c]!++] = k;
    }

    for (let c = 0; c < comps; c++) {
      const p0 = pairStart[c]!;
      const p1 = pairStart[c + 1]!;
      if (p1 === p0) continue;
      const nr = rowStart[c + 1]! - rowStart[c]!;
      const nc = colStart[c + 1]! - colStart[c]!;
      if (p1 - p0 === 1) {
        const k = this.compPairs[p0]!;
        this.assign(this.pairRow[k]!, this.pairCol[k]!);
      } else if (nr <= this.maxDense && nc <= this.maxDense) {
        this.solveDense(c, nr, nc, p0, p1);
      } else {
        this.solveGreedy(p0, p1);
      }
    }
  }

  private assign(row: number, col: number): void {
    this.rowToCol[row] = col;
    this.colToRow[col] = row;
  }

  private find(i: number): number {
    const parent = this.parent;
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  }

  private union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // Smaller root wins, so component numbering does not depend on pair order.
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }

  /** Hungarian algorithm on the component's dense matrix; non-gated cells cost BIG. */
  private solveDense(comp: number, nr: number, nc: number, p0: number, p1: number): void {
    const BIG = 1e6;
    // The algorithm needs rows <= cols; transpose otherwise.
    const transpose = nr > nc;
    const n = transpose ? nc : nr;
    const m = transpose ? nr : nc;
    const w = m + 1;
    const a = this.dense;
    a.fill(BIG, 0, (n + 1) * w);
    const rows = this.rows;
    for (let q = p0; q < p1; q++) {
      const k = this.compPairs[q]!;
      const lr = this.localIdx[this.pairRow[k]!]! + 1;
      const lc = this.localIdx[rows + this.pairCol[k]!]! + 1;
      if (transpose) a[lc * w + lr] = this.pairCost[k]!;
      else a[lr * w + lc] = this.pairCost[k]!;
    }
    const p = this.hungarian.solve(a, n, m, w);
    const r0 = this.compRowStart[comp]!;
    const c0 = this.compColStart[comp]!;
    for (let j = 1; j <= m; j++) {
      const i = p[j]!;
      if (i === 0 || a[i * w + j]! >= BIG) continue;
      const lr = transpose ? j - 1 : i - 1;
      const lc = transpose ? i - 1 : j - 1;
      this.assign(this.compRows[r0 + lr]!, this.compCols[c0 + lc]!);
    }
  }

  /** Greedy by ascending cost (ties by pair index) for oversized components. */
  private solveGreedy(p0: number, p1: number): void {
    const idx = this.compPairs;
    heapSortBy(idx, p0, p1, this.pairCost);
    for (let q = p0; q < p1; q++) {
      const k = idx[q]!;
      const r = this.pairRow[k]!;
      const c = this.pairCol[k]!;
      if (this.rowToCol[r] === -1 && this.colToRow[c] === -1) this.assign(r, c);
    }
  }

  private growPairs(): void {
    const n = this.pairRow.length * 2;
    const grow = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as { new (n: number): T })(n);
      b.set(a);
      return b;
    };
    this.pairRow = grow(this.pairRow);
    this.pairCol = grow(this.pairCol);
    this.pairCost = grow(this.pairCost);
    this.compPairs = new Int32Array(n);
  }

  /** Sizes the row, column and node buffers for at least `rows` x `cols`; contents are not kept. */
  private growNodes(rows: number, cols: number): void {
    const r = Math.max(rows, this.rowToCol.length);
    const c = Math.max(cols, this.colToRow.length);
    this.rowToCol = new Int32Array(r);
    this.colToRow = new Int32Array(c);
    const nodes = r + c;
    this.parent = new Int32Array(nodes);
    this.compOf = new Int32Array(nodes);
    this.localIdx = new Int32Array(nodes);
    this.compRowStart = new Int32Array(nodes + 1);
    this.compColStart = new Int32Array(nodes + 1);
    this.compPairStart = new Int32Array(nodes + 1);
    this.compRows = new Int32Array(r);
    this.compCols = new Int32Array(c);
    this.cursor = new Int32Array(nodes + 1);
  }
}

/** In-place heap sort of idx[lo..hi) by key[idx], ties broken by idx (a total order). */
function heapSortBy(idx: Int32Array, lo: number, hi: number, key: Float64Array): void {
  const n = hi - lo;
  for (let s = (n >> 1) - 1; s >= 0; s--) siftDown(idx, lo, s, n, key);
  for (let end = n - 1; end > 0; end--) {
    const t = idx[lo]!;
    idx[lo] = idx[lo + end]!;
    idx[lo + end] = t;
    siftDown(idx, lo, 0, end, key);
  }
}

function siftDown(idx: Int32Array, lo: number, start: number, end: number, key: Float64Array): void {
  let root = start;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= end) return;
    if (child + 1 < end && pairLess(idx[lo + child]!, idx[lo + child + 1]!, key)) child++;
    if (!pairLess(idx[lo + root]!, idx[lo + child]!, key)) return;
    const t = idx[lo + root]!;
    idx[lo + root] = idx[lo + child]!;
    idx[lo + child] = t;
    root = child;
  }
}

function pairLess(a: number, b: number, key: Float64Array): boolean {
  const ka = key[a]!;
  const kb = key[b]!;
  return ka < kb || (ka === kb && a < b);
}
