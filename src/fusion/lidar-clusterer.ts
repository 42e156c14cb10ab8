import { LIDAR } from '../wire/layouts.js';
import type { Mount } from '../wire/mount.js';

/**
 * Record layout of one cluster in the clusterer's output (Float32Array, base_link frame).
 * x, y: centre of the oriented box around the points; yaw: direction of the box's long side,
 * in (-π/2, π/2]; length >= width: extents of that box; zMin, zMax above base_link ground;
 * meanX, meanY: centroid of the points; points, cells: how many points and grid cells.
 */
export const CLUSTER = {
  x: 0,
  y: 1,
  yaw: 2,
  length: 3,
  width: 4,
  zMin: 5,
  zMax: 6,
  meanX: 7,
  meanY: 8,
  points: 9,
  cells: 10,
  stride: 11,
} as const;

export interface LidarClustererConfig {
  /** Occupancy grid cell size, m. Two objects separated by more than one empty cell stay apart. */
  cellSizeM: number;
  /** The grid covers ±this around base_link; points outside are ignored. */
  gridHalfExtentM: number;
  /** Cell size of the coarse grid that estimates the local ground height, m. */
  groundCellSizeM: number;
  /** Points less than this above the local ground are ground. */
  groundToleranceM: number;
  /** Local ground may rise/fall this much per metre of distance (slopes); points lower are noise. */
  maxGroundGrade: number;
  /** Points higher than this above the local ground (overhanging branches, bridges) are ignored. */
  maxObstacleHeightM: number;
  /** The ego vehicle's own footprint in base_link; points inside are the car itself. */
  egoXMinM: number;
  egoXMaxM: number;
  egoHalfWidthM: number;
  /**
   * Cells within this many cells of each other (Chebyshev distance) join one cluster. Bridging
   * empty cells matters because a face seen at a grazing angle is sampled sparsely; two objects
   * closer than about (radius - 1) cells merge.
   */
  connectRadiusCells: number;
  /**
   * Expected gap between returns on a grazing face per metre of range (azimuth step / sin of the
   * shallowest grazing angle worth joining: 0.2° / sin 12° ≈ 0.017). The radius grows with range
   * to bridge it, up to maxConnectRadiusCells.
   */
  connectGapPerMetre: number;
  maxConnectRadiusCells: number;
  minClusterPoints: number;
  /** Clusters lower than this from top to bottom are dropped (curbs, debris). */
  minClusterHeightM: number;
  /** Clusters longer than this (walls, guard rails) are dropped. */
  maxClusterLengthM: number;
  /** Step of the orientation search of the box fit, degrees. */
  orientationStepDeg: number;
}

export const DEFAULT_LIDAR_CLUSTERER_CONFIG: Readonly<LidarClustererConfig> = {
  cellSizeM: 0.25,
  gridHalfExtentM: 120,
  groundCellSizeM: 2,
  groundToleranceM: 0.25,
  maxGroundGrade: 0.08,
  maxObstacleHeightM: 4.2,
  egoXMinM: -1.2,
  egoXMaxM: 3.9,
  egoHalfWidthM: 1.1,
  connectRadiusCells: 2,
  connectGapPerMetre: 0.017,
  maxConnectRadiusCells: 5,
  minClusterPoints: 5,
  minClusterHeightM: 0.2,
  maxClusterLengthM: 20,
  orientationStepDeg: 3,
};

/** Counters of the last scan (overwritten per call) and running totals. */
export interface LidarClustererStats {
  pointsIn: number;
  /** NaN or infinite coordinates, or returns below any plausible ground. */
  pointsInvalid: number;
  /** Finite points outside the grid. */
  pointsOutOfRange: number;
  pointsGround: number;
  pointsKept: number;
  clusters: number;
  /** Components rejected as too small, too flat or too long. */
  clustersRejected: number;
  /** Accepted clusters that did not fit into the output array. */
  clustersOverflow: number;
}

const INITIAL_POINT_CAPACITY = 1 << 14;
const INITIAL_CLUSTER_CAPACITY = 1 << 10;

/**
 * Turns one lidar scan into object clusters: ground removal against a coarse local-ground grid,
 * a fine 2D occupancy grid, connected components over occupied cells, and an oriented box per
 * component (minimum-area orientation over cell means, exact extents over the points).
 * Work is O(points + occupied cells); only touched cells are cleared between scans, and all
 * buffers are preallocated (they grow only when a scan is larger than any before).
 */
