/**
 * Foxglove-viewable messages derived from our own: schemas (from @foxglove/schemas) and encoders.
 * Point clouds are CDR-encoded `foxglove_msgs/msg/PointCloud` so the lidar's raw bytes go in
 * unchanged (same x, y, z, intensity float32 layout; JSON would need base64); the small messages
 * (transforms, scene updates) are JSON against Foxglove's JSON schemas.
 */
import { FrameTransform, FrameTransforms, SceneUpdate } from '@foxglove/schemas/jsonschema.js';
import { foxgloveMessageSchemas, generateRosMsgMergedSchema } from '@foxglove/schemas/internal.js';
import type { SensorConfig } from '../wire/rig.js';
import { LIDAR_LAYOUT, PLAN_POINT, TRACK } from '../wire/layouts.js';
import { GT } from '../wire/ground-truth.js';

/** An MCAP schema plus the message encoding of channels that use it. */
export interface FoxgloveSchema {
  name: string;
  encoding: string;
  data: Uint8Array;
  messageEncoding: string;
}

const text = new TextEncoder();

/** A time as Foxglove's JSON schemas spell it. */
const TIME_SCHEMA = {
  type: 'object',
  properties: { sec: { type: 'integer', minimum: 0 }, nsec: { type: 'integer', minimum: 0 } },
};

function jsonSchema(name: string, schema: object): FoxgloveSchema {
  return { name, encoding: 'jsonschema', data: text.encode(JSON.stringify(schema)), messageEncoding: 'json' };
}

/** The Foxglove schemas a drive uses, by role. */
export const FOXGLOVE_SCHEMAS = {
  pointCloud: {
    name: 'foxglove_msgs/msg/PointCloud',
    encoding: 'ros2msg',
    data: text.encode(generateRosMsgMergedSchema(foxgloveMessageSchemas.PointCloud, { rosVersion: 2 })),
    messageEncoding: 'cdr',
  },
  frameTransform: jsonSchema('foxglove.FrameTransform', FrameTransform),
  frameTransforms: jsonSchema('foxglove.FrameTransforms', FrameTransforms),
  sceneUpdate: jsonSchema('foxglove.SceneUpdate', SceneUpdate),
  planStatus: jsonSchema('smi_fusion.PlanStatus', {
    title: 'smi_fusion.PlanStatus',
    description: "The header fields of a plan published on out/plan (README, 'Outputs')",
    type: 'object',
    properties: {
      timestamp: TIME_SCHEMA,
      seq: { type: 'integer' },
      decision: { type: 'string', description: 'cruise, follow, brake or aeb' },
      lead_id: { type: 'integer', description: 'track id of the lead, -1 for none' },
      target_accel: { type: 'number', description: 'commanded acceleration, m/s²' },
      ttc: { type: 'number', description: 'time to collision with the lead, s (see Outputs)' },
      trajectory_points: { type: 'integer' },
    },
  }),
  stageLatency: jsonSchema('smi_fusion.StageLatency', {
    title: 'smi_fusion.StageLatency',
    description:
      "Per-stage latencies (README, 'Latencies'), ms: fusion and e2e of the message just published, ingest, handoff and sync as means over the last second",
    type: 'object',
    properties: {
      timestamp: TIME_SCHEMA,
      ingest_ms: { type: 'number' },
      handoff_ms: { type: 'number' },
      sync_ms: { type: 'number' },
      fusion_ms: { type: 'number' },
      e2e_ms: { type: 'number' },
    },
  }),
} satisfies Record<string, FoxgloveSchema>;

/** foxglove.PackedElementField type of float32. */
const FLOAT32 = 7;
/** CDR encapsulation header: plain CDR, little-endian. */
const CDR_LE = [0x00, 0x01, 0x00, 0x00];

