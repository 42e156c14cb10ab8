/**
 * `smi-fusion import kitti-tracking`: one KITTI tracking sequence (detections, calibration,
 * optional labels and oxts) → one drive. Per frame, at 10 Hz from stamp 0: an ego odometry record
 * (from oxts, or standing still at the origin), the frame's detections as one `objects` message
 * from the sensor `kitti_objects` (frame: see kitti-geometry.ts), and, with labels, ground truth
 * under KITTI's Car rules: scored Cars on `truth/actors`, ignored objects (Vans; Cars truncated
 * beyond `maxTruncation` or occluded beyond `maxOcclusion`) on `truth/ignored`, DontCare image
 * regions on `truth/dontcare`, so that `replay --report` can apply KITTI's rules to the drive.
 */
import { basename } from 'node:path';
import { readFileSync } from 'node:fs';
import { defaultPipelineSpec, withRig, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { GT } from '../wire/ground-truth.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { WIRE_VERSION } from '../wire/header.js';
import { EGO, OBJECT, ObjectClass } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import {
  META,
  TRUTH_DONTCARE_TOPIC,
  TRUTH_IGNORED_TOPIC,
  TRUTH_LAYOUT,
  TRUTH_TOPIC,
} from './drive-format.js';
import { driveMetadata } from './drive-metadata.js';
import { DriveWriter } from './mcap-drive-writer.js';
import { encodeWireMessage } from './mcap-wire-message.js';
import {
  KittiFormatError,
  parseCalibFile,
  parseDetectionFile,
  parseOxtsFile,
  parseTrackingFile,
  type KittiObject,
} from './kitti-format.js';
import { cameraMount, cameraToSensor, oxtsToEgo } from './kitti-geometry.js';

/** Frame period of KITTI tracking sequences, ns (10 Hz). */
export const KITTI_FRAME_NS = 100_000_000n;
export const KITTI_OBJECTS_SENSOR = 'kitti_objects';

/** How detection scores become the 0..1 the wire carries. */
export type ScoreMode = 'auto' | 'logit' | 'probability';

export interface KittiSequenceFiles {
  name: string;
  detections: string;
  calib: string;
  labels?: string;
  oxts?: string;
}

export interface KittiImportOptions {
  /**
   * `logit`: scores are log-odds (PointRCNN's), mapped by 1 / (1 + e^−s); `probability`: already
   * 0..1; `auto` (default): logit when any score lies outside 0..1.
   */
  score?: ScoreMode;
  /** KITTI's Car rules: labels more truncated / occluded than this are ignored (devkit: 0 and 2). */
  maxTruncation?: number;
  maxOcclusion?: number;
}

export interface KittiImportResult {
  frames: number;
  detections: number;
  truth: number;
  ignored: number;
  scoreMode: 'logit' | 'probability';
  bytes: number;
}

const CLASS_OF: Record<string, number> = {
  Car: ObjectClass.car,
  Van: ObjectClass.car,
  Truck: ObjectClass.truck,
  Tram: ObjectClass.truck,
  Pedestrian: ObjectClass.pedestrian,
  Person_sitting: ObjectClass.pedestrian,
  Person: ObjectClass.pedestrian,
  Cyclist: ObjectClass.cyclist,
};

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KittiFormatError(path, 0, `cannot read: ${(err as Error).message}`);
  }
}

/** The pipeline an imported drive records: the object-list sensor at its mount, and odometry. */
export function kittiPipeline(name: string, mount: SensorConfig['mount']): PipelineSpec {
  const spec = withRig(defaultPipelineSpec(), [
    { id: KITTI_OBJECTS_SENSOR, kind: 'objects', rateHz: 10, mount, fovDeg: 120, rangeM: 120 },
    { id: 'ego', kind: 'ego', rateHz: 10, mount: { x: 0, y: 0, z: 0, yaw: 0 }, fovDeg: 0, rangeM: 0 },
  ]);
  spec.name = `kitti-${name}`;
  spec.origin = '(kitti import)';
  spec.sources = [];
  spec.fusion = { maxTracks: 128 };
  spec.pool = { segment: `/smi-fusion-kitti-${name}`, implementation: 'auto' };
  return spec;
}

/** Whether a Car label is beyond KITTI's truncation / occlusion limits for scoring. */
function beyondLimits(o: KittiObject, maxTruncation: number, maxOcclusion: number): boolean {
  return o.truncated > maxTruncation || o.occluded > maxOcclusion;
}

