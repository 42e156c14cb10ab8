import { describe, expect, it } from 'vitest';
import { CAMERA, OBJECT, RADAR } from './layouts.js';
import { checkPayload } from './payload-checks.js';

/** One objects record: a car 20 m ahead scoring 0.9, with `over` fields replaced. */
function object(over: Partial<Record<keyof typeof OBJECT, number>> = {}): Float32Array {
  const r = new Float32Array(OBJECT.stride);
  r[OBJECT.x] = 20;
  r[OBJECT.length] = 4.5;
  r[OBJECT.width] = 1.8;
  r[OBJECT.height] = 1.5;
  r[OBJECT.classId] = 1;
  r[OBJECT.score] = 0.9;
  for (const [k, v] of Object.entries(over)) r[OBJECT[k as keyof typeof OBJECT]] = v;
  return r;
}

const two = (a: Float32Array, b: Float32Array): Float32Array => {
  const r = new Float32Array(a.length + b.length);
  r.set(a);
  r.set(b, a.length);
  return r;
};

describe('checkPayload', () => {
  it('accepts plausible records, empty lists and every lidar or ego payload', () => {
    expect(
      checkPayload('objects', two(object(), object({ varX: 0.04, varY: 0.09, covXY: 0.05 })), 2),
    ).toBeUndefined();
    expect(checkPayload('objects', new Float32Array(0), 0)).toBeUndefined();
    expect(checkPayload('radar', Float32Array.of(42, 0.1, -3, 10), 1)).toBeUndefined();
    expect(checkPayload('camera', Float32Array.of(1, 0.8, 100, 200, 300, 400, 0.1, 25), 1)).toBeUndefined();
    expect(checkPayload('lidar', Float32Array.of(1e9, 0, 0, 0), 1)).toBeUndefined();
  });

  it('rejects each kind of impossible object with a reason naming the record, field and limit', () => {
    const cases: [Partial<Record<keyof typeof OBJECT, number>>, string, RegExp][] = [
      [{ classId: 7 }, 'bad_class', /object 1: classId 7 is not an integer 0\.\.4/],
      [{ classId: 1.5 }, 'bad_class', /classId 1\.5/],
      [{ score: 1.5 }, 'bad_score', /object 1: score 1\.5 is outside 0\.\.1/],
      [{ score: -0.1 }, 'bad_score', /score -0\.1/],
      [{ length: -2 }, 'bad_size', /object 1: length -2 m is outside 0\.\.50 m/],
      [{ height: 80 }, 'bad_size', /height 80 m/],
      [{ x: 3000 }, 'out_of_range', /object 1: centre 3000 m from the sensor; at most 1000 m/],
      [{ varX: -1 }, 'bad_covariance', /variances must be >= 0/],
      [{ varX: 1, varY: 1, covXY: 2 }, 'bad_covariance', /covXY/],
      [{ varV: 1, vx: 400 }, 'out_of_range', /speed 400\.0 m\/s; at most 150/],
    ];
    for (const [over, reason, detail] of cases) {
      const r = checkPayload('objects', two(object(), object(over)), 2);
      expect(r?.reason, JSON.stringify(over)).toBe(reason);
      expect(r?.detail).toMatch(detail);
    }
    // A velocity is only checked when it is given (varV > 0).
    expect(checkPayload('objects', object({ vx: 400 }), 1)).toBeUndefined();
  });

  it('rejects radar detections with impossible range rates and camera boxes outside any image', () => {
    const radar = (rr: number, range = 40, az = 0): Float32Array => {
      const r = new Float32Array(RADAR.stride);
      r.set([range, az, rr, 10]);
      return r;
    };
    expect(checkPayload('radar', radar(-400), 1)).toEqual({
      reason: 'out_of_range',
      detail: 'detection 0: rangeRate -400 m/s is outside ±150 m/s',
    });
    expect(checkPayload('radar', radar(0, -1), 1)?.reason).toBe('out_of_range');
    expect(checkPayload('radar', radar(0, 40, 4), 1)?.detail).toMatch(/azimuth 4 rad/);
    const cam = (u0: number, v0: number, u1: number, v1: number, conf = 0.8, cls = 1): Float32Array => {
      const r = new Float32Array(CAMERA.stride);
      r.set([cls, conf, u0, v0, u1, v1, 0, 30]);
      return r;
    };
    expect(checkPayload('camera', cam(300, 200, 100, 400), 1)).toEqual({
      reason: 'bad_box',
      detail:
        'object 0: box (300, 200)-(100, 400) px must satisfy 0 <= u0 <= u1 <= 16384 and 0 <= v0 <= v1 <= 16384',
    });
    expect(checkPayload('camera', cam(-50, 0, 10, 10), 1)?.reason).toBe('bad_box');
    expect(checkPayload('camera', cam(0, 0, 1e6, 10), 1)?.reason).toBe('bad_box');
    expect(checkPayload('camera', cam(0, 0, 10, 10, 2), 1)?.reason).toBe('bad_score');
    expect(checkPayload('camera', cam(0, 0, 10, 10, 0.5, 9), 1)?.reason).toBe('bad_class');
  });
});