export class LidarClusterer {
  readonly config: Readonly<LidarClustererConfig>;
  readonly stats: LidarClustererStats = {
    pointsIn: 0,
    pointsInvalid: 0,
    pointsOutOfRange: 0,
    pointsGround: 0,
    pointsKept: 0,
    clusters: 0,
    clustersRejected: 0,
    clustersOverflow: 0,
  };

  private readonly gridWidth: number;
  private readonly invCell: number;
  /** Per fine cell: index of its slot in the touched list, or -1. */
  private readonly cellSlot: Int32Array;
  private readonly groundWidth: number;
  private readonly invGroundCell: number;
  private readonly groundMin: Float32Array;
  private readonly cosTable: Float64Array;
  private readonly sinTable: Float64Array;

  // Per point (grown on demand).
  private px = new Float32Array(INITIAL_POINT_CAPACITY);
  private py = new Float32Array(INITIAL_POINT_CAPACITY);
  private pz = new Float32Array(INITIAL_POINT_CAPACITY);
  /** First the fine cell index, then the slot of the point's cell; -1 when dropped. */
  private pointRef = new Int32Array(INITIAL_POINT_CAPACITY);

  // Per touched cell ("slot"); at most one per kept point.
  private slotCell = new Int32Array(INITIAL_POINT_CAPACITY);
  private slotCount = new Int32Array(INITIAL_POINT_CAPACITY);
  private slotSumX = new Float64Array(INITIAL_POINT_CAPACITY);
  private slotSumY = new Float64Array(INITIAL_POINT_CAPACITY);
  /** Mean of the cell's points, set by the box fit for the cells of every component. */
  private slotMeanX = new Float64Array(INITIAL_POINT_CAPACITY);
  private slotMeanY = new Float64Array(INITIAL_POINT_CAPACITY);
  private slotZMin = new Float32Array(INITIAL_POINT_CAPACITY);
  private slotZMax = new Float32Array(INITIAL_POINT_CAPACITY);
  private slotLabel = new Int32Array(INITIAL_POINT_CAPACITY);
  /** BFS queue; the slots of component k are queue[compStart[k] .. compStart[k+1]). */
  private queue = new Int32Array(INITIAL_POINT_CAPACITY);

  // Per component.
  private compStart = new Int32Array(INITIAL_CLUSTER_CAPACITY + 1);
  /** Output record index of the component, or -1 when rejected. */
  private compOut = new Int32Array(INITIAL_CLUSTER_CAPACITY);
  private compCos = new Float64Array(INITIAL_CLUSTER_CAPACITY);
  private compSin = new Float64Array(INITIAL_CLUSTER_CAPACITY);
  private compUMin = new Float64Array(INITIAL_CLUSTER_CAPACITY);
  private compUMax = new Float64Array(INITIAL_CLUSTER_CAPACITY);
  private compVMin = new Float64Array(INITIAL_CLUSTER_CAPACITY);
  private compVMax = new Float64Array(INITIAL_CLUSTER_CAPACITY);

  constructor(config: Partial<LidarClustererConfig> = {}) {
    const c = { ...DEFAULT_LIDAR_CLUSTERER_CONFIG, ...config };
    if (!(c.cellSizeM > 0) || !(c.gridHalfExtentM > 0) || !(c.groundCellSizeM >= c.cellSizeM)) {
      throw new Error(
        `LidarClusterer: invalid grid (cellSizeM ${c.cellSizeM}, gridHalfExtentM ${c.gridHalfExtentM}, groundCellSizeM ${c.groundCellSizeM})`,
      );
    }
    if (!(c.orientationStepDeg > 0 && c.orientationStepDeg <= 45)) {
      throw new Error(`LidarClusterer: orientationStepDeg ${c.orientationStepDeg} must be in (0, 45]`);
    }
    this.config = c;
    this.invCell = 1 / c.cellSizeM;
    this.gridWidth = Math.ceil((2 * c.gridHalfExtentM) / c.cellSizeM);
    this.cellSlot = new Int32Array(this.gridWidth * this.gridWidth).fill(-1);
    this.invGroundCell = 1 / c.groundCellSizeM;
    this.groundWidth = Math.ceil((2 * c.gridHalfExtentM) / c.groundCellSizeM);
    this.groundMin = new Float32Array(this.groundWidth * this.groundWidth);
    const steps = Math.max(1, Math.round(90 / c.orientationStepDeg));
    this.cosTable = new Float64Array(steps);
    this.sinTable = new Float64Array(steps);
    for (let k = 0; k < steps; k++) {
      const a = (k * Math.PI) / 2 / steps;
      this.cosTable[k] = Math.cos(a);
      this.sinTable[k] = Math.sin(a);
    }
  }

