import { describe, expect, it } from 'vitest';
import { CAMERA, LAYOUTS, OBJECT, RADAR } from './layouts.js';
import { FIELD_RANGES, checkPayload } from './payload-checks.js';

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
    expect(checkPayload('lidar', Float32Array.of(100, -20, 1.5, 0.4), 1)).toBeUndefined();
    expect(checkPayload('ego', Float64Array.of(1200, -30, 7.2, 25, 0.1, -1), 1)).toBeUndefined();
  });

  it('refuses a finite but absurd ego record, naming the field (speed 1e39 is finite in float64)', () => {
    const ego = (over: Partial<Record<number, number>>): Float64Array =>
      Float64Array.from([0, 0, 0, 20, 0, 0].map((v, i) => over[i] ?? v));
    expect(checkPayload('ego', ego({ 3: 1e39 }), 1)).toEqual({
      reason: 'implausible',
      detail: 'record 0: speed 1.000e+39 m/s is outside -30..120 m/s',
    });
    expect(checkPayload('ego', ego({ 4: 9 }), 1)?.detail).toMatch(/yawRate 9 rad\/s is outside -5\.\.5/);
    expect(checkPayload('ego', ego({ 5: -80 }), 1)?.detail).toMatch(/accel -80 m\/s²/);
    expect(checkPayload('ego', ego({ 0: 3e7 }), 1)?.detail).toMatch(/record 0: x 3\.000e\+7 m/);
  });

  it('gives every numeric field of every kind a range, and refuses a value just outside each', () => {
    for (const kind of ['lidar', 'radar', 'camera', 'objects', 'ego'] as const) {
      const layout = LAYOUTS[kind];
      expect(FIELD_RANGES[kind]).toHaveLength(layout.fields.length);
      const good = new (layout.scalar === 'f64' ? Float64Array : Float32Array)(layout.fields.length);
      // a record at the middle of every range (integral where a class is expected)
      FIELD_RANGES[kind].forEach((r, f) => (good[f] = Math.round((r.min + r.max) / 2)));
      if (kind === 'camera') good.set([10, 10, 20, 20], CAMERA.u0);
      expect(checkPayload(kind, good, 1), kind).toBeUndefined();
      FIELD_RANGES[kind].forEach((r, f) => {
        for (const bad of [r.max * 1.01 + 1, r.min - Math.abs(r.min) * 0.01 - 1]) {
          const rec = good.slice();
          rec[f] = bad;
          const name = layout.fields[f]!;
          const got = checkPayload(kind, rec, 1);
          expect(got?.reason, `${kind}.${name} = ${bad}`).toBe(
            name === 'classId' ? 'bad_class' : 'implausible',
          );
          expect(got?.detail, `${kind}.${name}`).toContain(name);
        }
      });
    }
  });

  it('rejects each kind of impossible object with a reason naming the record, field and limit', () => {
    const cases: [Partial<Record<keyof typeof OBJECT, number>>, string, RegExp][] = [
      [{ classId: 7 }, 'bad_class', /object 1: classId 7 is not an integer 0\.\.4/],
      [{ classId: 1.5 }, 'bad_class', /classId 1\.5/],
      [{ score: 1.5 }, 'implausible', /object 1: score 1\.5 is outside 0\.\.1/],
      [{ score: -0.1 }, 'implausible', /score -0\.1/],
      [{ length: -2 }, 'implausible', /object 1: length -2 m is outside 0\.\.50 m/],
      [{ height: 80 }, 'implausible', /height 80 m/],
      [{ x: 3000 }, 'implausible', /object 1: x 3000 m is outside -1000\.\.1000 m/],
      [
        { x: 800, y: 800 },
        'implausible',
        /object 1: centre \(x, y, z\) 1131 m from the sensor is outside 0\.\.1000 m/,
      ],
      [{ varX: -1 }, 'implausible', /object 1: varX -1 m² is outside 0\.\.1\.000e\+6 m²/],
      [{ varX: 1, varY: 1, covXY: 2 }, 'bad_covariance', /covXY/],
      [{ varV: 1, vx: 140, vy: 140 }, 'implausible', /speed \(vx, vy\) 198\.0 m\/s is outside 0\.\.150/],
      [{ vx: 400 }, 'implausible', /vx 400 m\/s is outside -150\.\.150 m\/s/],
      [{ yaw: 40 }, 'implausible', /yaw 40 rad/],
      [{ varYaw: 1e9 }, 'implausible', /varYaw/],
    ];
    for (const [over, reason, detail] of cases) {
      const r = checkPayload('objects', two(object(), object(over)), 2);
      expect(r?.reason, JSON.stringify(over)).toBe(reason);
      expect(r?.detail).toMatch(detail);
    }
    // The speed over both axes is only checked when a velocity is given (varV > 0).
    expect(checkPayload('objects', object({ vx: 140, vy: 140 }), 1)).toBeUndefined();
  });

  it('rejects radar detections with impossible range rates and camera boxes outside any image', () => {
    const radar = (rr: number, range = 40, az = 0): Float32Array => {
      const r = new Float32Array(RADAR.stride);
      r.set([range, az, rr, 10]);
      return r;
    };
    expect(checkPayload('radar', radar(-400), 1)).toEqual({
      reason: 'implausible',
      detail: 'detection 0: rangeRate -400 m/s is outside -150..150 m/s',
    });
    expect(checkPayload('radar', radar(0, -1), 1)?.reason).toBe('implausible');
    expect(checkPayload('radar', radar(0, 40, 4), 1)?.detail).toMatch(/azimuth 4 rad/);
    const cam = (u0: number, v0: number, u1: number, v1: number, conf = 0.8, cls = 1): Float32Array => {
      const r = new Float32Array(CAMERA.stride);
      r.set([cls, conf, u0, v0, u1, v1, 0, 30]);
      return r;
    };
    expect(checkPayload('camera', cam(300, 200, 100, 400), 1)).toEqual({
      reason: 'bad_box',
      detail: 'object 0: box (300, 200)-(100, 400) px must satisfy u0 <= u1 and v0 <= v1',
    });
    expect(checkPayload('camera', cam(-50, 0, 10, 10), 1)?.detail).toMatch(
      /u0 -50 px is outside 0\.\.16384 px/,
    );
    expect(checkPayload('camera', cam(0, 0, 1e6, 10), 1)?.detail).toMatch(/u1 1\.000e\+6 px/);
    expect(checkPayload('camera', cam(0, 0, 10, 10, 2), 1)?.detail).toMatch(/confidence 2 is outside 0\.\.1/);
    expect(checkPayload('camera', cam(0, 0, 10, 10, 0.5, 9), 1)?.reason).toBe('bad_class');
  });
});
