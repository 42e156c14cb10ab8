/**
 * The ego's predicted path: a circular arc from base_link with the current curvature
 * (yaw rate / speed), and path coordinates of points relative to it.
 */
export class EgoPath {
  /** Signed curvature, 1/m (+ turning left). */
  curvature = 0;
  /** Arc length along the path of the last toPath() point, m (negative behind). */
  s = 0;
  /** Signed lateral offset of the last toPath() point from the path, m (+ left). */
  d = 0;

  /** Sets the curvature from speed and yaw rate, clamped; 0 when too slow to tell. */
  setFromMotion(speed: number, yawRate: number, minSpeed: number, maxCurvature: number): void {
    if (!(Math.abs(speed) >= minSpeed) || !Number.isFinite(yawRate)) {
      this.curvature = 0;
      return;
    }
    const k = yawRate / Math.abs(speed);
    this.curvature = k > maxCurvature ? maxCurvature : k < -maxCurvature ? -maxCurvature : k;
  }

  /** Path coordinates (s, d) of the base_link point (x, y), into this.s and this.d. */
  toPath(x: number, y: number): void {
    const k = this.curvature;
    if (Math.abs(k) < 1e-6) {
      this.s = x;
      this.d = y;
      return;
    }
    const r = 1 / k;
    const sign = r > 0 ? 1 : -1;
    // Angle swept around the turn centre (0, r), measured from the start of the path.
    const phi = Math.atan2(x, sign * (r - y));
    this.s = Math.abs(r) * phi;
    this.d = sign * (Math.abs(r) - Math.hypot(x, y - r));
  }

  /** Direction of the path at arc length s, rad (base_link). */
  heading(s: number): number {
    return this.curvature * s;
  }
}