  /**
   * Clusters one scan. `points` holds LIDAR_LAYOUT records in the sensor frame, `mount` places
   * the sensor in base_link. Writes CLUSTER records (base_link) into `out` and returns how many;
   * clusters that do not fit are counted in stats.clustersOverflow.
   */
  cluster(points: Float32Array, count: number, mount: Mount, out: Float32Array): number {
    const stride = LIDAR.stride;
    if (!Number.isInteger(count) || count < 0 || count * stride > points.length) {
      throw new Error(
        `LidarClusterer: count ${count} exceeds the view's ${Math.floor(points.length / stride)} records`,
      );
    }
    this.ensurePointCapacity(count);
    const st = this.stats;
    st.pointsIn = count;
    st.pointsInvalid = 0;
    st.pointsOutOfRange = 0;
    st.pointsGround = 0;
    st.pointsKept = 0;
    st.clusters = 0;
    st.clustersRejected = 0;
    st.clustersOverflow = 0;

    this.groundMin.fill(Infinity);
    const touched = this.transformAndGround(points, count, mount);
    const components = this.labelComponents(touched, mount);
    const written = this.fitBoxes(components, out);

    // Clear only what this scan touched, so the next scan starts from an empty grid.
    const cellSlot = this.cellSlot;
    const slotCell = this.slotCell;
    for (let s = 0; s < touched; s++) cellSlot[slotCell[s]!] = -1;
    return written;
  }

  /** Pass over the points: to base_link, local-ground minimum, then occupancy of non-ground points. */
  private transformAndGround(points: Float32Array, count: number, mount: Mount): number {
    const cfg = this.config;
    const st = this.stats;
    const c = Math.cos(mount.yaw);
    const s = Math.sin(mount.yaw);
    const mx = mount.x;
    const my = mount.y;
    const mz = mount.z;
    const half = cfg.gridHalfExtentM;
    const width = this.gridWidth;
    const invCell = this.invCell;
    const gWidth = this.groundWidth;
    const invG = this.invGroundCell;
    const groundMin = this.groundMin;
    const px = this.px;
    const py = this.py;
    const pz = this.pz;
    const ref = this.pointRef;
    const egoXMin = cfg.egoXMinM;
    const egoXMax = cfg.egoXMaxM;
    const egoHalfW = cfg.egoHalfWidthM;
    const grade = cfg.maxGroundGrade;

    for (let p = 0, i = 0; p < count; p++, i += LIDAR.stride) {
      const x = points[i]!;
      const y = points[i + 1]!;
      const z = points[i + 2]!;
      const bx = mx + c * x - s * y;
      const by = my + s * x + c * y;
      const bz = mz + z;
      // NaN fails every comparison, so this one test rejects NaN, infinities and out-of-grid points.
      if (!(bx > -half && bx < half && by > -half && by < half && bz > -100 && bz < 100)) {
        ref[p] = -1;
        if (Number.isFinite(bx + by + bz)) st.pointsOutOfRange++;
        else st.pointsInvalid++;
        continue;
      }
      if (bx > egoXMin && bx < egoXMax && by > -egoHalfW && by < egoHalfW) {
        ref[p] = -1;
        continue;
      }
      const dist = Math.abs(bx) + Math.abs(by);
      if (bz < -0.3 - grade * dist) {
        // Below any plausible ground: multipath or noise. Keeping it would sink the local ground.
        ref[p] = -1;
        st.pointsInvalid++;
        continue;
      }
      px[p] = bx;
      py[p] = by;
      pz[p] = bz;
      ref[p] = (((by + half) * invCell) | 0) * width + (((bx + half) * invCell) | 0);
      const g = (((by + half) * invG) | 0) * gWidth + (((bx + half) * invG) | 0);
      if (bz < groundMin[g]!) groundMin[g] = bz;
    }

    const cellSlot = this.cellSlot;
    const slotCell = this.slotCell;
    const slotCount = this.slotCount;
    const slotSumX = this.slotSumX;
    const slotSumY = this.slotSumY;
    const slotZMin = this.slotZMin;
    const slotZMax = this.slotZMax;
    const slotLabel = this.slotLabel;
    const tol = cfg.groundToleranceM;
    const maxH = cfg.maxObstacleHeightM;
    let touched = 0;
    let kept = 0;
    let ground = 0;
    for (let p = 0; p < count; p++) {
      const cell = ref[p]!;
      if (cell < 0) continue;
      const bx = px[p]!;
      const by = py[p]!;
      const bz = pz[p]!;
      const g = (((by + half) * invG) | 0) * gWidth + (((bx + half) * invG) | 0);
      let gz = groundMin[g]!;
      // A cell whose lowest return is well above plausible ground saw no ground (e.g. fully
      // covered by a vehicle): assume flat ground there instead of the vehicle's underside.
      if (gz > 0.3 + grade * (Math.abs(bx) + Math.abs(by))) gz = 0;
      const h = bz - gz;
      if (h < tol || h > maxH) {
        ref[p] = -1;
        ground++;
        continue;
      }
      let slot = cellSlot[cell]!;
      if (slot < 0) {
        slot = touched++;
        cellSlot[cell] = slot;
        slotCell[slot] = cell;
        slotCount[slot] = 0;
        slotSumX[slot] = 0;
        slotSumY[slot] = 0;
        slotZMin[slot] = Infinity;
        slotZMax[slot] = -Infinity;
        slotLabel[slot] = -1;
      }
      slotCount[slot]!++;
      slotSumX[slot]! += bx;
      slotSumY[slot]! += by;
      if (bz < slotZMin[slot]!) slotZMin[slot] = bz;
      if (bz > slotZMax[slot]!) slotZMax[slot] = bz;
      ref[p] = slot;
      kept++;
    }
    this.stats.pointsGround = ground;
    this.stats.pointsKept = kept;
    return touched;
  }

