/**
 * Overlap of oriented 3D boxes (a yaw about the vertical axis): the bird's-eye intersection of
 * two rectangles by convex polygon clipping, times the overlap of their height intervals.
 */

/** A box: centre x, y, z (m, z up), length along the heading, width, height (m), yaw (rad). */
export interface Box3 {
  x: number;
  y: number;
  z: number;
  length: number;
  width: number;
  height: number;
  yaw: number;
}

/** Corners of a box's footprint, counter-clockwise, into out[0..8) as x0, y0, x1, y1, ... */
function footprint(b: Box3, out: Float64Array): void {
  const c = Math.cos(b.yaw);
  const s = Math.sin(b.yaw);
  const hl = 0.5 * b.length;
  const hw = 0.5 * b.width;
  const corners = [
    [hl, hw],
    [-hl, hw],
    [-hl, -hw],
    [hl, -hw],
  ] as const;
  for (let i = 0; i < 4; i++) {
    const [lx, ly] = corners[i]!;
    out[2 * i] = b.x + c * lx - s * ly;
    out[2 * i + 1] = b.y + s * lx + c * ly;
  }
}

const rectA = new Float64Array(8);
const rectB = new Float64Array(8);
// A rectangle clipped by a rectangle has at most 8 vertices; two buffers ping-pong.
const polyIn = new Float64Array(32);
const polyOut = new Float64Array(32);

/** Area of the intersection of two convex counter-clockwise quadrilaterals (Sutherland–Hodgman). */
function convexIntersectionArea(a: Float64Array, b: Float64Array): number {
  let n = 4;
  let src = polyIn;
  let dst = polyOut;
  src.set(a);
  for (let e = 0; e < 4 && n > 0; e++) {
    const ex0 = b[2 * e]!;
    const ey0 = b[2 * e + 1]!;
    const ex1 = b[(2 * e + 2) % 8]!;
    const ey1 = b[(2 * e + 3) % 8]!;
    // Inside = left of the edge (counter-clockwise polygon).
    const side = (px: number, py: number): number => (ex1 - ex0) * (py - ey0) - (ey1 - ey0) * (px - ex0);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const px = src[2 * i]!;
      const py = src[2 * i + 1]!;
      const qx = src[2 * ((i + 1) % n)]!;
      const qy = src[2 * ((i + 1) % n) + 1]!;
      const sp = side(px, py);
      const sq = side(qx, qy);
      if (sp >= 0) {
        dst[2 * m] = px;
        dst[2 * m + 1] = py;
        m++;
      }
      if (sp >= 0 !== sq >= 0) {
        const t = sp / (sp - sq);
        dst[2 * m] = px + t * (qx - px);
        dst[2 * m + 1] = py + t * (qy - py);
        m++;
      }
    }
    n = m;
    const tmp = src;
    src = dst;
    dst = tmp;
  }
  let area = 0;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    area += src[2 * i]! * src[2 * j + 1]! - src[2 * j]! * src[2 * i + 1]!;
  }
  return Math.abs(area) / 2;
}

/** Area of the bird's-eye intersection of two boxes' footprints, m². */
export function footprintIntersection(a: Box3, b: Box3): number {
  // Far apart: no overlap (cheap reject by circumscribed circles).
  const ra = 0.5 * Math.hypot(a.length, a.width);
  const rb = 0.5 * Math.hypot(b.length, b.width);
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  if (dx * dx + dy * dy > (ra + rb) * (ra + rb)) return 0;
  if (!(a.length > 0 && a.width > 0 && b.length > 0 && b.width > 0)) return 0;
  footprint(a, rectA);
  footprint(b, rectB);
  return convexIntersectionArea(rectA, rectB);
}

/** Bird's-eye-view intersection over union of two boxes (0..1). */
export function iouBev(a: Box3, b: Box3): number {
  const inter = footprintIntersection(a, b);
  if (inter <= 0) return 0;
  return inter / (a.length * a.width + b.length * b.width - inter);
}

/** 3D intersection over union of two boxes (0..1). */
export function iou3d(a: Box3, b: Box3): number {
  const top = Math.min(a.z + 0.5 * a.height, b.z + 0.5 * b.height);
  const bottom = Math.max(a.z - 0.5 * a.height, b.z - 0.5 * b.height);
  const h = top - bottom;
  if (!(h > 0)) return 0;
  const inter = footprintIntersection(a, b) * h;
  if (inter <= 0) return 0;
  const va = a.length * a.width * a.height;
  const vb = b.length * b.width * b.height;
  return inter / (va + vb - inter);
}

/** Distance between the boxes' centres on the ground plane, m. */
export function centreDistance(a: Box3, b: Box3): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
