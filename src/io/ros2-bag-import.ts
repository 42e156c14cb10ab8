/**
 * Turns a ROS 2 bag (MCAP, CDR messages with ros2msg schemas) into a drive, following a mapping
 * (ros2-mapping.ts): sensor_msgs/msg/PointCloud2 → lidar, nav_msgs/msg/Odometry → ego,
 * vision_msgs/msg/Detection3DArray → objects, tf2_msgs/msg/TFMessage on /tf_static → the
 * sensors' mounts.
 *
 * Two passes over the bag, both with the drive reader (so a truncated or damaged bag is read up to
 * its last good record and the result says where it stopped): the first collects the static
 * transforms, channel types and cloud sizes that the drive's metadata needs up front; the second
 * converts and writes. Every topic that is not mapped is listed once; every message that cannot be
 * converted is counted with its reason; nothing is thrown for bad bag content.
 */
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import {
  defaultChannel,
  defaultPipelineSpec,
  withRig,
  type ChannelSpec,
  type PipelineSpec,
} from '../smi/spec/pipeline-spec.js';
import { OBJECT } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { META } from './drive-format.js';
import { driveMetadata } from './drive-metadata.js';
import { DriveReader, type DriveChannel, type DriveReadResult } from './mcap-drive-reader.js';
import { DriveWriter, type DriveWriterStats } from './mcap-drive-writer.js';
import { encodeWireMessage } from './mcap-wire-message.js';
import type { ChunkCompression } from './zstd-codec.js';
import type { ImportKind, Ros2Mapping, TopicMapping } from './ros2-mapping.js';
import { convertPointCloud2, type PointCloud2 } from './ros2-pointcloud.js';
import { convertDetection3DArray, type Detection3DArray } from './ros2-detections.js';
import {
  StaticTransforms,
  splitMount,
  yawOf,
  type Quaternion,
  type TransformStamped,
} from './ros2-transforms.js';

/** The ROS 2 type each drive kind is made from. */
export const ROS_TYPES: Record<ImportKind | 'tf', string> = {
  lidar: 'sensor_msgs/msg/PointCloud2',
  ego: 'nav_msgs/msg/Odometry',
  objects: 'vision_msgs/msg/Detection3DArray',
  tf: 'tf2_msgs/msg/TFMessage',
};

export interface TopicReport {
  topic: string;
  schemaName: string;
  messageEncoding: string;
  /** Messages of the topic read from the bag (second pass). */
  messages: number;
  mapping?: TopicMapping;
  converted: number;
  /** Messages not converted: reason → count. */
  skipped: Map<string, number>;
  /** Why the whole topic was not converted (unmapped, wrong type, unknown encoding). */
  whyNot?: string;
  /** Kind objects: detector labels no rule knew, converted as class unknown: label → detections. */
  unknownLabels: Map<string, number>;
}

export interface MountReport {
  sensor: string;
  frame: string;
  mount: { x: number; y: number; z: number; yaw: number };
  /** False when /tf_static had no chain from the base frame to `frame` (mount left at 0). */
  found: boolean;
  /** True when the frame is rolled or pitched: the points were rotated into a level frame. */
  levelled: boolean;
}

export interface Ros2ImportResult {
  bag: string;
  out: string;
  topics: TopicReport[];
  /** Mapped topics the bag does not have. */
  missing: string[];
  mounts: MountReport[];
  /** How reading the bag ended (a truncated bag: where it stopped). */
  read: DriveReadResult;
  /** Messages whose stamp is outside the replay window around its log time (ingest would refuse them). */
  outsideStampWindow: number;
  spec: PipelineSpec;
  stats: DriveWriterStats;
  firstLogNs: bigint;
  lastLogNs: bigint;
}

export interface Ros2ImportOptions {
  bag: string;
  out: string;
  mapping: Ros2Mapping;
  compression?: ChunkCompression;
}

interface Time {
  sec: number;
  nanosec: number;
}
const stampNs = (t: Time): bigint => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nanosec);

interface Odometry {
  header: { stamp: Time; frame_id: string };
  pose: { pose: { position: { x: number; y: number; z: number }; orientation: Quaternion } };
  twist: { twist: { linear: { x: number; y: number }; angular: { z: number } } };
}

/** Decoders per bag channel: a CDR reader from its ros2msg schema, or why there is none. */
class ChannelDecoders {
  private readonly byId = new Map<number, MessageReader | string>();

  get(ch: DriveChannel): MessageReader | string {
    let d = this.byId.get(ch.id);
    if (d === undefined) {
      d = this.make(ch);
      this.byId.set(ch.id, d);
    }
    return d;
  }

