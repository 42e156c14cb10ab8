/**
 * vision_msgs/msg/Detection3DArray (vision_msgs 4.x, ROS 2 Humble and later) → OBJECTS_LAYOUT
 * records in the message's frame. Per detection: the box centre, size and heading of `bbox`; the
 * class and score of its most likely hypothesis; the centre and heading variances of that
 * hypothesis' pose covariance when it gives them. Detection3D carries no velocity: `vx, vy, varV`
 * stay 0 (the tracker estimates velocity).
 */
import { OBJECT, ObjectClass, type ObjectClassName } from '../wire/layouts.js';
import { yawOf, type Quaternion } from './ros2-transforms.js';

interface Vec3 {
  x: number;
  y: number;
  z: number;
}
interface Pose {
  position: Vec3;
  orientation: Quaternion;
}

export interface Detection3DArray {
  header: { stamp: { sec: number; nanosec: number }; frame_id: string };
  detections: {
    results: {
      hypothesis: { class_id: string; score: number };
      pose: { pose: Pose; covariance: number[] };
    }[];
    bbox: { center: Pose; size: Vec3 };
  }[];
}

/**
 * Detector labels read as classes without a mapping: KITTI, COCO, nuScenes (by each dot-separated
 * part, so `vehicle.bus.rigid` is a truck), Waymo and Autoware names. Case does not matter.
 */
const LABELS: Readonly<Record<string, ObjectClassName>> = {
  car: 'car',
  van: 'car',
  vehicle: 'car',
  truck: 'truck',
  bus: 'truck',
  trailer: 'truck',
  construction_vehicle: 'truck',
  pedestrian: 'pedestrian',
  person: 'pedestrian',
  person_sitting: 'pedestrian',
  human: 'pedestrian',
  cyclist: 'cyclist',
  bicycle: 'cyclist',
  bicyclist: 'cyclist',
  motorcycle: 'cyclist',
  motorcyclist: 'cyclist',
  motorbike: 'cyclist',
  unknown: 'unknown',
};

/** The class of a detector label (the mapping's `classes` first), or undefined when unknown. */
export function classOfLabel(
  label: string,
  classes: Readonly<Record<string, ObjectClassName>> = {},
): number | undefined {
  const own = classes[label];
  if (own !== undefined) return ObjectClass[own];
  const lower = label.toLowerCase();
  const direct = LABELS[lower];
  if (direct !== undefined) return ObjectClass[direct];
  // nuScenes-style names: the most specific part that is known wins (human.pedestrian.adult).
  const parts = lower.split('.');
  for (let i = parts.length - 1; i >= 0; i--) {
    const c = LABELS[parts[i]!];
    if (c !== undefined) return ObjectClass[c];
  }
  return undefined;
}

export interface DetectionConversion {
  records: Float32Array;
  count: number;
  /** Labels that no rule knew, read as class unknown: label → detections. */
  unknownLabels: Map<string, number>;
}

export interface DetectionOptions {
  /** Label → class, ahead of the built-in names (the mapping's `classes`). */
  classes?: Readonly<Record<string, ObjectClassName>>;
  /** Row-major 3×3 rotation into the levelled sensor frame (a rolled or pitched mount); undefined = none. */
  rotation?: Float64Array;
}

/** Converts one message; a string says why it cannot be (ingest would refuse the result). */
export function convertDetection3DArray(
  msg: Detection3DArray,
  o: DetectionOptions = {},
): DetectionConversion | string {
  const n = msg.detections.length;
  const rec = new Float32Array(n * OBJECT.stride);
  const unknownLabels = new Map<string, number>();
  const r = o.rotation;
  for (let i = 0; i < n; i++) {
    const d = msg.detections[i]!;
    let best = -1;
    for (let h = 0; h < d.results.length; h++) {
      if (best < 0 || d.results[h]!.hypothesis.score > d.results[best]!.hypothesis.score) best = h;
    }
    const hyp = best >= 0 ? d.results[best]! : undefined;
    // A detector that gives no hypothesis still says something is there.
    const score = hyp ? hyp.hypothesis.score : 1;
    if (!(score >= 0 && score <= 1))
      return `detection ${i}: score ${score} is outside 0..1 (vision_msgs scores are probabilities)`;
    let classId: number = ObjectClass.unknown;
    if (hyp) {
      const c = classOfLabel(hyp.hypothesis.class_id, o.classes);
      if (c === undefined) {
        const label = hyp.hypothesis.class_id;
        unknownLabels.set(label, (unknownLabels.get(label) ?? 0) + 1);
      } else classId = c;
    }
    const p = d.bbox.center.position;
    let yaw = yawOf(d.bbox.center.orientation);
    let { x, y, z } = p;
    if (r) {
      const hx = Math.cos(yaw);
      const hy = Math.sin(yaw);
      [x, y, z] = [
        r[0]! * p.x + r[1]! * p.y + r[2]! * p.z,
        r[3]! * p.x + r[4]! * p.y + r[5]! * p.z,
        r[6]! * p.x + r[7]! * p.y + r[8]! * p.z,
      ];
      yaw = Math.atan2(r[3]! * hx + r[4]! * hy, r[0]! * hx + r[1]! * hy);
    }
    const o0 = i * OBJECT.stride;
    rec[o0 + OBJECT.x] = x;
    rec[o0 + OBJECT.y] = y;
    rec[o0 + OBJECT.z] = z;
    rec[o0 + OBJECT.length] = d.bbox.size.x;
    rec[o0 + OBJECT.width] = d.bbox.size.y;
    rec[o0 + OBJECT.height] = d.bbox.size.z;
    rec[o0 + OBJECT.yaw] = yaw;
    rec[o0 + OBJECT.classId] = classId;
    rec[o0 + OBJECT.score] = score;
    // PoseWithCovariance: row-major 6×6 over x, y, z, roll, pitch, yaw; all zero = not given.
    const c = hyp?.pose.covariance;
    if (c && c.length === 36 && (c[0]! > 0 || c[7]! > 0)) {
      rec[o0 + OBJECT.varX] = c[0]!;
      rec[o0 + OBJECT.covXY] = c[1]!;
      rec[o0 + OBJECT.varY] = c[7]!;
      rec[o0 + OBJECT.varYaw] = Math.max(0, c[35]!);
    }
    for (let k = 0; k < OBJECT.stride; k++) {
      if (!Number.isFinite(rec[o0 + k]!))
        return `detection ${i} holds NaN or Inf (or a value beyond float32)`;
    }
  }
  return { records: rec, count: n, unknownLabels };
}
