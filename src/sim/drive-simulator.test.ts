import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { DEFAULT_RIG } from '../wire/rig.js';
import { EGO, LAYOUTS } from '../wire/layouts.js';
import { DriveSimulator, createSimMessage } from './drive-simulator.js';
import { boxesOverlap } from './geometry.js';
import { loadScenarioFile } from './scenario.js';
import type { Scenario } from './scenario-types.js';
import { GT } from './world.js';
import { SCENARIO_DIR, run, scenarioFrom, sensor, streamHash } from './sim.test-helpers.js';

const load = (name: string): Scenario => loadScenarioFile(join(SCENARIO_DIR, `${name}.yaml`));

/** Whether the ego is scripted to run into something in each shipped scenario (AEB scenarios do). */
const OPEN_LOOP_COLLISION: Record<string, string | undefined> = {
  'highway-following': undefined,
  'cut-in': undefined,
  'stopped-vehicle': 'target',
  'lead-braking': 'lead',
  'pedestrian-crossing': 'pedestrian',
  'urban-clutter': undefined,
  'sensor-dropout': undefined,
};

describe('DriveSimulator on the shipped scenarios', () => {
  it.each(Object.keys(OPEN_LOOP_COLLISION))('%s runs to the end with the rig rates', (name) => {
    const scenario = load(name);
    const sim = new DriveSimulator(scenario, DEFAULT_RIG);
    const frames = new Map<string, number>();
    const records = new Map<string, number>();
    const gt = new Float32Array(scenario.actors.length * GT.stride);
    let last = -1n;
    let actorOverlap = '';
    const started = performance.now();
    run(sim, (m) => {
      expect(m.tNs).toBeGreaterThanOrEqual(last);
      expect(m.tNs).toBeLessThan(sim.durationNs);
      expect(m.payload.byteLength).toBe(m.count * LAYOUTS[m.kind].stride);
      last = m.tNs;
      frames.set(m.sensorId, (frames.get(m.sensorId) ?? 0) + 1);
      records.set(m.sensorId, (records.get(m.sensorId) ?? 0) + m.count);
      // Scripts must keep actors clear of each other (checked at the odometry rate).
      if (m.kind === 'ego' && m.seq % 10 === 0 && !actorOverlap) {
        const n = sim.groundTruth(gt);
        const box = (i: number): number[] =>
          [GT.x, GT.y, GT.yaw, GT.length, GT.width].map((f) => gt[i * GT.stride + f]!);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < i; j++)
            if (boxesOverlap(box(i), box(j)))
              actorOverlap = `${sim.actorIds[i]} & ${sim.actorIds[j]} at ${m.tNs}`;
        }
      }
    });
    const elapsed = performance.now() - started;
    expect(sim.peekNextNs()).toBeUndefined();
    expect(sim.next(createSimMessage())).toBe(false);
    expect(actorOverlap).toBe('');
    for (const cfg of DEFAULT_RIG) {
      const silent = scenario.dropouts
        .filter((d) => d.sensor === cfg.id)
        .reduce((t, d) => t + d.to - d.from, 0);
      const expected = cfg.rateHz * (scenario.duration - silent);
      expect(Math.abs(frames.get(cfg.id)! - expected), cfg.id).toBeLessThanOrEqual(1);
    }
    expect(records.get('lidar_top')! / frames.get('lidar_top')!).toBeGreaterThan(95_000);
    expect(records.get('ego')).toBe(frames.get('ego'));
    expect(records.get('radar_front')! / frames.get('radar_front')!).toBeGreaterThan(1);
    expect(records.get('cam_front')! / frames.get('cam_front')!).toBeGreaterThan(0.3);
    expect(sim.collision?.actorId).toBe(OPEN_LOOP_COLLISION[name]);
    // Timing is logged, never asserted: the machine is shared.
    console.log(`${name}: ${scenario.duration} s of drive in ${elapsed.toFixed(0)} ms`);
  });
});