  private make(ch: DriveChannel): MessageReader | string {
    if (ch.messageEncoding !== 'cdr')
      return `message encoding '${ch.messageEncoding}' is not CDR; a ROS 2 bag stores cdr`;
    if (!ch.schema || ch.schema.encoding !== 'ros2msg')
      return `schema encoding '${ch.schema?.encoding ?? 'none'}' is not supported; allowed: ros2msg`;
    try {
      return new MessageReader(parse(new TextDecoder().decode(ch.schema.data), { ros2: true }));
    } catch (err) {
      return `schema ${ch.schema.name} does not parse: ${(err as Error).message}`;
    }
  }
}

function decode<T>(reader: MessageReader, data: Uint8Array): T | string {
  try {
    return reader.readMessage<T>(data);
  } catch (err) {
    return `message does not decode as its schema: ${(err as Error).message}`;
  }
}

const count = (m: Map<string, number>, reason: string): void => void m.set(reason, (m.get(reason) ?? 0) + 1);

/** What the first pass learns. */
interface Survey {
  channels: Map<string, { schemaName: string; messageEncoding: string }>;
  tf: StaticTransforms;
  /** Per mapped topic: largest cloud (points) or detection list, first frame id, stamps for the rate. */
  topics: Map<string, { maxRecords: number; frame?: string; firstNs: bigint; lastNs: bigint; n: number }>;
}

async function survey(o: Ros2ImportOptions): Promise<Survey> {
  const mapped = new Map(o.mapping.topics.map((t) => [t.topic, t]));
  const s: Survey = { channels: new Map(), tf: new StaticTransforms(), topics: new Map() };
  const decoders = new ChannelDecoders();
  const reader = new DriveReader(o.bag);
  for await (const r of reader.records()) {
    if (r.type !== 'message') continue;
    const ch = r.message.channel;
    if (!s.channels.has(ch.topic))
      s.channels.set(ch.topic, { schemaName: ch.schemaName, messageEncoding: ch.messageEncoding });
    const isTf = ch.topic === o.mapping.tfStatic && ch.schemaName === ROS_TYPES.tf;
    const m = mapped.get(ch.topic);
    if (!isTf && !m) continue;
    const d = decoders.get(ch);
    if (typeof d === 'string') continue;
    if (isTf) {
      const tf = decode<{ transforms: TransformStamped[] }>(d, r.message.data);
      if (typeof tf !== 'string') for (const t of tf.transforms) s.tf.add(t);
      continue;
    }
    const msg = decode<{
      header?: { stamp: Time; frame_id: string };
      width?: number;
      height?: number;
      detections?: unknown[];
    }>(d, r.message.data);
    if (typeof msg === 'string' || !msg.header) continue;
    const t = stampNs(msg.header.stamp);
    const info = s.topics.get(ch.topic) ?? { maxRecords: 0, firstNs: t, lastNs: t, n: 0 };
    info.frame ??= msg.header.frame_id;
    const records =
      m!.kind === 'lidar' ? (msg.width ?? 0) * (msg.height ?? 0) : (msg.detections?.length ?? 0);
    info.maxRecords = Math.max(info.maxRecords, records);
    info.lastNs = t;
    info.n++;
    s.topics.set(ch.topic, info);
  }
  return s;
}