  /** Breadth-first connected components over occupied cells (square neighbourhood, wider far away). */
  private labelComponents(touched: number, mount: Mount): number {
    const cfg = this.config;
    const width = this.gridWidth;
    const cellSlot = this.cellSlot;
    const slotCell = this.slotCell;
    const slotLabel = this.slotLabel;
    const queue = this.queue;
    const half = cfg.gridHalfExtentM;
    const cellSize = cfg.cellSizeM;
    const minR = cfg.connectRadiusCells;
    const maxR = cfg.maxConnectRadiusCells;
    const gapCells = cfg.connectGapPerMetre / cellSize;
    let components = 0;
    let tail = 0;
    for (let seed = 0; seed < touched; seed++) {
      if (slotLabel[seed]! >= 0) continue;
      this.ensureComponentCapacity(components + 1);
      const label = components++;
      this.compStart[label] = tail;
      slotLabel[seed] = label;
      queue[tail++] = seed;
      for (let head = this.compStart[label]!; head < tail; head++) {
        const cell = slotCell[queue[head]!]!;
        const gy = (cell / width) | 0;
        const gx = cell - gy * width;
        const cx = (gx + 0.5) * cellSize - half - mount.x;
        const cy = (gy + 0.5) * cellSize - half - mount.y;
        let r = Math.ceil(gapCells * Math.sqrt(cx * cx + cy * cy));
        r = r < minR ? minR : r > maxR ? maxR : r;
        const x0 = gx - r > 0 ? gx - r : 0;
        const x1 = gx + r < width - 1 ? gx + r : width - 1;
        const y0 = gy - r > 0 ? gy - r : 0;
        const y1 = gy + r < width - 1 ? gy + r : width - 1;
        for (let ny = y0; ny <= y1; ny++) {
          const rowBase = ny * width;
          for (let nx = x0; nx <= x1; nx++) {
            const ns = cellSlot[rowBase + nx]!;
            if (ns >= 0 && slotLabel[ns]! < 0) {
              slotLabel[ns] = label;
              queue[tail++] = ns;
            }
          }
        }
      }
    }
    this.compStart[components] = tail;
    return components;
  }