describe('DriveSimulator', () => {
  it('is deterministic: same scenario and seed give byte-identical messages; another seed differs', () => {
    const s = load('urban-clutter');
    const a = streamHash(s, {}, 1_500_000_000n);
    expect(streamHash(s, {}, 1_500_000_000n)).toBe(a);
    expect(streamHash(s, { seed: 8 }, 1_500_000_000n)).not.toBe(a);
  });

  it("gives each sensor its own noise stream: a sensor's data does not depend on the rest of the rig", () => {
    const s = load('cut-in');
    const frames = (rig: typeof DEFAULT_RIG): string[] => {
      const out: string[] = [];
      run(
        new DriveSimulator(s, rig),
        (m) => {
          if (m.sensorId === 'radar_front') out.push(Buffer.from(m.payload).toString('base64'));
        },
        1_000_000_000n,
      );
      return out;
    };
    expect(frames([sensor('radar_front')])).toEqual(frames(DEFAULT_RIG));
  });

  it('keeps dropped sensors silent over their windows, leaving a gap in seq', () => {
    const s = load('sensor-dropout');
    const seqs = new Map<string, number[]>();
    run(new DriveSimulator(s, DEFAULT_RIG), (m) => {
      const t = Number(m.tNs) / 1e9;
      if (m.sensorId === 'radar_front') expect(t < 5 || t >= 7).toBe(true);
      if (m.sensorId === 'lidar_top') expect(t < 12 || t >= 14).toBe(true);
      const list = seqs.get(m.sensorId) ?? [];
      list.push(m.seq);
      seqs.set(m.sensorId, list);
    });
    const gaps = (id: string): number[] => {
      const l = seqs.get(id)!;
      return l.slice(1).flatMap((q, i) => (q - l[i]! > 1 ? [q - l[i]! - 1] : []));
    };
    expect(gaps('radar_front')).toEqual([40]); // 2 s at 20 Hz
    expect(gaps('lidar_top')).toEqual([20]); // 2 s at 10 Hz
    expect(gaps('radar_fl')).toEqual([]);
  });

  it('peeks the time of the message next() produces', () => {
    const sim = new DriveSimulator(load('lead-braking'), DEFAULT_RIG);
    const m = createSimMessage();
    for (let i = 0; i < 200; i++) {
      const t = sim.peekNextNs();
      expect(sim.next(m)).toBe(true);
      expect(m.tNs).toBe(t);
      expect(sim.nowNs).toBe(t);
    }
  });

  it('reports ground truth in odom and base_link, and refuses a short buffer', () => {
    const sim = new DriveSimulator(load('lead-braking'), [sensor('ego')]);
    const gt = new Float32Array(GT.stride);
    const m = createSimMessage();
    sim.next(m);
    sim.groundTruth(gt, 'base_link');
    // 12 m from the front bumper (x = 3.7) to the lead's rear; its centre is half a car further.
    expect(gt[GT.x]).toBeCloseTo(3.7 + 12 + 2.3, 3);
    expect(gt[GT.y]).toBeCloseTo(0, 5);
    expect(gt[GT.vx]).toBeCloseTo(13.89, 5); // over ground, in base_link axes (as tracks are)
    run(sim, () => {}, 5_000_000_000n);
    sim.groundTruth(gt);
    expect(Array.from(gt.subarray(0, 2))).toEqual([1, 1]);
    expect(gt[GT.vx]).toBe(0); // stopped by 2 + 13.89/6 s
    expect(gt[GT.ax]).toBe(0);
    expect(gt[GT.length]).toBeCloseTo(4.6);
    expect(gt[GT.height]).toBeCloseTo(1.5);
    expect(gt[GT.z]).toBeCloseTo(0.75);
    // Stopping distance: 2 s at 13.89 m/s, then v²/2a.
    expect(gt[GT.x]).toBeCloseTo(3.7 + 12 + 2.3 + 13.89 * 2 + (13.89 * 13.89) / 12, 3);
    expect(() => sim.groundTruth(new Float32Array(5))).toThrow(RangeError);
  });

  it('reports odometry on a curved road: speed, yaw rate v·k/(1 − k·d), and yaw = ∫ yaw rate', () => {
    const s = load('highway-following');
    const sim = new DriveSimulator(s, [sensor('ego')], { ideal: true });
    let lastYaw = 0;
    let lastYawRate = 0;
    let lastX = 0;
    run(sim, (m) => {
      const r = new Float64Array(m.payload.slice().buffer);
      lastYaw = r[EGO.yaw]!;
      lastYawRate = r[EGO.yawRate]!;
      lastX = r[EGO.x]!;
      expect(r[EGO.speed]).toBeCloseTo(27.78, 6);
    });
    const k = 0.0008;
    expect(lastYawRate).toBeCloseTo((27.78 * k) / (1 - k * 0), 8); // ego in the middle lane: d = 0
    expect(lastYaw).toBeCloseTo(k * 27.78 * 19.99, 3);
    expect(lastX).toBeCloseTo(Math.sin(lastYaw) / k, 3);
  });

  it('closes the loop: a commanded brake stops the ego short of the stopped car, null rejoins the script', () => {
    const s = load('stopped-vehicle');
    const sim = new DriveSimulator(s, [sensor('ego'), sensor('radar_front')]);
    const gt = new Float32Array(GT.stride);
    const ego = new Float64Array(6);
    let braking = false;
    let stoppedAt = 0;
    run(
      sim,
      (m) => {
        if (m.kind !== 'radar') return;
        // A minimal AEB on ground truth: brake hard once time-to-collision drops under 1.5 s.
        sim.groundTruth(gt, 'base_link');
        sim.egoState(ego);
        const gap = gt[GT.x]! - gt[GT.length]! / 2 - 3.7;
        if (!braking && ego[3]! > 0 && gap / ego[3]! < 1.5) {
          braking = true;
          sim.setEgoAccelCommand(-9);
        }
        if (braking && ego[3] === 0 && !stoppedAt) stoppedAt = Number(m.tNs) / 1e9;
      },
      10_000_000_000n,
    );
    expect(braking).toBe(true);
    expect(sim.collision).toBeUndefined();
    expect(stoppedAt).toBeGreaterThan(6);
    sim.groundTruth(gt, 'base_link');
    expect(gt[GT.x]! - 2.3 - 3.7).toBeGreaterThan(0.5);
    // Handing back to the script: the ego pulls away toward 50 km/h at no more than 2 m/s².
    sim.setEgoAccelCommand(null);
    const m = createSimMessage();
    let maxAccel = 0;
    while (sim.next(m)) {
      if (m.kind === 'ego')
        maxAccel = Math.max(maxAccel, new Float64Array(m.payload.slice().buffer)[EGO.accel]!);
    }
    sim.egoState(ego);
    expect(ego[3]).toBeGreaterThan(1);
    expect(maxAccel).toBeLessThan(2.3); // 2 m/s² plus odometry noise
  });

  it('rejects a non-finite acceleration command', () => {
    const sim = new DriveSimulator(scenarioFrom('duration: 1\nego: { speed: 1 }'), [sensor('ego')]);
    expect(() => sim.setEgoAccelCommand(Number.NaN)).toThrow(RangeError);
  });
});