/**
 * One frame's detections as OBJECTS_LAYOUT records in the frame of `kitti_objects`, scores mapped
 * to 0..1 (`logit`: 1 / (1 + e^−s)). No covariance: the tracker's detector noise model applies.
 */
export function detectionRecords(list: readonly KittiObject[], logit: boolean): Float32Array {
  const rec = new Float32Array(list.length * OBJECT.stride);
  list.forEach((d, i) => {
    const b = cameraToSensor(d);
    const o = i * OBJECT.stride;
    rec[o + OBJECT.x] = b.x;
    rec[o + OBJECT.y] = b.y;
    rec[o + OBJECT.z] = b.z;
    rec[o + OBJECT.length] = b.length;
    rec[o + OBJECT.width] = b.width;
    rec[o + OBJECT.height] = b.height;
    rec[o + OBJECT.yaw] = b.yaw;
    rec[o + OBJECT.classId] = CLASS_OF[d.type] ?? ObjectClass.unknown;
    rec[o + OBJECT.score] = logit ? 1 / (1 + Math.exp(-d.score)) : d.score;
  });
  return rec;
}

/** Groups objects by frame. */
function byFrame(objs: readonly KittiObject[]): Map<number, KittiObject[]> {
  const m = new Map<number, KittiObject[]>();
  for (const o of objs) {
    let l = m.get(o.frame);
    if (!l) m.set(o.frame, (l = []));
    l.push(o);
  }
  return m;
}

/** Writes one sequence as a drive at `out`. Throws KittiFormatError naming file and line. */
export async function writeKittiDrive(
  files: KittiSequenceFiles,
  out: string,
  options: KittiImportOptions = {},
): Promise<KittiImportResult> {
  const maxTruncation = options.maxTruncation ?? 0;
  const maxOcclusion = options.maxOcclusion ?? 2;
  const calib = parseCalibFile(read(files.calib), files.calib);
  const detections = parseDetectionFile(read(files.detections), files.detections);
  const labels = files.labels ? parseTrackingFile(read(files.labels), files.labels) : [];
  const oxts = files.oxts ? parseOxtsFile(read(files.oxts), files.oxts) : undefined;
  const wantLogit =
    options.score === 'logit' ||
    ((options.score ?? 'auto') === 'auto' && detections.some((d) => !(d.score >= 0 && d.score <= 1)));
  if (!wantLogit) {
    const bad = detections.findIndex((d) => !(d.score >= 0 && d.score <= 1));
    if (bad >= 0) {
      throw new KittiFormatError(
        files.detections,
        0,
        `score ${detections[bad]!.score} (frame ${detections[bad]!.frame}) is outside 0..1; use --score logit`,
      );
    }
  }
  const unknown = detections.find((d) => CLASS_OF[d.type] === undefined);
  if (unknown)
    throw new KittiFormatError(files.detections, 0, `type '${unknown.type}' has no smi-fusion class`);
  const lastFrame = Math.max(-1, ...detections.map((d) => d.frame), ...labels.map((l) => l.frame));
  const frames = oxts ? Math.max(lastFrame + 1, oxts.length) : lastFrame + 1;
  if (oxts && oxts.length < lastFrame + 1) {
    throw new KittiFormatError(
      files.oxts!,
      oxts.length,
      `${oxts.length} oxts records for ${lastFrame + 1} frames`,
    );
  }
  const mount = cameraMount(calib);
  const spec = kittiPipeline(files.name, mount);
  const writer = await DriveWriter.create(
    out,
    { sensors: spec.sensors },
    driveMetadata({
      producer: 'import',
      spec,
      startNs: 0n,
      clock: 'scenario',
      extra: {
        [META.kitti]: {
          sequence: files.name,
          detections: basename(files.detections),
          labels: files.labels ? basename(files.labels) : 'none',
          oxts: files.oxts ? basename(files.oxts) : 'none',
          calib: basename(files.calib),
          score: wantLogit ? 'logit' : 'probability',
          P2: JSON.stringify(Array.from(calib.P2)),
          mount: JSON.stringify(mount),
          frameNs: KITTI_FRAME_NS.toString(),
          frames: String(frames),
          class: 'Car',
          maxTruncation: String(maxTruncation),
          maxOcclusion: String(maxOcclusion),
        },
      },
    }),
  );
  const det = byFrame(detections);
  const lab = byFrame(labels);
  const egos = oxts ? oxtsToEgo(oxts) : [];
  const egoTopic = sensorTopic('ego', 'ego');
  const objTopic = sensorTopic('objects', KITTI_OBJECTS_SENSOR);
  const still = new Float64Array(EGO.stride);
  let nDet = 0;
  let nTruth = 0;
  let nIgnored = 0;
  try {
    for (let f = 0; f < frames; f++) {
      const stamp = BigInt(f) * KITTI_FRAME_NS;
      const ego = egos[f] ?? still;
      await writer.addWire(
        egoTopic,
        encodeWireMessage(
          encodeHeader(makeSensorHeader('ego', 'ego', f, stamp, 1)),
          new Uint8Array(ego.buffer, ego.byteOffset, 48),
        ),
        stamp,
      );
      const list = det.get(f) ?? [];
      const rec = detectionRecords(list, wantLogit);
      nDet += list.length;
      await writer.addWire(
        objTopic,
        encodeWireMessage(
          encodeHeader(makeSensorHeader('objects', KITTI_OBJECTS_SENSOR, f, stamp, list.length)),
          new Uint8Array(rec.buffer),
        ),
        stamp,
      );
      if (labels.length === 0) continue;
      const scored: KittiObject[] = [];
      const ignored: KittiObject[] = [];
      const dontCare: number[] = [];
      for (const l of lab.get(f) ?? []) {
        if (l.type === 'DontCare') dontCare.push(l.x1, l.y1, l.x2, l.y2);
        else if (l.type === 'Car' && !beyondLimits(l, maxTruncation, maxOcclusion)) scored.push(l);
        else if (l.type === 'Car' || l.type === 'Van') ignored.push(l);
      }
      const regions = Float32Array.from(dontCare);
      await writer.addWire(
        TRUTH_DONTCARE_TOPIC,
        encodeWireMessage(
          encodeHeader({
            v: WIRE_VERSION,
            kind: 'dontcare',
            seq: f,
            stampNs: stamp,
            fields: ['x1', 'y1', 'x2', 'y2'],
            stride: 16,
            count: dontCare.length / 4,
          }),
          new Uint8Array(regions.buffer),
        ),
        stamp,
      );
      nTruth += scored.length;
      nIgnored += ignored.length;
      await writeTruth(writer, TRUTH_TOPIC, f, stamp, scored, mount);
      await writeTruth(writer, TRUTH_IGNORED_TOPIC, f, stamp, ignored, mount);
    }
    const stats = await writer.end({ frames: String(frames), dropped: '0' });
    return {
      frames,
      detections: nDet,
      truth: nTruth,
      ignored: nIgnored,
      scoreMode: wantLogit ? 'logit' : 'probability',
      bytes: stats.bytes,
    };
  } catch (err) {
    writer.abandon();
    throw err;
  }
}

