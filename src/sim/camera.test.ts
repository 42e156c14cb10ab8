import { describe, it, expect } from 'vitest';
import { DEFAULT_RIG } from '../wire/rig.js';
import { CAMERA, ObjectClass } from '../wire/layouts.js';
import { IMAGE_HEIGHT, IMAGE_WIDTH } from './camera.js';
import { DriveSimulator } from './drive-simulator.js';
import { loadScenarioFile } from './scenario.js';
import { SCENARIO_DIR, f32, firstFrame, run, scenarioFrom } from './sim.test-helpers.js';

describe('camera model', () => {
  it('projects a car ahead through the pinhole: centred box below the horizon, exact range when ideal', () => {
    const s = scenarioFrom(`
duration: 1
ego: { lane: 1, speed: 10 }
actors:
  - { id: lead, class: car, lane: 1, gap: 20, speed: 10 }
  - { id: left, class: car, lane: 2, gap: 20, speed: 10 }
`);
    const { message } = firstFrame(s, 'cam_front', { ideal: true });
    expect(message.count).toBe(2);
    const p = f32(message);
    const [lead, left] = [p.subarray(0, 8), p.subarray(8, 16)];
    expect(lead[CAMERA.classId]).toBe(ObjectClass.car);
    expect((lead[CAMERA.u0]! + lead[CAMERA.u1]!) / 2).toBeCloseTo(IMAGE_WIDTH / 2, 3);
    expect(lead[CAMERA.bearing]).toBeCloseTo(0, 5);
    // Camera 2.0 m behind the bumper at x = 3.7: the car's rear is 21.7 m away.
    expect(lead[CAMERA.range]).toBeCloseTo(21.7, 4);
    // Its box spans 1.85 m at 21.7 m: f = 960 / tan(30°).
    const f = 960 / Math.tan(Math.PI / 6);
    expect(lead[CAMERA.u1]! - lead[CAMERA.u0]!).toBeCloseTo((f * 1.85) / 21.7, 0);
    expect(lead[CAMERA.v1]).toBeCloseTo(IMAGE_HEIGHT / 2 + (f * 1.4) / 21.7, 0);
    // The car in the left lane is to the left: smaller u, positive bearing.
    expect(left[CAMERA.u1]!).toBeLessThan(lead[CAMERA.u0]!);
    expect(left[CAMERA.bearing]!).toBeGreaterThan(0.1);
  });

  it('keeps every box inside the image, ordered, with valid classes and confidences', () => {
    const s = loadScenarioFile(`${SCENARIO_DIR}urban-clutter.yaml`);
    const cams = DEFAULT_RIG.filter((c) => c.kind === 'camera');
    let objects = 0;
    const classes = new Set<number>();
    run(
      new DriveSimulator(s, cams),
      (m) => {
        const p = f32(m);
        for (let i = 0; i < m.count; i++) {
          const r = p.subarray(i * CAMERA.stride, (i + 1) * CAMERA.stride);
          objects++;
          classes.add(r[CAMERA.classId]!);
          expect(r[CAMERA.u0]!).toBeGreaterThanOrEqual(0);
          expect(r[CAMERA.u1]!).toBeLessThanOrEqual(IMAGE_WIDTH);
          expect(r[CAMERA.v0]!).toBeGreaterThanOrEqual(0);
          expect(r[CAMERA.v1]!).toBeLessThanOrEqual(IMAGE_HEIGHT);
          expect(r[CAMERA.u0]!).toBeLessThanOrEqual(r[CAMERA.u1]!);
          expect(r[CAMERA.v0]!).toBeLessThanOrEqual(r[CAMERA.v1]!);
          expect(r[CAMERA.confidence]!).toBeGreaterThan(0);
          expect(r[CAMERA.confidence]!).toBeLessThan(1);
          expect(r[CAMERA.range]!).toBeGreaterThan(0);
          // Bearing follows the box centre: left of the image centre is positive.
          expect(Math.sign(r[CAMERA.bearing]!)).toBe(
            Math.sign(IMAGE_WIDTH / 2 - (r[CAMERA.u0]! + r[CAMERA.u1]!) / 2),
          );
        }
      },
      3_000_000_000n,
    );
    expect(objects).toBeGreaterThan(1000);
    expect([...classes].every((c) => c >= 0 && c <= 4)).toBe(true);
    expect(classes.has(ObjectClass.pedestrian) && classes.has(ObjectClass.cyclist)).toBe(true);
  });

  it('misses some objects and misclassifies a few when not ideal', () => {
    const s = scenarioFrom(`
duration: 10
ego: { lane: 1, speed: 10 }
actors:
  - { id: lead, class: car, lane: 1, gap: 30, speed: 10 }
`);
    const counts = new Map<number, number>();
    let frames = 0;
    run(
      new DriveSimulator(
        s,
        DEFAULT_RIG.filter((c) => c.id === 'cam_front'),
      ),
      (m) => {
        frames++;
        const p = f32(m);
        for (let i = 0; i < m.count; i++) counts.set(p[i * 8]!, (counts.get(p[i * 8]!) ?? 0) + 1);
      },
    );
    const seen = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(frames).toBe(300);
    expect(seen).toBeLessThan(frames);
    expect(seen).toBeGreaterThan(frames * 0.8);
    expect(counts.get(ObjectClass.car)!).toBeLessThan(seen);
  });
});