/** The drive's rig and pipeline from the mapping and the survey. */
function rigFrom(
  o: Ros2ImportOptions,
  s: Survey,
): { spec: PipelineSpec; mounts: MountReport[]; rotations: Map<string, Float64Array> } {
  const spec = defaultPipelineSpec();
  spec.name = o.mapping.name;
  spec.origin = `${o.mapping.file} (import of ${o.bag})`;
  spec.sources = [];
  spec.pool.segment = `/smi-fusion-${o.mapping.name}`;
  const mounts: MountReport[] = [];
  const rotations = new Map<string, Float64Array>();
  const sensors: SensorConfig[] = [];
  for (const t of o.mapping.topics) {
    if (!s.channels.has(t.topic)) continue;
    const info = s.topics.get(t.topic);
    const measured =
      info && info.n > 1 && info.lastNs > info.firstNs
        ? ((info.n - 1) * 1e9) / Number(info.lastNs - info.firstNs)
        : undefined;
    const rateHz = t.rateHz ?? (measured ? Math.round(measured * 10) / 10 : t.kind === 'ego' ? 100 : 10);
    let mount = { x: 0, y: 0, z: 0, yaw: 0 };
    if (t.kind !== 'ego') {
      const frame = t.frame ?? info?.frame ?? t.sensor;
      const pose = s.tf.lookup(o.mapping.baseFrame, frame);
      let levelled = false;
      if (pose) {
        const split = splitMount(pose);
        mount = split.mount;
        if (split.rest) {
          rotations.set(t.sensor, split.rest);
          levelled = true;
        }
      }
      mounts.push({ sensor: t.sensor, frame, mount, found: pose !== undefined, levelled });
    }
    sensors.push({
      id: t.sensor,
      kind: t.kind,
      rateHz,
      mount,
      fovDeg: t.fovDeg ?? (t.kind === 'ego' ? 0 : 360),
      rangeM: t.rangeM ?? (t.kind === 'ego' ? 0 : 200),
    });
  }
  // Slots sized for the biggest cloud or detection list in the bag; everything else follows the rig.
  const overrides: Record<string, Partial<ChannelSpec>> = {};
  for (const sensor of sensors) {
    if (sensor.kind === 'ego') continue;
    const most = s.topics.get(o.mapping.topics.find((t) => t.sensor === sensor.id)!.topic)?.maxRecords ?? 0;
    const bytes = most * (sensor.kind === 'lidar' ? 16 : OBJECT.stride * 4);
    const base = defaultChannel(sensor.kind, sensor.rateHz).slotBytes;
    overrides[sensor.id] = { slotBytes: Math.max(base, Math.ceil(bytes / 65536) * 65536) };
  }
  return { spec: withRig(spec, sensors, overrides), mounts, rotations };
}

