/** Planar geometry shared by the scenario checks and the world. */

/**
 * Separating-axis test of two oriented rectangles [cx, cy, yaw, length, width].
 * Touching edges do not count as overlap.
 */
export function boxesOverlap(a: readonly number[], b: readonly number[]): boolean {
  const [ax, ay, ayaw, al, aw] = a as [number, number, number, number, number];
  const [bx, by, byaw, bl, bw] = b as [number, number, number, number, number];
  const dx = bx - ax;
  const dy = by - ay;
  const axes = [ayaw, ayaw + Math.PI / 2, byaw, byaw + Math.PI / 2];
  for (const th of axes) {
    const ux = Math.cos(th);
    const uy = Math.sin(th);
    const dist = Math.abs(dx * ux + dy * uy);
    const ra = projectedHalf(al, aw, ayaw, ux, uy);
    const rb = projectedHalf(bl, bw, byaw, ux, uy);
    if (dist >= ra + rb - 1e-9) return false;
  }
  return true;
}

function projectedHalf(length: number, width: number, yaw: number, ux: number, uy: number): number {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return (Math.abs(c * ux + s * uy) * length) / 2 + (Math.abs(-s * ux + c * uy) * width) / 2;
}