/** Bytes of the CDR PointCloud before `data`, for a frame id of `frameBytes` bytes. */
function pointCloudPrefixBytes(frameBytes: number): number {
  // Offsets count from after the 4-byte encapsulation header (CDR alignment is relative to it).
  let o = 8; // timestamp: int32 sec, uint32 nanosec
  o += 4 + frameBytes + 1; // frame_id: length, bytes, NUL
  o = align(o, 8) + 7 * 8; // pose: position xyz + orientation xyzw, float64
  o += 4; // point_stride
  o += 4; // fields: count
  for (const f of LIDAR_LAYOUT.fields) {
    o = align(o, 4) + 4 + f.length + 1; // name
    o = align(o, 4) + 4 + 1; // offset (uint32), type (uint8)
  }
  o = align(o, 4) + 4; // data: length
  return 4 + o;
}

const align = (o: number, n: number): number => (o + n - 1) & ~(n - 1);

/**
 * A `foxglove_msgs/msg/PointCloud` in CDR over a lidar payload in our layout (x, y, z, intensity
 * float32, stride 16), in the lidar's frame at `stampNs`. One allocation and one copy of the
 * points; nothing per point.
 */
export function encodePointCloud(frameId: string, stampNs: bigint, points: Uint8Array): Uint8Array {
  const frame = text.encode(frameId);
  const prefix = pointCloudPrefixBytes(frame.byteLength);
  const out = new Uint8Array(prefix + points.byteLength);
  const v = new DataView(out.buffer);
  out.set(CDR_LE, 0);
  let o = 0; // relative to the body, after the encapsulation header
  const at = (n: number) => 4 + n;
  v.setInt32(at(0), Number(stampNs / 1_000_000_000n), true);
  v.setUint32(at(4), Number(stampNs % 1_000_000_000n), true);
  o = 8;
  v.setUint32(at(o), frame.byteLength + 1, true);
  out.set(frame, at(o + 4));
  o += 4 + frame.byteLength + 1;
  o = align(o, 8);
  // pose: identity (points are in the lidar frame); orientation w = 1.
  for (let k = 0; k < 6; k++) v.setFloat64(at(o + k * 8), 0, true);
  v.setFloat64(at(o + 48), 1, true);
  o += 56;
  v.setUint32(at(o), LIDAR_LAYOUT.stride, true);
  o += 4;
  v.setUint32(at(o), LIDAR_LAYOUT.fields.length, true);
  o += 4;
  LIDAR_LAYOUT.fields.forEach((name, i) => {
    o = align(o, 4);
    v.setUint32(at(o), name.length + 1, true);
    out.set(text.encode(name), at(o + 4));
    o += 4 + name.length + 1;
    o = align(o, 4);
    v.setUint32(at(o), i * 4, true);
    v.setUint8(at(o + 4), FLOAT32);
    o += 5;
  });
  o = align(o, 4);
  v.setUint32(at(o), points.byteLength, true);
  out.set(points, at(o + 4));
  return out;
}

interface Time {
  sec: number;
  nsec: number;
}

const timeOf = (ns: bigint): Time => ({
  sec: Number(ns / 1_000_000_000n),
  nsec: Number(ns % 1_000_000_000n),
});

const yawQuaternion = (yaw: number) => ({ x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) });

function transform(
  stampNs: bigint,
  parent: string,
  child: string,
  x: number,
  y: number,
  z: number,
  yaw: number,
) {
  return {
    timestamp: timeOf(stampNs),
    parent_frame_id: parent,
    child_frame_id: child,
    translation: { x, y, z },
    rotation: yawQuaternion(yaw),
  };
}

/** foxglove.FrameTransforms (JSON): base_link → every sensor's frame, from its mount. */
export function calibrationTransforms(stampNs: bigint, sensors: readonly SensorConfig[]): Uint8Array {
  const transforms = sensors
    .filter((s) => s.kind !== 'ego')
    .map((s) => transform(stampNs, 'base_link', s.id, s.mount.x, s.mount.y, s.mount.z, s.mount.yaw));
  return text.encode(JSON.stringify({ transforms }));
}

/** foxglove.FrameTransform (JSON): odom → base_link from an ego record (x, y, yaw). */
export function odometryTransform(stampNs: bigint, x: number, y: number, yaw: number): Uint8Array {
  return text.encode(JSON.stringify(transform(stampNs, 'odom', 'base_link', x, y, 0, yaw)));
}