/** Imports a bag into a drive; resolves with what was converted, skipped and where reading stopped. */
export async function importRos2Bag(o: Ros2ImportOptions): Promise<Ros2ImportResult> {
  const s = await survey(o);
  const { spec, mounts, rotations } = rigFrom(o, s);
  const missing = o.mapping.topics.filter((t) => !s.channels.has(t.topic)).map((t) => t.topic);
  const writer = await DriveWriter.create(
    o.out,
    { sensors: spec.sensors, compression: o.compression },
    driveMetadata({
      producer: 'import',
      spec,
      startNs: 0n,
      clock: 'bag',
      extra: {
        [META.import]: {
          format: 'ros2',
          bag: o.bag,
          mapping: o.mapping.file,
          baseFrame: o.mapping.baseFrame,
          stamps: o.mapping.stamps,
          mounts: JSON.stringify(mounts),
        },
      },
    }),
  );
  const mapped = new Map(o.mapping.topics.map((t) => [t.topic, t]));
  const reports = new Map<string, TopicReport>();
  const decoders = new ChannelDecoders();
  const lastStamp = new Map<string, bigint>();
  const seqs = new Map<string, number>();
  const lastSpeed = new Map<string, { v: number; t: bigint }>();
  const { maxFutureMs, maxAgeMs } = spec.ingest;
  let outsideStampWindow = 0;
  let firstLogNs = -1n;
  let lastLogNs = -1n;
  const reader = new DriveReader(o.bag);
  try {
    for await (const r of reader.records()) {
      if (r.type !== 'message') continue;
      const { channel: ch, data, logTimeNs } = r.message;
      let rep = reports.get(ch.topic);
      if (!rep) {
        const m = mapped.get(ch.topic);
        rep = {
          topic: ch.topic,
          schemaName: ch.schemaName,
          messageEncoding: ch.messageEncoding,
          messages: 0,
          converted: 0,
          skipped: new Map(),
          unknownLabels: new Map(),
          ...(m ? { mapping: m } : {}),
        };
        rep.whyNot = whyNotConverted(rep, m, o.mapping.tfStatic, decoders.get(ch));
        reports.set(ch.topic, rep);
      }
      rep.messages++;
      if (rep.whyNot || !rep.mapping) continue;
      const m = rep.mapping;
      const d = decoders.get(ch) as MessageReader;
      let payload: Uint8Array;
      let records: number;
      let headerStamp: bigint;
      if (m.kind === 'lidar') {
        const msg = decode<PointCloud2>(d, data);
        if (typeof msg === 'string') {
          count(rep.skipped, msg);
          continue;
        }
        const cloud = convertPointCloud2(msg, {
          intensityField: m.intensityField,
          intensityScale: m.intensityScale,
          rotation: rotations.get(m.sensor),
        });
        if (typeof cloud === 'string') {
          count(rep.skipped, cloud);
          continue;
        }
        payload = new Uint8Array(cloud.points.buffer, 0, cloud.count * 16);
        records = cloud.count;
        headerStamp = stampNs(msg.header.stamp);
      } else if (m.kind === 'objects') {
        const msg = decode<Detection3DArray>(d, data);
        if (typeof msg === 'string') {
          count(rep.skipped, msg);
          continue;
        }
        const list = convertDetection3DArray(msg, { classes: m.classes, rotation: rotations.get(m.sensor) });
        if (typeof list === 'string') {
          count(rep.skipped, list);
          continue;
        }
        for (const [label, n] of list.unknownLabels)
          rep.unknownLabels.set(label, (rep.unknownLabels.get(label) ?? 0) + n);
        payload = new Uint8Array(list.records.buffer);
        records = list.count;
        headerStamp = stampNs(msg.header.stamp);
      } else {
        const msg = decode<Odometry>(d, data);
        if (typeof msg === 'string') {
          count(rep.skipped, msg);
          continue;
        }
        headerStamp = stampNs(msg.header.stamp);
        const v = msg.twist.twist.linear.x;
        const prev = lastSpeed.get(m.sensor);
        const dt = prev ? Number(headerStamp - prev.t) / 1e9 : 0;
        const accel = prev && dt > 0 ? (v - prev.v) / dt : 0;
        lastSpeed.set(m.sensor, { v, t: headerStamp });
        const ego = Float64Array.of(
          msg.pose.pose.position.x,
          msg.pose.pose.position.y,
          yawOf(msg.pose.pose.orientation),
          v,
          msg.twist.twist.angular.z,
          accel,
        );
        if (!ego.every(Number.isFinite)) {
          count(rep.skipped, 'Odometry holds NaN or Inf');
          continue;
        }
        payload = new Uint8Array(ego.buffer);
        records = 1;
      }
      const stamp = o.mapping.stamps === 'receive' ? logTimeNs : headerStamp;
      const prevStamp = lastStamp.get(m.sensor);
      if (prevStamp !== undefined && stamp <= prevStamp) {
        count(
          rep.skipped,
          `stamp not after the previous one of this topic (ingest needs strictly increasing stamps)`,
        );
        continue;
      }
      if (stamp > logTimeNs + BigInt(maxFutureMs * 1e6) || stamp < logTimeNs - BigInt(maxAgeMs * 1e6))
        outsideStampWindow++;
      lastStamp.set(m.sensor, stamp);
      const seq = seqs.get(m.sensor) ?? 0;
      seqs.set(m.sensor, seq + 1);
      const header = encodeHeader(makeSensorHeader(m.kind, m.sensor, seq, stamp, records));
      await writer.addWire(sensorTopic(m.kind, m.sensor), encodeWireMessage(header, payload), logTimeNs);
      rep.converted++;
      if (firstLogNs < 0n) firstLogNs = logTimeNs;
      lastLogNs = logTimeNs;
    }
  } catch (err) {
    writer.abandon();
    throw err;
  }
  const read = reader.result ?? { complete: true, fileBytes: 0 };
  const topics = [...reports.values()];
  const stats = await writer.end({
    converted: String(topics.reduce((n, t) => n + t.converted, 0)),
    skipped: JSON.stringify(
      Object.fromEntries(
        topics.filter((t) => t.skipped.size > 0).map((t) => [t.topic, Object.fromEntries(t.skipped)]),
      ),
    ),
    bagComplete: String(read.complete),
    ...(read.complete
      ? {}
      : { bagStoppedAtByte: String(read.stoppedAtByte), bagStopReason: read.reason ?? '' }),
  });
  return {
    bag: o.bag,
    out: o.out,
    topics,
    missing,
    mounts,
    read,
    outsideStampWindow,
    spec,
    stats,
    firstLogNs,
    lastLogNs,
  };
}

/** Why a bag topic is not converted at all, or undefined when it is. */
function whyNotConverted(
  rep: TopicReport,
  m: TopicMapping | undefined,
  tfStatic: string,
  decoder: MessageReader | string,
): string | undefined {
  if (!m) {
    if (rep.topic === tfStatic && rep.schemaName === ROS_TYPES.tf)
      return typeof decoder === 'string' ? decoder : 'read for the mounts';
    return 'not in the mapping';
  }
  if (rep.schemaName !== ROS_TYPES[m.kind])
    return `is ${rep.schemaName || 'schemaless'}; kind ${m.kind} is made from ${ROS_TYPES[m.kind]}`;
  if (typeof decoder === 'string') return decoder;
  return undefined;
}