  /** Filters components, picks each box's orientation, then measures exact extents over the points. */
  private fitBoxes(components: number, out: Float32Array): number {
    const cfg = this.config;
    const st = this.stats;
    const queue = this.queue;
    const slotCount = this.slotCount;
    const slotSumX = this.slotSumX;
    const slotSumY = this.slotSumY;
    const meanX = this.slotMeanX;
    const meanY = this.slotMeanY;
    const slotZMin = this.slotZMin;
    const slotZMax = this.slotZMax;
    const cosT = this.cosTable;
    const sinT = this.sinTable;
    const steps = cosT.length;
    const closenessFloor = 0.4 * cfg.cellSizeM;
    const maxLen = cfg.maxClusterLengthM;
    const capacity = Math.floor(out.length / CLUSTER.stride);
    let written = 0;

    for (let k = 0; k < components; k++) {
      this.compOut[k] = -1;
      const start = this.compStart[k]!;
      const end = this.compStart[k + 1]!;
      let n = 0;
      let sx = 0;
      let sy = 0;
      let zMin = Infinity;
      let zMax = -Infinity;
      let xMin = Infinity;
      let xMax = -Infinity;
      let yMin = Infinity;
      let yMax = -Infinity;
      for (let q = start; q < end; q++) {
        const slot = queue[q]!;
        const cnt = slotCount[slot]!;
        n += cnt;
        sx += slotSumX[slot]!;
        sy += slotSumY[slot]!;
        const mx = slotSumX[slot]! / cnt;
        const my = slotSumY[slot]! / cnt;
        meanX[slot] = mx;
        meanY[slot] = my;
        if (mx < xMin) xMin = mx;
        if (mx > xMax) xMax = mx;
        if (my < yMin) yMin = my;
        if (my > yMax) yMax = my;
        if (slotZMin[slot]! < zMin) zMin = slotZMin[slot]!;
        if (slotZMax[slot]! > zMax) zMax = slotZMax[slot]!;
      }
      // The axis-aligned extent bounds the oriented one by at most √2, so this rejects walls cheaply.
      if (
        n < cfg.minClusterPoints ||
        zMax - zMin < cfg.minClusterHeightM ||
        xMax - xMin > maxLen * Math.SQRT2 ||
        yMax - yMin > maxLen * Math.SQRT2
      ) {
        st.clustersRejected++;
        continue;
      }
      // L-shape fit by the closeness criterion over cell means: the right orientation puts the
      // visible faces on the rectangle's edges. (Minimum area cannot tell an L from its
      // hypotenuse-aligned box, whose area is the same.)
      let bestScore = -1;
      let best = 0;
      for (let a = 0; a < steps; a++) {
        const ca = cosT[a]!;
        const sa = sinT[a]!;
        let uMin = Infinity;
        let uMax = -Infinity;
        let vMin = Infinity;
        let vMax = -Infinity;
        for (let q = start; q < end; q++) {
          const slot = queue[q]!;
          const u = meanX[slot]! * ca + meanY[slot]! * sa;
          const v = meanY[slot]! * ca - meanX[slot]! * sa;
          if (u < uMin) uMin = u;
          if (u > uMax) uMax = u;
          if (v < vMin) vMin = v;
          if (v > vMax) vMax = v;
        }
        let score = 0;
        for (let q = start; q < end; q++) {
          const slot = queue[q]!;
          const u = meanX[slot]! * ca + meanY[slot]! * sa;
          const v = meanY[slot]! * ca - meanX[slot]! * sa;
          const du = u - uMin < uMax - u ? u - uMin : uMax - u;
          const dv = v - vMin < vMax - v ? v - vMin : vMax - v;
          const d = du < dv ? du : dv;
          score += 1 / (d > closenessFloor ? d : closenessFloor);
        }
        if (score > bestScore) {
          bestScore = score;
          best = a;
        }
      }
      if (written >= capacity) {
        st.clustersOverflow++;
        continue;
      }
      const o = written++;
      this.compOut[k] = o;
      this.compCos[k] = cosT[best]!;
      this.compSin[k] = sinT[best]!;
      this.compUMin[k] = Infinity;
      this.compUMax[k] = -Infinity;
      this.compVMin[k] = Infinity;
      this.compVMax[k] = -Infinity;
      const base = o * CLUSTER.stride;
      out[base + CLUSTER.zMin] = zMin;
      out[base + CLUSTER.zMax] = zMax;
      out[base + CLUSTER.meanX] = sx / n;
      out[base + CLUSTER.meanY] = sy / n;
      out[base + CLUSTER.points] = n;
      out[base + CLUSTER.cells] = end - start;
    }

    this.measureExtents();

    // Box centre and dimensions from the extents; the long side defines yaw.
    for (let k = 0; k < components; k++) {
      const o = this.compOut[k]!;
      if (o < 0) continue;
      const ca = this.compCos[k]!;
      const sa = this.compSin[k]!;
      const uMin = this.compUMin[k]!;
      const uMax = this.compUMax[k]!;
      const vMin = this.compVMin[k]!;
      const vMax = this.compVMax[k]!;
      const uc = 0.5 * (uMin + uMax);
      const vc = 0.5 * (vMin + vMax);
      const du = uMax - uMin;
      const dv = vMax - vMin;
      const base = o * CLUSTER.stride;
      out[base + CLUSTER.x] = uc * ca - vc * sa;
      out[base + CLUSTER.y] = uc * sa + vc * ca;
      let yaw = Math.atan2(sa, ca);
      if (dv > du) {
        yaw += Math.PI / 2;
        if (yaw > Math.PI / 2) yaw -= Math.PI;
        out[base + CLUSTER.length] = dv;
        out[base + CLUSTER.width] = du;
      } else {
        out[base + CLUSTER.length] = du;
        out[base + CLUSTER.width] = dv;
      }
      out[base + CLUSTER.yaw] = yaw;
      // The grid check above is conservative; reject on the exact length too.
      if (out[base + CLUSTER.length]! > maxLen) {
        this.compOut[k] = -1;
        st.clustersRejected++;
      }
    }
    st.clusters = this.compactOutput(components, out);
    return st.clusters;
  }

