// A constant-velocity Kalman baseline for KITTI tracking, for side-by-side comparison only (not
// product code): greedy nearest-centre association inside a 4 m gate, detections scoring below
// 1 (raw PointRCNN score) dropped, tracks output once they have 3 hits and only in frames where a
// detection updated them, deleted after 2 frames without one. State per track: position (x, y, z
// in the camera frame), velocity (x, z); box size and heading copied from the last detection.

const Q_POS = 0.1; // m² per frame² of white acceleration, per axis
const R_POS = 0.2; // m² measurement noise per axis
const GATE_M = 4;
const MIN_HITS = 3;
const MIN_SCORE = 1;
const MAX_AGE = 2;

class Track {
  constructor(id, d) {
    this.id = id;
    // State [x, z, vx, vz] (ground plane) and covariance (row-major 4×4).
    this.s = [d.x, d.z, 0, 0];
    this.P = [R_POS, 0, 0, 0, 0, R_POS, 0, 0, 0, 0, 10, 0, 0, 0, 0, 10];
    this.hits = 1;
    this.misses = 0;
    this.det = d;
  }

  predict() {
    const [x, z, vx, vz] = this.s;
    this.s = [x + vx, z + vz, vx, vz];
    // P = F P Fᵀ + Q with F = [[I, I], [0, I]] (one frame).
    const P = this.P;
    const at = (i, j) => P[i * 4 + j];
    const N = new Array(16);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        const fi = (k) => (i < 2 ? at(i, k) + at(i + 2, k) : at(i, k));
        const v = j < 2 ? fi(j) + fi(j + 2) : fi(j);
        N[i * 4 + j] = v;
      }
    N[0] += Q_POS / 4;
    N[5] += Q_POS / 4;
    N[10] += Q_POS;
    N[15] += Q_POS;
    this.P = N;
    this.misses++;
  }

  update(d) {
    // H = [I 0]: S = P[0:2,0:2] + R, K = P[:,0:2] S⁻¹.
    const P = this.P;
    const s00 = P[0] + R_POS;
    const s01 = P[1];
    const s11 = P[5] + R_POS;
    const det = s00 * s11 - s01 * s01;
    const i00 = s11 / det;
    const i01 = -s01 / det;
    const i11 = s00 / det;
    const nu = [d.x - this.s[0], d.z - this.s[1]];
    const K = [];
    for (let i = 0; i < 4; i++) {
      const a = P[i * 4];
      const b = P[i * 4 + 1];
      K.push([a * i00 + b * i01, a * i01 + b * i11]);
    }
    for (let i = 0; i < 4; i++) this.s[i] += K[i][0] * nu[0] + K[i][1] * nu[1];
    const N = new Array(16);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) N[i * 4 + j] = P[i * 4 + j] - K[i][0] * P[j] - K[i][1] * P[4 + j];
    this.P = N;
    this.hits++;
    this.misses = 0;
    this.det = d;
  }
}

/**
 * Runs the baseline over one sequence: `detections` are KittiObject records (camera frame, raw
 * scores). Returns KittiObject results (frame, trackId, box, score).
 */
export function runCvBaseline(detections) {
  const frames = Math.max(-1, ...detections.map((d) => d.frame)) + 1;
  const perFrame = Array.from({ length: frames }, () => []);
  for (const d of detections) if (d.score >= MIN_SCORE) perFrame[d.frame].push(d);
  let tracks = [];
  let nextId = 1;
  const out = [];
  for (let f = 0; f < frames; f++) {
    for (const t of tracks) t.predict();
    const dets = perFrame[f];
    const pairs = [];
    tracks.forEach((t, ti) =>
      dets.forEach((d, di) => {
        const dist = Math.hypot(d.x - t.s[0], d.z - t.s[1]);
        if (dist < GATE_M) pairs.push([dist, ti, di]);
      }),
    );
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    const usedT = new Set();
    const usedD = new Set();
    for (const [, ti, di] of pairs) {
      if (usedT.has(ti) || usedD.has(di)) continue;
      usedT.add(ti);
      usedD.add(di);
      tracks[ti].update(dets[di]);
    }
    dets.forEach((d, di) => {
      if (!usedD.has(di)) tracks.push(new Track(nextId++, d));
    });
    tracks = tracks.filter((t) => t.misses <= MAX_AGE);
    for (const t of tracks) {
      if (t.misses > 0 || t.hits < MIN_HITS) continue;
      const d = t.det;
      out.push({
        ...d,
        frame: f,
        trackId: t.id,
        x: t.s[0],
        z: t.s[1],
        type: 'Car',
        truncated: 0,
        occluded: 0,
      });
    }
  }
  return out;
}
