import { describe, expect, it } from 'vitest';
import { DEFAULT_RIG } from '../wire/rig.js';
import { LIDAR } from '../wire/layouts.js';
import { CLUSTER, LidarClusterer } from './lidar-clusterer.js';
import { HDL64, Prng, lidarScan, type ObjectState } from './synthetic-scene.test-helpers.js';

const lidar = DEFAULT_RIG.find((s) => s.kind === 'lidar')!;
const ego = { x: 0, y: 0, yaw: 0, speed: 0, yawRate: 0 };

function box(x: number, y: number, yaw: number, length: number, width: number, height: number): ObjectState {
  return { x, y, yaw, vx: 0, vy: 0, length, width, height };
}

// Boxes seen corner-on (two faces visible) let the fit recover the whole box.
const cornerOn = [
  box(15, 8, 0, 4.5, 1.8, 1.5),
  box(-12, -7, 0.3, 4.6, 1.9, 1.5),
  box(35, -10, 0, 10, 2.5, 3.5),
  box(8, -5, 0, 0.6, 0.6, 1.8),
  box(10, 18, Math.PI / 2, 4.4, 1.8, 1.4),
];
// Straight ahead, only the rear face is visible.
const rearOnly = box(20, 0, 0, 4.5, 1.8, 1.5);

function scan(objects: readonly ObjectState[], seed = 7): { points: Float32Array; count: number } {
  const points = new Float32Array(130_000 * LIDAR.stride);
  const count = lidarScan(ego, objects, lidar, new Prng(seed), points, HDL64);
  return { points, count };
}

function clusters(out: Float32Array, n: number): Record<keyof typeof CLUSTER, number>[] {
  const rows: Record<string, number>[] = [];
  for (let i = 0; i < n; i++) {
    const row: Record<string, number> = {};
    for (const [k, off] of Object.entries(CLUSTER))
      if (k !== 'stride') row[k] = out[i * CLUSTER.stride + off]!;
    rows.push(row);
  }
  return rows as Record<keyof typeof CLUSTER, number>[];
}

function nearest<T extends { x: number; y: number }>(rows: readonly T[], x: number, y: number): T {
  let best = rows[0]!;
  for (const r of rows) if (Math.hypot(r.x - x, r.y - y) < Math.hypot(best.x - x, best.y - y)) best = r;
  return best;
}

/** Angle difference modulo 90°, since a box's yaw is defined up to its symmetry. */
function yawErrorMod90(a: number, b: number): number {
  const q = Math.PI / 2;
  const d = (((a - b) % q) + q) % q;
  return Math.min(d, q - d);
}

