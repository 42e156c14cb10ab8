import { describe, it, expect } from 'vitest';
import { Road } from './road.js';
import { ActorTrajectory, POSE } from './trajectory.js';
import { scenarioFrom } from './sim.test-helpers.js';

const s = scenarioFrom(`
duration: 20
road: { lanes: 3, curvature: 0.004 }
ego: { lane: 1, speed: 20 }
actors:
  - id: changer
    class: car
    lane: 0
    s: 40
    speed: 20
    motion:
      - laneChange: { at: 2, toLane: 2, duration: 4 }
      - brake: { at: 7, decel: 3, to: 5 }
  - { id: oncoming, class: truck, lane: 2, s: 200, speed: 15, oncoming: true }
  - id: walker
    class: pedestrian
    side: left
    s: 60
    motion: [{ cross: { at: 3, speed: 1.5, to: right, distance: 6 } }]
`);
const road = new Road(3, 3.5, 0.004);

describe('ActorTrajectory', () => {
  it('has velocities that match the change of position, on a curved road, through lane changes and braking', () => {
    const a = new Float64Array(POSE.stride);
    const b = new Float64Array(POSE.stride);
    const h = 1e-4;
    for (const actor of s.actors) {
      const tr = new ActorTrajectory(actor, road);
      for (let t = 0.5; t < 15; t += 0.7) {
        tr.pose(t - h, a);
        tr.pose(t + h, b);
        const mid = new Float64Array(POSE.stride);
        tr.pose(t, mid);
        expect(mid[POSE.vx]).toBeCloseTo((b[POSE.x]! - a[POSE.x]!) / (2 * h), 3);
        expect(mid[POSE.vy]).toBeCloseTo((b[POSE.y]! - a[POSE.y]!) / (2 * h), 3);
      }
    }
  });

  it('heads along its motion: oncoming against the road, a walker across it, even while waiting', () => {
    const p = new Float64Array(POSE.stride);
    const [changer, oncoming, walker] = s.actors.map((x) => new ActorTrajectory(x, road));
    changer!.pose(4, p); // mid lane change: heading left of the road
    expect(p[POSE.yaw]! - road.curvature * p[POSE.s]!).toBeGreaterThan(0.05);
    expect(p[POSE.d]).toBeCloseTo(0, 6);
    oncoming!.pose(1, p);
    expect(p[POSE.s]).toBeCloseTo(200 - 15 / (1 - 0.004 * 3.5), 6);
    expect(Math.abs(p[POSE.yaw]! - (road.curvature * p[POSE.s]! - Math.PI))).toBeLessThan(1e-9);
    walker!.pose(0, p);
    expect(p[POSE.yaw]).toBeCloseTo(road.curvature * 60 - Math.PI / 2, 9);
    walker!.pose(10, p);
    expect(p[POSE.d]).toBeCloseTo(5.25 + 0.3 + 0.3 - 6, 9);
  });
});
