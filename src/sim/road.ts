/**
 * Road geometry: a flat road of parallel lanes around a reference line of constant curvature.
 *
 * Positions on the road are Frenet coordinates: `s` is the arc length along the reference line
 * (the road's centre line) and `d` the signed lateral offset from it (+ left, ISO 8855).
 * The reference line starts at the world origin heading along +x; with curvature k it is a
 * circular arc turning left for k > 0. Lanes are numbered from the right: lane 0 is the
 * rightmost lane (the slow lane in right-hand traffic).
 */
export class Road {
  /** Half the paved width, m. */
  readonly halfWidth: number;

  constructor(
    readonly lanes: number,
    readonly laneWidth: number,
    /** 1/m, + turns left; 0 is straight. */
    readonly curvature: number,
  ) {
    this.halfWidth = (lanes * laneWidth) / 2;
  }

  /** Lateral offset `d` of the centre of `lane`. */
  laneCentre(lane: number): number {
    return -this.halfWidth + (lane + 0.5) * this.laneWidth;
  }

  /**
   * Frenet (s, d) to world: writes x, y and the heading of the reference line at s
   * into out[0..2].
   */
  toWorld(s: number, d: number, out: Float64Array): void {
    const k = this.curvature;
    if (k === 0) {
      out[0] = s;
      out[1] = d;
      out[2] = 0;
      return;
    }
    const th = k * s;
    const sn = Math.sin(th);
    const cs = Math.cos(th);
    out[0] = sn / k - d * sn;
    out[1] = (1 - cs) / k + d * cs;
    out[2] = th;
  }

  /**
   * Lateral offset `d` of a world point (cheap: one square root on a curved road).
   * Valid within the curvature radius of the reference line.
   */
  lateralOf(x: number, y: number): number {
    const k = this.curvature;
    if (k === 0) return y;
    const qx = k * x;
    const qy = k * y - 1;
    return (1 - Math.sqrt(qx * qx + qy * qy)) / k;
  }

  /** Arc length `s` of a world point (its projection on the reference line). */
  stationOf(x: number, y: number): number {
    const k = this.curvature;
    if (k === 0) return x;
    // Vector from the centre of curvature, scaled by k: (sin th, -cos th) * (1 - k d).
    const qx = k * x;
    const qy = k * y - 1;
    return Math.atan2(qx, -qy) / k;
  }
}
