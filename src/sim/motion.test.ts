import { describe, it, expect } from 'vitest';
import { LateralProfile, SpeedProfile } from './motion.js';
import { Road } from './road.js';

describe('SpeedProfile', () => {
  it('brakes at the given rate to the target speed, then holds it', () => {
    const p = new SpeedProfile(13.89, [{ at: 2, to: 0, rate: 6 }]);
    const out = new Float64Array(3);
    p.evaluate(1, out);
    expect(out[0]).toBeCloseTo(13.89);
    expect(out[1]).toBeCloseTo(13.89);
    p.evaluate(3, out);
    expect(out[1]).toBeCloseTo(13.89 - 6);
    expect(out[2]).toBe(-6);
    p.evaluate(10, out);
    expect(out[1]).toBe(0);
    // Distance: 2 s cruising plus the braking distance v²/2a.
    expect(out[0]).toBeCloseTo(2 * 13.89 + (13.89 * 13.89) / 12, 6);
  });

  it('lets a later event interrupt a ramp in progress', () => {
    const p = new SpeedProfile(20, [
      { at: 1, to: 0, rate: 2 },
      { at: 3, to: 25, rate: 1 },
    ]);
    expect(p.speedAt(3)).toBeCloseTo(16);
    expect(p.speedAt(5)).toBeCloseTo(18);
    expect(p.speedAt(30)).toBeCloseTo(25);
  });
});

describe('LateralProfile', () => {
  it('changes lane along a minimum-jerk curve with zero lateral speed at both ends', () => {
    const p = new LateralProfile(0, [{ t0: 1, t1: 4, d1: 3.5, smooth: true }]);
    const out = new Float64Array(2);
    p.evaluate(1, out);
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(0);
    p.evaluate(2.5, out);
    expect(out[0]).toBeCloseTo(1.75);
    expect(out[1]).toBeCloseTo((3.5 * 1.875) / 3);
    p.evaluate(4, out);
    expect(out[0]).toBe(3.5);
    expect(out[1]).toBe(0);
  });

  it('walks a crossing at constant speed', () => {
    const p = new LateralProfile(-4, [{ t0: 0, t1: 4, d1: 4, smooth: false }]);
    const out = new Float64Array(2);
    p.evaluate(1, out);
    expect(out[0]).toBeCloseTo(-2);
    expect(out[1]).toBeCloseTo(2);
  });
});

describe('Road', () => {
  it('maps Frenet to world and back on a curved road', () => {
    const road = new Road(3, 3.5, 0.004);
    const out = new Float64Array(3);
    road.toWorld(150, -1.75, out);
    expect(road.stationOf(out[0]!, out[1]!)).toBeCloseTo(150, 6);
    expect(road.lateralOf(out[0]!, out[1]!)).toBeCloseTo(-1.75, 6);
    expect(out[2]).toBeCloseTo(0.6);
    expect(road.laneCentre(0)).toBeCloseTo(-3.5);
    expect(road.laneCentre(2)).toBeCloseTo(3.5);
  });
});