  /** Second pass over the kept points: extents of every accepted cluster along its chosen axes. */
  private measureExtents(): void {
    const ref = this.pointRef;
    const px = this.px;
    const py = this.py;
    const slotLabel = this.slotLabel;
    const compOut = this.compOut;
    const compCos = this.compCos;
    const compSin = this.compSin;
    const uMinA = this.compUMin;
    const uMaxA = this.compUMax;
    const vMinA = this.compVMin;
    const vMaxA = this.compVMax;
    const n = this.stats.pointsIn;
    for (let p = 0; p < n; p++) {
      const slot = ref[p]!;
      if (slot < 0) continue;
      const k = slotLabel[slot]!;
      if (compOut[k]! < 0) continue;
      const ca = compCos[k]!;
      const sa = compSin[k]!;
      const x = px[p]!;
      const y = py[p]!;
      const u = x * ca + y * sa;
      const v = y * ca - x * sa;
      if (u < uMinA[k]!) uMinA[k] = u;
      if (u > uMaxA[k]!) uMaxA[k] = u;
      if (v < vMinA[k]!) vMinA[k] = v;
      if (v > vMaxA[k]!) vMaxA[k] = v;
    }
  }

  /** Removes records rejected after the extent pass, keeping the order; returns the final count. */
  private compactOutput(components: number, out: Float32Array): number {
    let dst = 0;
    for (let k = 0; k < components; k++) {
      const o = this.compOut[k]!;
      if (o < 0) continue;
      if (o !== dst) out.copyWithin(dst * CLUSTER.stride, o * CLUSTER.stride, (o + 1) * CLUSTER.stride);
      this.compOut[k] = dst++;
    }
    return dst;
  }

  private ensurePointCapacity(count: number): void {
    if (count <= this.px.length) return;
    let cap = this.px.length;
    while (cap < count) cap *= 2;
    this.px = new Float32Array(cap);
    this.py = new Float32Array(cap);
    this.pz = new Float32Array(cap);
    this.pointRef = new Int32Array(cap);
    this.slotCell = new Int32Array(cap);
    this.slotCount = new Int32Array(cap);
    this.slotSumX = new Float64Array(cap);
    this.slotSumY = new Float64Array(cap);
    this.slotMeanX = new Float64Array(cap);
    this.slotMeanY = new Float64Array(cap);
    this.slotZMin = new Float32Array(cap);
    this.slotZMax = new Float32Array(cap);
    this.slotLabel = new Int32Array(cap);
    this.queue = new Int32Array(cap);
  }

  private ensureComponentCapacity(n: number): void {
    if (n <= this.compOut.length) return;
    const cap = this.compOut.length * 2;
    const grow = <T extends Int32Array | Float64Array>(a: T, size: number): T => {
      const b = new (a.constructor as { new (n: number): T })(size);
      b.set(a);
      return b;
    };
    this.compStart = grow(this.compStart, cap + 1);
    this.compOut = grow(this.compOut, cap);
    this.compCos = grow(this.compCos, cap);
    this.compSin = grow(this.compSin, cap);
    this.compUMin = grow(this.compUMin, cap);
    this.compUMax = grow(this.compUMax, cap);
    this.compVMin = grow(this.compVMin, cap);
    this.compVMax = grow(this.compVMax, cap);
  }
}