/** Box colours per object class (unknown, car, truck, pedestrian, cyclist). */
const CLASS_COLOR = [
  { r: 0.6, g: 0.6, b: 0.6 },
  { r: 0.2, g: 0.5, b: 1.0 },
  { r: 1.0, g: 0.6, b: 0.1 },
  { r: 1.0, g: 0.2, b: 0.2 },
  { r: 0.2, g: 0.9, b: 0.3 },
];
/** Box heights for tracks, which have none (m). */
const CLASS_HEIGHT = [1.5, 1.5, 3.8, 1.8, 1.75];

interface Box {
  x: number;
  y: number;
  z: number;
  yaw: number;
  length: number;
  width: number;
  height: number;
  classId: number;
  label: string;
}

/** Extra primitives of a scene entity beyond its boxes. */
interface ScenePrimitives {
  lines?: object[];
  texts?: object[];
}

/** A foxglove.SceneUpdate (JSON) replacing entity `entityId` with one cube and label per box. */
function sceneUpdate(
  stampNs: bigint,
  entityId: string,
  boxes: Box[],
  alpha: number,
  extra: ScenePrimitives = {},
): Uint8Array {
  const stamp = timeOf(stampNs);
  const color = (c: number) => ({ ...(CLASS_COLOR[c] ?? CLASS_COLOR[0]!), a: alpha });
  const entity = {
    timestamp: stamp,
    frame_id: 'base_link',
    id: entityId,
    lifetime: { sec: 0, nsec: 0 },
    frame_locked: false,
    metadata: [],
    arrows: [],
    cubes: boxes.map((b) => ({
      pose: { position: { x: b.x, y: b.y, z: b.z }, orientation: yawQuaternion(b.yaw) },
      size: { x: b.length, y: b.width, z: b.height },
      color: color(b.classId),
    })),
    spheres: [],
    cylinders: [],
    lines: extra.lines ?? [],
    triangles: [],
    texts: [
      ...(extra.texts ?? []),
      ...boxes.map((b) => ({
        pose: { position: { x: b.x, y: b.y, z: b.z + b.height / 2 + 0.3 }, orientation: yawQuaternion(0) },
        billboard: true,
        font_size: 14,
        scale_invariant: true,
        color: { r: 1, g: 1, b: 1, a: 1 },
        text: b.label,
      })),
    ],
    models: [],
  };
  return text.encode(JSON.stringify({ deletions: [], entities: [entity] }));
}

/** foxglove.SceneUpdate of a tracks payload (TRACKS layout, `count` records). */
export function tracksScene(stampNs: bigint, tracks: Float32Array, count: number): Uint8Array {
  const boxes: Box[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * TRACK.stride;
    const classId = Math.round(tracks[o + TRACK.classId]!);
    const height = CLASS_HEIGHT[classId] ?? 1.5;
    boxes.push({
      x: tracks[o + TRACK.x]!,
      y: tracks[o + TRACK.y]!,
      z: height / 2,
      yaw: tracks[o + TRACK.yaw]!,
      length: tracks[o + TRACK.length]!,
      width: tracks[o + TRACK.width]!,
      height,
      classId,
      label: `#${tracks[o + TRACK.id]!} ${Math.hypot(tracks[o + TRACK.vx]!, tracks[o + TRACK.vy]!).toFixed(1)} m/s`,
    });
  }
  return sceneUpdate(stampNs, 'tracks', boxes, 0.6);
}

/** foxglove.SceneUpdate of a ground-truth payload (TRUTH layout, `count` records). */
export function groundTruthScene(stampNs: bigint, truth: Float32Array, count: number): Uint8Array {
  const boxes: Box[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * GT.stride;
    boxes.push({
      x: truth[o + GT.x]!,
      y: truth[o + GT.y]!,
      z: truth[o + GT.z]!,
      yaw: truth[o + GT.yaw]!,
      length: truth[o + GT.length]!,
      width: truth[o + GT.width]!,
      height: truth[o + GT.height]!,
      classId: Math.round(truth[o + GT.classId]!),
      label: `truth ${truth[o + GT.id]!}`,
    });
  }
  return sceneUpdate(stampNs, 'ground_truth', boxes, 0.25);
}

