import { describe, it, expect } from 'vitest';
import { RADAR } from '../wire/layouts.js';
import { DriveSimulator } from './drive-simulator.js';
import { f32, firstFrame, run, scenarioFrom, sensor } from './sim.test-helpers.js';

const closing = scenarioFrom(`
duration: 1
ego: { lane: 1, speed: 20 }
actors:
  - { id: stopped, class: car, lane: 1, gap: 50, speed: 0 }
  - { id: slower, class: truck, lane: 2, gap: 30, speed: 15 }
  - { id: faster, class: car, lane: 0, gap: 40, speed: 26 }
`);

/** Detections of a radar_front frame within `dr` of range `r0`, as [range, azimuth, rangeRate, rcs]. */
function near(p: Float32Array, count: number, r0: number, dr: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < count; i++) {
    const d = Array.from(p.subarray(i * RADAR.stride, (i + 1) * RADAR.stride));
    if (Math.abs(d[0]! - r0) < dr) out.push(d);
  }
  return out;
}

describe('radar model', () => {
  it('measures range rate as the relative radial velocity, negative when closing, ego motion included', () => {
    const { message } = firstFrame(closing, 'radar_front', { ideal: true });
    const p = f32(message);
    // The stationary car's rear is 50 m ahead of the bumper, where the radar sits: range rate -20 cos(az).
    const stopped = near(p, message.count, 50, 0.5);
    expect(stopped.length).toBeGreaterThanOrEqual(1);
    for (const [, az, rr] of stopped) expect(rr).toBeCloseTo(-20 * Math.cos(az!), 4);
  });

  it('reports several noisy detections per object, receding ones positive, and clutter', () => {
    const sim = new DriveSimulator(closing, [sensor('radar_front'), sensor('radar_fl'), sensor('radar_fr')]);
    const closingRr: number[] = [];
    const recedingRr: number[] = [];
    let frames = 0;
    let leftTruck = 0;
    run(sim, (m) => {
      const p = f32(m);
      if (m.sensorId === 'radar_front') {
        frames++;
        // 0.05 s per frame at 20 m/s closing: the stopped car's rear is at 50 - 20 t.
        const r = 50 - 20 * Number(m.tNs) * 1e-9;
        for (const d of near(p, m.count, r, 0.6)) if (Math.abs(d[1]!) < 0.05) closingRr.push(d[2]!);
      }
      if (m.sensorId === 'radar_fl') {
        for (let i = 0; i < m.count; i++) {
          const o = i * RADAR.stride;
          if (p[o]! > 20 && p[o]! < 60 && p[o + 2]! < -3 && p[o + 2]! > -6) leftTruck++;
        }
      }
      if (m.sensorId === 'radar_fr') {
        for (let i = 0; i < m.count; i++)
          if (p[i * RADAR.stride + 2]! > 3) recedingRr.push(p[i * RADAR.stride + 2]!);
      }
    });
    expect(frames).toBe(20);
    closingRr.sort((a, b) => a - b);
    expect(closingRr.length).toBeGreaterThan(15); // Pd < 1, but most frames see it
    expect(closingRr[closingRr.length >> 1]).toBeCloseTo(-20, 1);
    // The truck on the left closes at about 5 m/s and shows several scatterers per frame.
    expect(leftTruck).toBeGreaterThan(40);
    // The faster car on the right recedes at about 6 m/s (radial share of it at the corner radar).
    expect(recedingRr.length).toBeGreaterThan(10);
  });

  it('keeps detections inside the field of view and range, and reports false alarms', () => {
    const empty = scenarioFrom('duration: 5\nego: { speed: 15 }\n');
    let clutter = 0;
    run(new DriveSimulator(empty, [sensor('radar_front')]), (m) => {
      const p = f32(m);
      clutter += m.count;
      for (let i = 0; i < m.count; i++) {
        expect(Math.abs(p[i * 4 + 1]!)).toBeLessThanOrEqual((10 * Math.PI) / 180 + 1e-6);
        expect(p[i * 4]!).toBeLessThanOrEqual(200);
      }
    });
    expect(clutter / 100).toBeGreaterThan(1); // mean 2 per scan
    expect(clutter / 100).toBeLessThan(3);
  });
});