describe('LidarClusterer', () => {
  it('finds every box in a ~100k-point 64-beam scan, with boxes and centroids where the objects are', () => {
    const objects = [...cornerOn, rearOnly];
    const { points, count } = scan(objects);
    expect(count).toBeGreaterThan(90_000);

    const clusterer = new LidarClusterer();
    const out = new Float32Array(256 * CLUSTER.stride);
    const n = clusterer.cluster(points, count, lidar.mount, out);
    expect(n).toBe(objects.length);
    expect(clusterer.stats.pointsGround).toBeGreaterThan(count * 0.8);

    const rows = clusters(out, n);
    for (const o of cornerOn) {
      const c = nearest(rows, o.x, o.y);
      expect(Math.hypot(c.x - o.x, c.y - o.y)).toBeLessThan(0.25);
      expect(c.length).toBeGreaterThan(Math.max(o.length, o.width) - 0.45);
      expect(c.length).toBeLessThan(Math.max(o.length, o.width) + 0.15);
      expect(c.width).toBeGreaterThan(Math.min(o.length, o.width) - 0.35);
      expect(yawErrorMod90(c.yaw, o.yaw)).toBeLessThan((4 * Math.PI) / 180);
      // The point centroid lies on the visible faces, inside the box footprint.
      const cc = Math.cos(o.yaw);
      const ss = Math.sin(o.yaw);
      const lx = cc * (c.meanX - o.x) + ss * (c.meanY - o.y);
      const ly = -ss * (c.meanX - o.x) + cc * (c.meanY - o.y);
      expect(Math.abs(lx)).toBeLessThan(o.length / 2 + 0.1);
      expect(Math.abs(ly)).toBeLessThan(o.width / 2 + 0.1);
      expect(c.zMax).toBeGreaterThan(o.height - 0.3);
      expect(c.zMax).toBeLessThan(o.height + 0.1);
    }
    // A rear view yields the rear face: right lateral position, a thin box at the rear bumper.
    const r = nearest(rows, rearOnly.x, rearOnly.y);
    expect(Math.abs(r.y - rearOnly.y)).toBeLessThan(0.1);
    expect(Math.abs(r.x - (rearOnly.x - rearOnly.length / 2))).toBeLessThan(0.15);
    expect(r.length).toBeCloseTo(rearOnly.width, 0);
    expect(r.width).toBeLessThan(0.2);
    expect(Math.abs(r.meanY)).toBeLessThan(0.1);
  });

  it('keeps two pedestrians 0.8 m apart as two clusters', () => {
    const objects = [box(12, 1.4, 0, 0.6, 0.6, 1.7), box(12, 0, 0, 0.6, 0.6, 1.7)];
    const { points, count } = scan(objects, 3);
    const out = new Float32Array(64 * CLUSTER.stride);
    const n = new LidarClusterer().cluster(points, count, lidar.mount, out);
    expect(n).toBe(2);
    const ys = clusters(out, n)
      .map((c) => c.meanY)
      .sort((a, b) => a - b);
    expect(ys[0]).toBeCloseTo(0, 0);
    expect(ys[1]).toBeCloseTo(1.4, 0);
  });

  it('ignores NaN points (counted) and its own body, and throws when count exceeds the view', () => {
    const { points, count } = scan([box(10, 3, 0, 4.5, 1.8, 1.5)]);
    for (let i = 0; i < 100; i++) points[i * 37 * LIDAR.stride + LIDAR.x] = NaN;
    // Points on the ego's own roof (sensor frame: just below and behind the lidar).
    points[(count - 1) * LIDAR.stride + LIDAR.x] = 0.5;
    points[(count - 1) * LIDAR.stride + LIDAR.y] = 0.2;
    points[(count - 1) * LIDAR.stride + LIDAR.z] = -0.5;
    const clusterer = new LidarClusterer();
    const out = new Float32Array(16 * CLUSTER.stride);
    expect(clusterer.cluster(points, count, lidar.mount, out)).toBe(1);
    expect(clusterer.stats.pointsInvalid).toBe(100);
    expect(() => clusterer.cluster(points, points.length / LIDAR.stride + 1, lidar.mount, out)).toThrow(
      /count 130001 exceeds the view's 130000 records/,
    );
  });

  it('rejects walls and counts clusters that do not fit the output', () => {
    const objects = [box(0, 12, 0, 60, 0.3, 2), box(15, -5, 0, 4, 1.8, 1.5), box(25, -5, 0, 4, 1.8, 1.5)];
    const { points, count } = scan(objects);
    const clusterer = new LidarClusterer();
    const out = new Float32Array(1 * CLUSTER.stride);
    expect(clusterer.cluster(points, count, lidar.mount, out)).toBe(1);
    expect(clusterer.stats.clustersRejected).toBeGreaterThanOrEqual(1);
    expect(clusterer.stats.clustersOverflow).toBe(1);
  });

  it('gives identical output for identical input, also after other scans', () => {
    const a = scan([...cornerOn, rearOnly], 11);
    const b = scan([box(5, 5, 0, 1, 1, 1)], 12);
    const clusterer = new LidarClusterer();
    const out1 = new Float32Array(64 * CLUSTER.stride);
    const out2 = new Float32Array(64 * CLUSTER.stride);
    const n1 = clusterer.cluster(a.points, a.count, lidar.mount, out1);
    clusterer.cluster(b.points, b.count, lidar.mount, out2);
    out2.fill(0);
    const n2 = clusterer.cluster(a.points, a.count, lidar.mount, out2);
    expect(n2).toBe(n1);
    expect(Buffer.from(out2.buffer).equals(Buffer.from(out1.buffer))).toBe(true);
  });

  it('reports its time for a ~120k-point scan (logged, not asserted)', () => {
    const many = [...cornerOn, rearOnly];
    for (let i = 0; i < 14; i++) many.push(box(-40 + 6 * i, i % 2 ? 14 : -14, 0, 4.5, 1.8, 1.5));
    const points = new Float32Array(130_000 * LIDAR.stride);
    const dense = { ...HDL64, azimuthSteps: 2000 };
    const count = lidarScan(ego, many, lidar, new Prng(5), points, dense);
    const clusterer = new LidarClusterer();
    const out = new Float32Array(512 * CLUSTER.stride);
    const times: number[] = [];
    let n = 0;
    for (let i = 0; i < 30; i++) {
      const t0 = process.hrtime.bigint();
      n = clusterer.cluster(points, count, lidar.mount, out);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((x, y) => x - y);
    console.log(
      `LidarClusterer: ${count} points, ${n} clusters: median ${times[15]!.toFixed(2)} ms, ` +
        `min ${times[0]!.toFixed(2)} ms, max ${times[29]!.toFixed(2)} ms (30 runs, after warm-up)`,
    );
    expect(n).toBe(many.length);
  });
});