/** Labels of one frame as TRUTH_LAYOUT records in base_link (no velocities: KITTI gives none). */
async function writeTruth(
  writer: DriveWriter,
  topic: string,
  frame: number,
  stamp: bigint,
  objs: readonly KittiObject[],
  mount: SensorConfig['mount'],
): Promise<void> {
  const rec = new Float32Array(objs.length * GT.stride);
  const c = Math.cos(mount.yaw);
  const s = Math.sin(mount.yaw);
  objs.forEach((l, i) => {
    const b = cameraToSensor(l);
    const o = i * GT.stride;
    rec[o + GT.id] = l.trackId;
    rec[o + GT.classId] = CLASS_OF[l.type] ?? ObjectClass.unknown;
    rec[o + GT.x] = mount.x + c * b.x - s * b.y;
    rec[o + GT.y] = mount.y + s * b.x + c * b.y;
    rec[o + GT.z] = mount.z + b.z;
    rec[o + GT.yaw] = b.yaw + mount.yaw;
    rec[o + GT.length] = b.length;
    rec[o + GT.width] = b.width;
    rec[o + GT.height] = b.height;
  });
  const header = encodeHeader({
    v: WIRE_VERSION,
    kind: 'truth',
    seq: frame,
    stampNs: stamp,
    frame: 'base_link',
    fields: TRUTH_LAYOUT.fields,
    stride: TRUTH_LAYOUT.stride,
    count: objs.length,
  });
  await writer.addWire(topic, encodeWireMessage(header, new Uint8Array(rec.buffer)), stamp);
}
