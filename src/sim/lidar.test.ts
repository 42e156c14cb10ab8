import { describe, it, expect } from 'vitest';
import type { SensorConfig } from '../wire/rig.js';
import { LIDAR } from '../wire/layouts.js';
import { sensorToBase, type Mount } from '../wire/mount.js';
import { DriveSimulator, createSimMessage } from './drive-simulator.js';
import { GT } from './world.js';
import { f32, firstFrame, scenarioFrom, sensor } from './sim.test-helpers.js';

/** Signed distance from a base_link point to the surface of ground-truth box `o` in `gt` (negative inside). */
function surfaceDistance(gt: Float32Array, o: number, x: number, y: number, z: number): number {
  const c = Math.cos(gt[o + GT.yaw]!);
  const s = Math.sin(gt[o + GT.yaw]!);
  const dx = x - gt[o + GT.x]!;
  const dy = y - gt[o + GT.y]!;
  const q = [
    Math.abs(c * dx + s * dy) - gt[o + GT.length]! / 2,
    Math.abs(-s * dx + c * dy) - gt[o + GT.width]! / 2,
    Math.abs(z - gt[o + GT.z]!) - gt[o + GT.height]! / 2,
  ];
  const outside = Math.hypot(...q.map((v) => Math.max(v, 0)));
  return outside > 0 ? outside : Math.max(...q);
}

/** Lidar points in base_link, as [x, y, z][] (mount applied). */
function toBase(points: Float32Array, count: number, mount: Mount): [number, number, number][] {
  const out: [number, number, number][] = [];
  const xy = new Float64Array(2);
  for (let i = 0; i < count; i++) {
    const o = i * LIDAR.stride;
    sensorToBase(mount, points[o]!, points[o + 1]!, xy);
    out.push([xy[0]!, xy[1]!, points[o + 2]! + mount.z]);
  }
  return out;
}

/** Points within `margin` of box `o`, and how far from its surface each is. */
function nearBox(pts: [number, number, number][], gt: Float32Array, o: number, margin: number): number[] {
  return pts.map(([x, y, z]) => surfaceDistance(gt, o, x, y, z)).filter((d) => d < margin);
}

const scene = scenarioFrom(`
duration: 2
road: { lanes: 3 }
ego: { lane: 1, speed: 0 }
actors:
  - { id: ahead, class: car, lane: 1, gap: 10 }
  - id: across
    class: car
    side: left
    s: 25
    motion: [{ cross: { at: 1.5, speed: 2 } }]
  - { id: behind-left, class: truck, lane: 2, s: -15 }
`);

describe('lidar model', () => {
  it('returns a full scan: over 100k points with ground at the mount height below the sensor', () => {
    const { message } = firstFrame(scene, 'lidar_top');
    expect(message.kind).toBe('lidar');
    expect(message.count).toBeGreaterThan(100_000);
    expect(message.payload.byteLength).toBe(message.count * 16);
    const p = f32(message);
    let ground = 0;
    let markings = 0;
    let maxRange = 0;
    let minIntensity = 1;
    let maxIntensity = 0;
    for (let i = 0; i < message.count; i++) {
      const o = i * 4;
      maxRange = Math.max(maxRange, Math.hypot(p[o]!, p[o + 1]!, p[o + 2]!));
      minIntensity = Math.min(minIntensity, p[o + 3]!);
      maxIntensity = Math.max(maxIntensity, p[o + 3]!);
      if (Math.abs(p[o + 2]! + 1.9) < 0.1) {
        ground++;
        if (p[o + 3]! > 0.4) markings++;
      }
    }
    expect(maxRange).toBeLessThan(120.1);
    expect(minIntensity).toBeGreaterThanOrEqual(0);
    expect(maxIntensity).toBeLessThanOrEqual(1);
    expect(ground).toBeGreaterThan(90_000);
    expect(markings).toBeGreaterThan(500); // lane lines are painted brighter than asphalt
  });

  it.each([
    ['noisy', false, 0.1], // 2 cm range noise: every point within 5σ of the surface
    ['ideal', true, 1e-3],
  ])('puts the points of every box on its surface after applying the mount (%s)', (_, ideal, tolerance) => {
    const rotated: SensorConfig = {
      ...sensor('lidar_top'),
      id: 'lidar_odd',
      mount: { x: 0.4, y: 0.3, z: 2.1, yaw: 0.7 },
    };
    for (const cfg of [sensor('lidar_top'), rotated]) {
      const sim = new DriveSimulator(scene, [cfg], { ideal });
      const m = createSimMessage();
      sim.next(m);
      const gt = new Float32Array(3 * GT.stride);
      expect(sim.groundTruth(gt, 'base_link')).toBe(3);
      const pts = toBase(f32(m), m.count, cfg.mount).filter((p) => p[2] > 0.15); // drop the ground
      expect(gt[1 * GT.stride + GT.yaw]).toBeCloseTo(-Math.PI / 2); // the crossing car faces across the road
      for (let b = 0; b < 3; b++) {
        const near = nearBox(pts, gt, b * GT.stride, 0.5);
        expect(near.length, `points on box ${b} from ${cfg.id}`).toBeGreaterThan(100);
        expect(Math.max(...near.map(Math.abs))).toBeLessThan(tolerance);
      }
      // Everything above the ground lies on one of the boxes.
      const stray = pts.filter(([x, y, z]) =>
        [0, 1, 2].every((b) => surfaceDistance(gt, b * GT.stride, x, y, z) >= tolerance),
      );
      expect(stray).toEqual([]);
    }
  });

  it('hides a car behind a truck: nearest hit wins', () => {
    const spec = (withTruck: boolean): string => `
duration: 1
ego: { lane: 1, speed: 0 }
actors:
  - { id: hidden, class: car, lane: 1, gap: 30 }
${withTruck ? '  - { id: truck, class: truck, lane: 1, gap: 10 }' : ''}
`;
    const count = (withTruck: boolean): number => {
      const sim = new DriveSimulator(scenarioFrom(spec(withTruck)), [sensor('lidar_top')]);
      const m = createSimMessage();
      sim.next(m);
      const gt = new Float32Array(2 * GT.stride);
      sim.groundTruth(gt, 'base_link');
      return nearBox(toBase(f32(m), m.count, sensor('lidar_top').mount), gt, 0, 0.3).length;
    };
    expect(count(false)).toBeGreaterThan(50);
    expect(count(true)).toBe(0);
  });
});