/** Line colours per plan decision (cruise, follow, brake, aeb). */
const DECISION_COLOR: Record<string, { r: number; g: number; b: number }> = {
  cruise: { r: 0.3, g: 0.9, b: 0.3 },
  follow: { r: 0.3, g: 0.7, b: 1.0 },
  brake: { r: 1.0, g: 0.7, b: 0.1 },
  aeb: { r: 1.0, g: 0.1, b: 0.1 },
};

/** What a plan header says, as the plan views need it. */
export interface PlanSummary {
  seq: number;
  decision: string;
  leadId: number;
  targetAccel: number;
  ttc: number;
}

/**
 * foxglove.SceneUpdate (JSON) of a plan: its trajectory (PLAN layout t, x, y, v in base_link) as a
 * line strip on the ground, coloured by decision, and a label with decision, lead and TTC.
 */
export function planScene(
  stampNs: bigint,
  plan: PlanSummary,
  trajectory: Float32Array,
  count: number,
): Uint8Array {
  const points: { x: number; y: number; z: number }[] = [];
  for (let i = 0; i < count; i++) {
    points.push({
      x: trajectory[i * PLAN_POINT.stride + PLAN_POINT.x]!,
      y: trajectory[i * PLAN_POINT.stride + PLAN_POINT.y]!,
      z: 0.05,
    });
  }
  const color = { ...(DECISION_COLOR[plan.decision] ?? DECISION_COLOR.cruise!), a: 1 };
  const identity = { position: { x: 0, y: 0, z: 0 }, orientation: yawQuaternion(0) };
  const label = `${plan.decision}${plan.leadId >= 0 ? ` lead #${plan.leadId}` : ''} a=${plan.targetAccel.toFixed(2)}${plan.ttc >= 0 ? ` ttc ${plan.ttc.toFixed(1)} s` : ''}`;
  return sceneUpdate(stampNs, 'plan', [], 1, {
    lines: [
      {
        type: 0,
        pose: identity,
        thickness: 0.3,
        scale_invariant: false,
        points,
        color,
        colors: [],
        indices: [],
      },
    ],
    texts: [
      {
        pose: { position: { x: 0, y: 0, z: 2.5 }, orientation: yawQuaternion(0) },
        billboard: true,
        font_size: 16,
        scale_invariant: true,
        color,
        text: label,
      },
    ],
  });
}

/** smi_fusion.PlanStatus (JSON): the plan header's fields, for Foxglove's Plot and Raw Messages panels. */
export function planStatus(stampNs: bigint, plan: PlanSummary, points: number): Uint8Array {
  return text.encode(
    JSON.stringify({
      timestamp: timeOf(stampNs),
      seq: plan.seq,
      decision: plan.decision,
      lead_id: plan.leadId,
      target_accel: plan.targetAccel,
      ttc: plan.ttc,
      trajectory_points: points,
    }),
  );
}

/** Per-stage latencies in ms; a stage without a figure is left out. */
export interface StageLatencies {
  ingest?: number;
  handoff?: number;
  sync?: number;
  fusion?: number;
  e2e?: number;
}

/** smi_fusion.StageLatency (JSON). */
export function stageLatency(stampNs: bigint, l: StageLatencies): Uint8Array {
  const out: Record<string, unknown> = { timestamp: timeOf(stampNs) };
  for (const [k, v] of Object.entries(l)) if (v !== undefined && Number.isFinite(v)) out[`${k}_ms`] = v;
  return text.encode(JSON.stringify(out));
}

/** A float32 view of a payload, copying only when it is not 4-byte aligned. */
export function float32View(payload: Uint8Array): Float32Array {
  if (payload.byteOffset % 4 === 0)
    return new Float32Array(payload.buffer, payload.byteOffset, payload.byteLength >> 2);
  return new Float32Array(payload.slice().buffer);
}
