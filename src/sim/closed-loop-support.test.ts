import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAMERA, ObjectClass } from '../wire/layouts.js';
import { DEFAULT_RIG } from '../wire/rig.js';
import { boxesOverlap } from './geometry.js';
import { DriveSimulator, GT, createSimMessage } from './drive-simulator.js';
import { protocolGrid } from './protocol-grid.js';
import { loadScenarioFile } from './scenario.js';
import { SCENARIO_DIR, firstFrame, run, scenarioFrom, sensor } from './sim.test-helpers.js';

const EGO_ONLY = [sensor('ego')];
const FALSE_ACTIVATION = ['overtaking', 'parked-cars-curve', 'car-turning-off', 'pedestrian-along-kerb'];

describe('the false-activation scenarios', () => {
  it.each(FALSE_ACTIVATION)('%s keeps its actors clear of each other and of the ego, open loop', (name) => {
    const scenario = loadScenarioFile(join(SCENARIO_DIR, `${name}.yaml`));
    const sim = new DriveSimulator(scenario, EGO_ONLY);
    const gt = new Float32Array(scenario.actors.length * GT.stride);
    const box = (i: number): number[] =>
      [GT.x, GT.y, GT.yaw, GT.length, GT.width].map((f) => gt[i * GT.stride + f]!);
    let overlap = '';
    run(sim, (m) => {
      if (m.seq % 10 !== 0 || overlap) return;
      const n = sim.groundTruth(gt);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < i; j++)
          if (boxesOverlap(box(i), box(j))) overlap = `${sim.actorIds[i]} & ${sim.actorIds[j]} at ${m.tNs}`;
    });
    expect(overlap).toBe('');
    expect(sim.collision).toBeUndefined();
  });
});

describe('the protocol grid', () => {
  it('has the NCAP-like cases, each a valid scenario whose ego meets its target holding its speed', () => {
    const grid = protocolGrid();
    const ids = grid.map((c) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'CCRs-10',
        'CCRs-80',
        'CCRm-30',
        'CCRm-80',
        'CCRb-2-12',
        'CCRb-6-40',
        'CPNA-25-20',
      ]),
    );
    expect(ids).toEqual(
      expect.arrayContaining(['CPNA-25-60', 'CPFA-50-20', 'CPFA-50-60', 'cut-in-30kmh-30m']),
    );
    expect(grid).toHaveLength(8 + 6 + 4 + 5 + 5 + 3);
    // Open loop (the ego holds its speed) every car-to-car and pedestrian case ends in contact
    // with the target: the tests are on a collision course.
    for (const c of grid.filter(
      (g) => g.family !== 'cut-in' && ['CCRs-50', 'CCRb-6-12', 'CPNA-25-40', 'CPFA-50-30'].includes(g.id),
    )) {
      const sim = new DriveSimulator(c.scenario, EGO_ONLY);
      run(sim, () => {});
      expect(sim.collision?.actorIndex, c.id).toBe(0);
    }
    // The pedestrian meets the ego's front where the protocol says: 25 % of its width from the
    // right (CPNA), the middle (CPFA).
    for (const [id, share] of [
      ['CPNA-25-40', 0.25],
      ['CPFA-50-40', 0.5],
    ] as const) {
      const c = grid.find((g) => g.id === id)!;
      const sim = new DriveSimulator(c.scenario, EGO_ONLY);
      const gt = new Float32Array(GT.stride);
      let hit = false;
      run(sim, () => {
        if (!hit && sim.collision) {
          hit = true;
          sim.groundTruth(gt, 'base_link');
        }
      });
      expect(hit, id).toBe(true);
      const fromRight = gt[GT.y]! + 0.95;
      expect(Math.abs(fromRight - share * 1.9), id).toBeLessThan(0.35);
    }
  });
});

describe('DriveSimulator support for the closed loop', () => {
  it('advances the world to a time between messages, never past the next one', () => {
    const s = scenarioFrom(`
duration: 2
ego: { lane: 0, speed: 10 }
actors: [{ id: a, class: car, lane: 0, gap: 30 }]
`);
    const sim = new DriveSimulator(s, EGO_ONLY);
    const m = createSimMessage();
    sim.next(m);
    const next = sim.peekNextNs()!;
    sim.setEgoAccelCommand(-5);
    sim.advanceTo(next - 1_000_000n);
    expect(sim.nowNs).toBe(next - 1_000_000n);
    expect(() => sim.advanceTo(next + 1n)).toThrow(/next message is due at/);
    sim.next(m);
    expect(m.tNs).toBe(next);
  });

  it('tells where the actors will be on their scripts, in the current base_link frame', () => {
    const s = scenarioFrom(`
duration: 10
ego: { lane: 0, speed: 10 }
actors: [{ id: a, class: car, lane: 0, gap: 30, speed: 5, motion: [{ brake: { at: 1, decel: 2.5, to: 0 } }] }]
`);
    const sim = new DriveSimulator(s, EGO_ONLY);
    const now = new Float32Array(GT.stride);
    const later = new Float32Array(GT.stride);
    sim.groundTruth(now, 'base_link');
    sim.futureGroundTruth(later, 3);
    // 5 m/s for 1 s, then braking at 2.5 m/s² to a stop after 2 s: 5 + 5 m further.
    expect(later[GT.x]! - now[GT.x]!).toBeCloseTo(10, 3);
    expect(later[GT.vx]).toBeCloseTo(0, 5);
    // The present state is untouched.
    const again = new Float32Array(GT.stride);
    sim.groundTruth(again, 'base_link');
    expect([...again]).toEqual([...now]);
  });

  it('places guard-rail segments (class barrier) that the lidar sees and smart cameras do not report', () => {
    const s = scenarioFrom(`
duration: 2
ego: { lane: 0, speed: 10 }
actors:
  - { id: rail, class: barrier, lane: 0, gap: 20 }
  - { id: car, class: car, lane: 0, gap: 40 }
`);
    expect(s.actors[0]!.classId).toBe(ObjectClass.unknown);
    expect([s.actors[0]!.length, s.actors[0]!.width]).toEqual([4, 0.3]);
    const { message } = firstFrame(s, 'cam_front', { ideal: true });
    const objs = new Float32Array(
      message.payload.buffer,
      message.payload.byteOffset,
      message.count * CAMERA.stride,
    );
    expect(message.count).toBe(1);
    expect(objs[CAMERA.classId]).toBe(ObjectClass.car);
    const lidar = firstFrame(s, 'lidar_top', { ideal: true }).message;
    const pts = new Float32Array(lidar.payload.buffer, lidar.payload.byteOffset, lidar.count * 4);
    const mount = DEFAULT_RIG.find((r) => r.id === 'lidar_top')!.mount;
    let onRail = 0;
    for (let i = 0; i < lidar.count; i++) {
      const x = pts[i * 4]! + mount.x;
      const z = pts[i * 4 + 2]! + mount.z;
      if (x > 3.7 + 19.9 && x < 3.7 + 24.1 && z > 0.1 && z < 0.8) onRail++;
    }
    expect(onRail).toBeGreaterThan(10);
  });
});
