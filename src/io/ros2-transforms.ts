/**
 * Sensor mounts from a ROS 2 bag's static transforms (tf2_msgs/msg/TFMessage on /tf_static): the
 * pose of a sensor frame in the base frame, found through the tree of parent → child transforms,
 * and split into what a smi-fusion mount holds (x, y, z, yaw) and the rest (roll and pitch), which
 * the import applies to the points so that they are in a frame that differs from base_link only
 * by the mount's yaw and position.
 */

export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}

export interface Pose {
  t: [number, number, number];
  q: Quaternion;
}

export interface TransformStamped {
  header: { frame_id: string };
  child_frame_id: string;
  transform: { translation: { x: number; y: number; z: number }; rotation: Quaternion };
}

const mul = (a: Quaternion, b: Quaternion): Quaternion => ({
  w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
  x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
  y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
  z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
});

function normalize(q: Quaternion): Quaternion {
  const n = Math.hypot(q.x, q.y, q.z, q.w) || 1;
  return { x: q.x / n, y: q.y / n, z: q.z / n, w: q.w / n };
}

/** Row-major rotation matrix of a unit quaternion. */
export function rotationMatrix(q: Quaternion): Float64Array {
  const { x, y, z, w } = q;
  return Float64Array.of(
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  );
}

function rotate(q: Quaternion, v: [number, number, number]): [number, number, number] {
  const m = rotationMatrix(q);
  return [
    m[0]! * v[0] + m[1]! * v[1] + m[2]! * v[2],
    m[3]! * v[0] + m[4]! * v[1] + m[5]! * v[2],
    m[6]! * v[0] + m[7]! * v[1] + m[8]! * v[2],
  ];
}

/** The static transform tree: child frame → its parent and pose in the parent. */
export class StaticTransforms {
  private readonly parentOf = new Map<string, { parent: string; pose: Pose }>();

  add(t: TransformStamped): void {
    const r = t.transform;
    this.parentOf.set(t.child_frame_id, {
      parent: t.header.frame_id,
      pose: { t: [r.translation.x, r.translation.y, r.translation.z], q: normalize(r.rotation) },
    });
  }

  get size(): number {
    return this.parentOf.size;
  }

  /** Pose of `frame` in `base`, walking child → parent links; undefined when no chain joins them. */
  lookup(base: string, frame: string): Pose | undefined {
    if (frame === base) return { t: [0, 0, 0], q: { x: 0, y: 0, z: 0, w: 1 } };
    // Chain of poses from `frame` up to `base`: base_T_frame = base_T_a · a_T_b · ... · x_T_frame.
    const chain: Pose[] = [];
    let f = frame;
    for (let hops = 0; hops < 64; hops++) {
      const link = this.parentOf.get(f);
      if (!link) return undefined;
      chain.push(link.pose);
      if (link.parent === base) {
        let pose: Pose = { t: [0, 0, 0], q: { x: 0, y: 0, z: 0, w: 1 } };
        for (let i = chain.length - 1; i >= 0; i--) {
          const c = chain[i]!;
          const moved = rotate(pose.q, c.t);
          pose = {
            t: [pose.t[0] + moved[0], pose.t[1] + moved[1], pose.t[2] + moved[2]],
            q: normalize(mul(pose.q, c.q)),
          };
        }
        return pose;
      }
      f = link.parent;
    }
    return undefined;
  }
}

/** Yaw of a rotation (ZYX Euler), rad. */
export function yawOf(q: Quaternion): number {
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
}

/**
 * Splits a pose into a mount (x, y, z, yaw) and the rotation left once the yaw is taken out
 * (R = Rz(yaw) · rest): `rest` is undefined when it is the identity (within 1e-9).
 */
export function splitMount(p: Pose): {
  mount: { x: number; y: number; z: number; yaw: number };
  rest: Float64Array | undefined;
} {
  const yaw = yawOf(p.q);
  const unyaw: Quaternion = { x: 0, y: 0, z: -Math.sin(yaw / 2), w: Math.cos(yaw / 2) };
  const m = rotationMatrix(normalize(mul(unyaw, p.q)));
  const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1].every((v, i) => Math.abs(m[i]! - v) < 1e-9);
  return { mount: { x: p.t[0], y: p.t[1], z: p.t[2], yaw }, rest: identity ? undefined : m };
}
